"""Parses streamed JSON lines into records, keys records for de-duplication, spots cuts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any

import orjson

from ..catalog.spec import OperationSpec
from ..core.paths import dotted, lookup
from ..errors import ERROR_RESET, ClientError, TransportError
from ..prepare.request import HTTPRequest
from ..send.response import RawResponse
from ..send.transport import StreamedResponse

__all__ = ["QUOTE_CHARS", "cut_check", "raise_on_cut_marker", "read_records", "record_key"]

#: How much of an unparsable line an error quotes.
QUOTE_CHARS = 200


def record_key(paths: list[str]) -> Callable[[Any], int]:
    """A function hashing the values at dotted `paths` of a record (missing parts are None).

    With no paths, the whole record is the key. Records that have every path, one or two
    levels deep, take a fast path of C-level lookups; the others walk the paths one by one.
    """
    if not paths:
        return lambda record: _hash_json(record)
    split = [dotted(path) for path in paths]

    def walk(record: Any) -> int:
        parts = [lookup(record, path) for path in split]
        try:
            return hash(tuple(parts))
        except TypeError:  # a dict or list among the values
            return _hash_json(parts)

    if any(len(path) > 2 for path in split):
        return walk
    top = (
        itemgetter(*[p[0] for p in split if len(p) == 1])
        if any(len(p) == 1 for p in split)
        else None
    )
    nested: dict[str, list[str]] = {}
    for path in split:
        if len(path) == 2:
            nested.setdefault(path[0], []).append(path[1])
    inner = [(parent, itemgetter(*names)) for parent, names in nested.items()]

    if top is not None and len(inner) == 1:  # e.g. an event name and its properties
        parent, getter = inner[0]

        def pair(record: Any) -> int:
            try:
                return hash((getter(record[parent]), top(record)))
            except (KeyError, TypeError, IndexError):
                return walk(record)

        return pair

    def fast(record: Any) -> int:
        try:
            found = [getter(record[parent]) for parent, getter in inner]
            if top is not None:
                found.append(top(record))
            return hash(tuple(found))
        except (KeyError, TypeError, IndexError):
            return walk(record)

    return fast


def _hash_json(value: Any) -> int:
    return hash(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


def read_records(
    response: StreamedResponse, markers: tuple[bytes, ...], where: str
) -> Iterator[Any]:
    """Parse each line as it arrives; a cut marker or a torn last line raises TransportError.

    `where` (e.g. " on 2024-01-31") places the answer in error messages.
    """
    pending = b""
    number = 0
    for chunk in response.chunks():
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                if line.strip():
                    _not_a_record(response.request, line, number, markers, where, last=False)
    if pending.strip():
        try:
            yield orjson.loads(pending)
        except orjson.JSONDecodeError:
            _not_a_record(response.request, pending, number + 1, markers, where, last=True)


def cut_check(op: OperationSpec) -> Callable[[HTTPRequest, RawResponse], None] | None:
    """For a streamed action's whole answers (`run`): the check for its cut markers, or None."""
    if not (op.stream and op.stream.get("cut_markers")):
        return None
    return lambda request, response: raise_on_cut_marker(op, request, response)


def raise_on_cut_marker(op: OperationSpec, request: HTTPRequest, response: RawResponse) -> None:
    """For `run`: raise TransportError when a 2xx answer ends with a cut marker.

    The call is then retried like a dropped connection, never parsed as data.
    """
    markers = op.stream.get("cut_markers") if op.stream else None
    if not markers or not 200 <= response.status < 300:
        return
    last = response.content.rstrip().rsplit(b"\n", 1)[-1]
    if last[:1] != b"{" and any(m.encode() in last for m in markers):
        lines = response.content.count(b"\n")
        _not_a_record(request, last, lines + 1, tuple(m.encode() for m in markers), "", last=True)


def _not_a_record(
    request: HTTPRequest,
    line: bytes,
    number: int,
    markers: tuple[bytes, ...],
    where: str,
    *,
    last: bool,
) -> None:
    """Raise for a line that is not JSON: a cut (marker, or a torn last line) or bad data."""
    text = line.decode("utf-8", "replace").strip()
    shown = text[:QUOTE_CHARS] + ("…" if len(text) > QUOTE_CHARS else "")
    if any(marker in line for marker in markers):
        message = f"{request.action}: the server stopped the answer{where} early ({shown!r})"
    elif last:
        message = f"{request.action}: the answer{where} ended inside line {number}"
    else:
        raise ClientError(
            f"{request.action}: line {number} of the answer{where} is not JSON: {shown!r}",
            request=request,
        )
    raise TransportError(message, request=request, kind=ERROR_RESET, sent=True)
