"""JSON nesting bounded in linear time: a check of text before it is parsed, and of a stream.

Parsers recurse (or keep a prefix per level), so JSON nested deeper than `MAX_JSON_DEPTH` is
refused before any parser sees it, with a `JSONTooDeep` naming where (`[0].properties.a…`).
Strings are cut out with one regular expression and the brackets counted in runs, so the
check costs a few C passes over the text, and nothing at all for text with few brackets.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import JSONTooDeep

__all__ = ["MAX_JSON_DEPTH", "DepthGuard", "check_depth", "depth_path", "loads_bounded"]

#: The deepest nesting of objects and arrays read anywhere, unless a spec says otherwise.
MAX_JSON_DEPTH = 100

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_RUNS = re.compile(rb"\[+|\]+")
_NORMAL = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"\s*:?|[\[\]{},]', re.S)
#: How much of a path a message shows at each end.
_PATH_ENDS = 60


def _as_bytes(data: bytes | bytearray | str) -> bytes:
    return data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)


class DepthGuard:
    """Follows the nesting of JSON fed in pieces (a stream); `feed` is True once too deep."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, data: bytes) -> bool:
        """Take the next piece; True when the nesting passed `limit` in it."""
        start = 0
        if self._in_string:
            if self._escaped and data:
                start, self._escaped = 1, False
            found = _STRING_REST.match(data, start)
            if found is None:
                self._escaped = _odd_backslashes(data) if len(data) > start else self._escaped
                return False
            start, self._in_string = found.end(), False
        rest = _STRING.sub(b"", data[start:] if start else data)
        quote = rest.find(b'"')
        if quote >= 0:  # a string that continues in the next piece
            rest = rest[:quote]
            self._in_string = True
            self._escaped = _odd_backslashes(data)
        return self._count(rest)

    def _count(self, rest: bytes) -> bool:
        brackets = rest.translate(_NORMAL, _NOT_BRACKETS)
        if not brackets:
            return False
        if self.depth + brackets.count(b"[") <= self.limit:
            self.depth += brackets.count(b"[") - brackets.count(b"]")
            return False
        depth = self.depth
        for run in _RUNS.finditer(brackets):
            size = run.end() - run.start()
            if brackets[run.start()] == 0x5B:  # "["
                depth += size
                if depth > self.limit:
                    self.depth = depth
                    return True
            else:
                depth -= size
        self.depth = depth
        return False


def _odd_backslashes(data: bytes) -> bool:
    return (len(data) - len(data.rstrip(b"\\"))) % 2 == 1


def check_depth(
    data: bytes | bytearray | str, limit: int = MAX_JSON_DEPTH, where: str = ""
) -> None:
    """Raise JSONTooDeep when `data` (JSON text) nests objects and arrays deeper than `limit`.

    Text with at most `limit` opening brackets is let through after two byte counts.
    """
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= limit:
            return
    elif data.count(b"[") + data.count(b"{") <= limit:
        return
    raw = _as_bytes(data)
    if DepthGuard(limit).feed(raw):
        raise JSONTooDeep(where, limit, depth_path(raw, limit))


def loads_bounded(
    text: bytes | bytearray | str, limit: int = MAX_JSON_DEPTH, where: str = ""
) -> Any:
    """`json.loads` of `text` once its nesting is checked (JSONTooDeep, never RecursionError)."""
    check_depth(text, limit, where)
    return json.loads(text)


def depth_path(data: bytes, limit: int) -> str:
    """The path (`[0].a[2]…`) of the first value nested deeper than `limit`, shortened."""
    steps: list[list[Any]] = []  # per open level: [kind, index or key]
    key: Any = None
    for token in _TOKEN.finditer(data):
        text = token.group()
        head = text[:1]
        if head == b'"':
            if text.endswith(b":"):
                key = _key(text)
            continue
        if head in (b"[", b"{"):
            if steps:
                steps[-1][1] = key if steps[-1][0] == "{" else steps[-1][1]
            steps.append([head.decode(), 0 if head == b"[" else None])
            if len(steps) > limit:
                return _shown(steps)
        elif head == b"," and steps and steps[-1][0] == "[":
            steps[-1][1] += 1
        elif head in (b"]", b"}") and steps:
            steps.pop()
    return ""


def _key(token: bytes) -> str:
    body = token.rstrip(b": \t\r\n")
    try:
        return str(json.loads(body))
    except ValueError:
        return body.decode("utf-8", "replace")[1:-1]


def _shown(steps: list[list[Any]]) -> str:
    parts = []
    for kind, at in steps[:-1]:
        parts.append(f"[{at}]" if kind == "[" else f".{at}" if at is not None else ".?")
    path = "".join(parts).lstrip(".")
    if len(path) > 2 * _PATH_ENDS:
        path = path[:_PATH_ENDS] + "…" + path[-_PATH_ENDS:]
    return path
