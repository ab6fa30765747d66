"""Parses streamed JSON lines into records and spots cuts (a marker line, a torn last line)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ..catalog.spec import OperationSpec
from ..core.jsondepth import check_depth
from ..errors import ERROR_RESET, ClientError, JSONTooDeep, TransportError
from ..prepare.request import HTTPRequest
from ..send.response import RawResponse
from ..send.transport import StreamedResponse

__all__ = ["QUOTE_CHARS", "cut_check", "raise_on_cut_marker", "read_records"]

#: How much of an unparsable line an error quotes.
QUOTE_CHARS = 200

#: Every byte but the opening brackets and the newline (deleted to count brackets per line).
_NOT_OPENING = bytes(set(range(256)) - set(b"[{\n"))


def read_records(
    response: StreamedResponse, markers: tuple[bytes, ...], where: str
) -> Iterator[Any]:
    """Parse each line as it arrives; a cut marker or a torn last line raises TransportError.

    `where` (e.g. " for 2024-01-01..2024-01-30") places the answer in error messages. A line
    is assembled from its pieces once (linear time), and one longer than the answer's
    `max_line_bytes`, or nested deeper than its `max_depth`, is a ClientError.

    A chunk whose lines each open at most `max_depth` brackets (a bound on a line's depth from
    above: brackets inside strings only add to it) needs no further depth check; in any other
    chunk, each line with that many brackets is checked on its own.
    """
    request, limits, loads = response.request, response.limits, orjson.loads
    longest, deepest = limits.max_line_bytes, limits.max_depth
    pending: list[bytes] = []
    held = opened = number = 0  # `opened`: the opening brackets of the pending pieces
    for chunk in response.chunks():
        lines = chunk.split(b"\n")
        opens = chunk.translate(None, _NOT_OPENING).split(b"\n")
        bound = opened + max(map(len, opens))  # no line here opens more brackets
        if len(lines) > 1 and pending:
            lines[0] = b"".join([*pending, lines[0]])
            pending, held, opened = [], 0, 0
            if len(lines[0]) > longest:
                _too_long(request, number + 1, longest, where)
        tail = lines.pop()
        # a line inside one chunk is no longer than the chunk: measured only in a long chunk
        measure = len(chunk) > longest
        if bound > deepest or measure:  # a line may nest too deep or be too long
            yield from _each(request, lines, number, markers, where, deepest, longest, measure)
            number += len(lines)
        else:
            for line in lines:
                number += 1
                try:
                    record = loads(line)
                except orjson.JSONDecodeError:
                    _not_parsed(request, line, number, markers, where, deepest, last=False)
                    continue
                yield record
        if tail:
            pending.append(tail)
            held += len(tail)
            opened += len(opens[-1])
            if held > longest:
                _too_long(request, number + 1, longest, where)
    if pending:
        last = b"".join(pending)
        if last.strip():
            try:
                record = loads(last)
            except orjson.JSONDecodeError:
                _not_parsed(request, last, number + 1, markers, where, deepest, last=True)
            _check_depth(request, last, number + 1, where, deepest)
            yield record


def _each(
    request: HTTPRequest,
    lines: list[bytes],
    number: int,
    markers: tuple[bytes, ...],
    where: str,
    deepest: int,
    longest: int,
    measure: bool,
) -> Iterator[Any]:
    """The records of a chunk's lines (after line `number`), each line checked on its own."""
    loads = orjson.loads
    # a line this short cannot nest deeper; a longer one is counted (two byte counts, in C)
    # and only one with that many brackets is scanned
    short = 2 * deepest
    for line in lines:
        number += 1
        if measure and len(line) > longest:
            _too_long(request, number, longest, where)
        try:
            record = loads(line)
        except orjson.JSONDecodeError:
            _not_parsed(request, line, number, markers, where, deepest, last=False)
            continue
        if len(line) > short and line.count(b"[") + line.count(b"{") > deepest:
            _check_depth(request, line, number, where, deepest)
        yield record


def _not_parsed(
    request: HTTPRequest,
    line: bytes,
    number: int,
    markers: tuple[bytes, ...],
    where: str,
    deepest: int,
    *,
    last: bool,
) -> None:
    """A line the parser refused: too deep (ClientError), a cut, bad data; blank is skipped."""
    _check_depth(request, line, number, where, deepest)
    if line.strip():
        _not_a_record(request, line, number, markers, where, last=last)


def _check_depth(request: HTTPRequest, line: bytes, number: int, where: str, deepest: int) -> None:
    if len(line) > 2 * deepest:  # shorter lines cannot nest deeper
        try:
            check_depth(line, deepest, f"line {number} of the answer{where}")
        except JSONTooDeep as exc:
            raise ClientError(
                f"{request.action}: {exc} (response.reads.max_depth)", request=request
            ) from None


def _too_long(request: HTTPRequest, number: int, limit: int, where: str) -> None:
    raise ClientError(
        f"{request.action}: line {number} of the answer{where} is longer than {limit} bytes "
        "(response.reads.max_line_bytes); refused",
        request=request,
    )


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
