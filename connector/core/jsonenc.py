"""Compact JSON as requests carry it: text for forms and templates, bytes for bodies."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["EncodedList", "Part", "joined_json", "json_bytes", "json_text"]


#: The JSON of one or more consecutive items: bytes, or a view of the inside of an encoded array.
Part = bytes | memoryview


class EncodedList(list[Any]):
    """A list whose compact JSON is already known, in `parts` (joined by commas, bracketed).

    Batched actions encode each record once to measure it; bodies reuse those bytes.
    """

    def __init__(self, items: list[Any], parts: list[Part]) -> None:
        super().__init__(items)
        self.parts = parts  # each the JSON of one or more consecutive items, comma-separated

    def json_bytes(self) -> bytes:
        """The whole list's compact JSON (without a copy when it was encoded in one piece)."""
        return joined_json(self.parts)


def joined_json(parts: list[Part]) -> bytes:
    """`[` + the parts joined by commas + `]`; a view of a whole array gives that array back."""
    if len(parts) == 1 and type(parts[0]) is memoryview:
        whole = parts[0].obj
        if type(whole) is bytes and len(whole) == len(parts[0]) + 2:
            return whole
    return b"[" + b",".join(parts) + b"]"


def json_text(value: Any) -> str:
    """Compact JSON text (no spaces, non-ASCII kept), as forms, query strings and lines carry it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes of a body: orjson (several times faster), else `json_text`."""
    if type(value) is EncodedList:
        return value.json_bytes()
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json_text(value).encode()
