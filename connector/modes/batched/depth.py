"""How deep a record's objects and arrays nest: brackets counted on its JSON, then a walk."""

from __future__ import annotations

from typing import Any

from ...core.jsonenc import Part

__all__ = ["count_brackets", "count_part_brackets", "too_deep"]


def too_deep(value: Any, allowed: int) -> bool:
    """True when objects or arrays nest more than `allowed` levels inside `value`'s values."""
    children = value.values() if isinstance(value, dict) else value
    for child in children:
        if type(child) is dict or type(child) is list:
            if allowed == 0 or too_deep(child, allowed - 1):
                return True
    return False


def count_brackets(data: bytes) -> int:
    """How many objects and arrays open in `data` (JSON text).

    `in` finds a byte with memchr, far faster than count's byte-by-byte loop, and most records
    hold no array at all: then only the braces need counting.
    """
    return data.count(b"{") + (data.count(b"[") if b"[" in data else 0)


def count_part_brackets(part: Part) -> int:
    """`count_brackets` of a part; a view of an array's inside counts its array less the `[`."""
    if type(part) is memoryview and type(part.obj) is bytes:
        whole = part.obj
        arrays = whole.count(b"[") - 1 if whole.find(b"[", 1) != -1 else 0
        return whole.count(b"{") + arrays
    return count_brackets(bytes(part))
