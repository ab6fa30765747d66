"""Reading values as forms and templates give them: true/false, numbers, empty, near misses."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})


def is_missing(value: Any) -> bool:
    """True for None and "": a field, or a template, that produced nothing (it is dropped)."""
    return value is None or (isinstance(value, str) and value == "")


def is_empty(value: Any) -> bool:
    """A form field left empty: missing, blank text, or an empty list or mapping."""
    if is_missing(value):
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, list | dict) and not value


#: How much of a value a message quotes.
SHOWN_CHARS = 60


def show(value: Any) -> str:
    """`value` as messages quote it: its repr, cut to about SHOWN_CHARS characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def parse_bool(value: Any) -> bool | None:
    """None when missing; a bool, 0/1, or a true/false word; anything else is a ValueError."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_WORDS or text in FALSE_WORDS:
            return text in TRUE_WORDS
    raise ValueError(
        f"expected true or false, got {show(value)} (true, yes, on, 1 / false, no, off, 0)"
    )


def parse_int(value: Any) -> int | None:
    """None when missing; a whole number from an int, an integral float or such text."""
    if is_missing(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number.is_integer():
            return int(number)
    raise ValueError(f"expected a whole number such as 7, got {show(value)}")


def closest(word: str, options: Iterable[str], n: int = 1) -> list[str]:
    """Up to `n` of `options` that look like `word` (for "did you mean" hints), best first."""
    return difflib.get_close_matches(word, list(options), n=n, cutoff=0.6)
