"""Parses streamed JSON lines into records and spots cuts (a marker line, a torn last line)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ..catalog.spec import OperationSpec
from ..errors import ERROR_RESET, ClientError, TransportError
from ..prepare.request import HTTPRequest
from ..send.response import RawResponse
from ..send.transport import StreamedResponse

__all__ = ["QUOTE_CHARS", "cut_check", "raise_on_cut_marker", "read_records"]

#: How much of an unparsable line an error quotes.
QUOTE_CHARS = 200


def read_records(
    response: StreamedResponse, markers: tuple[bytes, ...], where: str
) -> Iterator[Any]:
    """Parse each line as it arrives; a cut marker or a torn last line raises TransportError.

    `where` (e.g. " for 2024-01-01..2024-01-30") places the answer in error messages.
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
