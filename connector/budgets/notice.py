"""The one-line notice of a rate-budget wait: which budget, for how long, where it is shared."""

from __future__ import annotations

from .limits import NOTICE_AFTER_S, SHORT_WINDOWS, RateLimit, allowed_in, format_duration

__all__ = [
    "NOTICE_AFTER_S",
    "SHORT_WINDOWS",
    "PYTHON_ADVICE",
    "wait_notice",
    "where_shared",
    "whose",
]

#: How a Python caller changes a wait or where budgets are kept (the CLI says it with flags).
PYTHON_ADVICE = (
    "pass rate_wait_s=SECONDS (to load_component, run or iter) to wait for it, "
    "budgets='memory' to keep budgets to this process"
)


def where_shared(url: str | None) -> str:
    """`url` (password already masked) as a phrase; the in-process budgets when None."""
    if not url:
        return "kept in this process only"
    return f"shared through {url}"


def whose(limit: RateLimit, advice: str = "") -> str:
    """Whose budget it is, and how to change it, in a sentence or two.

    "This client keeps this budget itself, for Mixpanel's documented limits; the server
    refused nothing. ADVICE."
    """
    basis = limit.basis or "the limits its specs declare"
    sentence = f"This client keeps this budget itself, for {basis}; the server refused nothing"
    return f"{sentence}. {advice[:1].upper()}{advice[1:]}." if advice else f"{sentence}."


def wait_notice(
    limit: RateLimit, key: str, window: str, wait_s: float | None, where: str | None
) -> str:
    """The notice of one wait, in one sentence.

    E.g. `Raw Export API budget of 60 queries per hour for project 7 is used up: waiting
    12 min 3 s for it to free up (budget shared through sqlite:///…/budgets.sqlite3)`.
    """
    who = f"{limit.scope} {key}" if limit.scope else key
    if window == "concurrency":
        what = f"{limit.max_concurrent} concurrent {limit.unit}"
        wait = "waiting for a running call to finish"
    else:
        what = f"{allowed_in(limit, window)} {limit.unit} per {window}"
        wait = f"waiting {format_duration(wait_s or 0.0)} for it to free up"
    return (
        f"{limit.display_name} budget of {what} for {who} is used up: {wait} "
        f"(budget {where_shared(where)})"
    )
