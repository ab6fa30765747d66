"""Reads caller inputs as low-code forms send them: text, numbers, booleans, JSON, lists.

Each coercer returns the value read, or raises ValueError saying what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..core.jsondepth import loads_bounded
from ..core.values import parse_bool, parse_int, show

__all__ = ["COERCERS", "JSON_TYPES", "as_json"]

_T = TypeVar("_T")


def _present(parse: Callable[[Any], _T | None], value: Any, expected: str) -> _T:
    """A shared parser's reading of a value that must be there (its ValueError says why not)."""
    parsed = parse(value)
    if parsed is None:
        raise ValueError(f"expected {expected}, got nothing")
    return parsed


def _as_integer(value: Any) -> int:
    return _present(parse_int, value, "a whole number such as 7")


def _as_number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            if number == number and number not in (float("inf"), float("-inf")):
                return int(number) if number.is_integer() and "." not in value else number
    raise ValueError(f"expected a number such as 2.5, got {show(value)}")


def _as_boolean(value: Any) -> bool:
    return _present(parse_bool, value, "true or false")


def as_json(value: Any) -> Any:
    """JSON text parsed (anything else is kept); broken JSON says where it breaks."""
    if not isinstance(value, str):
        return value
    try:
        return loads_bounded(value)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def _as_json_or_text(value: Any) -> Any:
    """JSON text is parsed; NDJSON and non-JSON text stay text; broken JSON is an error."""
    if not isinstance(value, str):
        return value
    try:
        return loads_bounded(value)
    except json.JSONDecodeError:
        if not value.lstrip().startswith(("{", "[")):
            return value
    for line in value.splitlines():
        if line.strip():
            as_json(line)  # raises on the first line that is not JSON
    return value


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = as_json(text)
        else:
            return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        items = list(value)
        if all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items):
            return [str(v).strip() for v in items if str(v).strip()]
    raise ValueError(f"expected a list of text values, got {show(value)}")


def _as_key_values(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            value = as_json(text)
        else:
            pairs: dict[str, str] = {}
            for line in text.splitlines():
                if not line.strip():
                    continue
                key, sep, item = line.partition(":")
                if not sep or not key.strip():
                    raise ValueError(f"expected 'Key: Value' lines, got {show(line)}")
                pairs[key.strip()] = item.strip()
            return pairs
    if isinstance(value, Mapping):
        return {str(k): _scalar_text(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(v, Mapping) and "key" in v for v in value):
        return {str(v["key"]): _scalar_text(v.get("value", "")) for v in value}
    raise ValueError(f"expected a list of {{key, value}} pairs, got {show(value)}")


def _scalar_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"expected text, got {show(value)}")


COERCERS = {
    "string": _as_string,
    "password": _as_string,
    "integer": _as_integer,
    "number": _as_number,
    "boolean": _as_boolean,
    "json": as_json,
    "json_or_text": _as_json_or_text,
    "list": _as_list,
    "key_value_list": _as_key_values,
}

JSON_TYPES = {
    "string": "string",
    "password": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "list": "array",
    "key_value_list": "object",
}
