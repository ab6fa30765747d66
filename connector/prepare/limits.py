"""An API's documented limits, declared in an operation's `limits:` and checked before sending."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..catalog.spec import OperationSpec
from ..core.values import is_missing
from ..errors import InputProblem

__all__ = ["limit_problems"]


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None  # the input's own check reports a malformed date


def _whose(limit: Mapping[str, Any]) -> str:
    return str(limit.get("source") or "the API")


def _date_range(op: OperationSpec, limit: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    first, last = _date(values.get(limit["input"])), _date(values.get(limit["to"]))
    if first is None or last is None:
        return ""
    to = op.input(limit["to"])
    if first > last:
        return f"{first} is after {to.describe()} {last}; the date range must run forward."
    days = (last - first).days + 1
    most = limit.get("max_days")
    if most is not None and days > int(most):
        return (
            f"the range to {to.describe()} spans {days:,} days; {_whose(limit)} accepts at most "
            f"{int(most):,} days in one request. Shorten the range or split it."
        )
    return ""


def _items(limit: Mapping[str, Any], value: Any) -> str:
    most = int(limit["max_items"])
    if not isinstance(value, list | tuple) or len(value) <= most:
        return ""
    return (
        f"has {len(value):,} items; {_whose(limit)} accepts at most {most:,} in one request. "
        "Split them over several runs."
    )


def _number(limit: Mapping[str, Any], value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    low, high = limit.get("min"), limit.get("max")
    if low is not None and value < low:
        return f"is {value:g}; {_whose(limit)} accepts {low:g} at least."
    if high is not None and value > high:
        return f"is {value:g}; {_whose(limit)} accepts at most {high:g}."
    return ""


def limit_problems(op: OperationSpec, values: Mapping[str, Any]) -> list[InputProblem]:
    """Each declared limit the checked `values` pass, as a problem naming the input and limit.

    A limit on an input left empty is not checked (its required flag or rules say whether it
    may be empty).
    """
    problems = []
    for limit in op.limits:
        value = values.get(limit["input"])
        if is_missing(value):
            continue
        if "to" in limit:
            message = _date_range(op, limit, values)
        elif "max_items" in limit:
            message = _items(limit, value)
        else:
            message = _number(limit, value)
        if message:
            spec = op.input(limit["input"])
            problems.append(InputProblem(spec.key, spec.label, message))
    return problems
