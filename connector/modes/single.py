"""The single mode: one request per call (or per page), its parsed answer, or its items."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..call import Call
from ..catalog.spec import OperationSpec
from ..core.paths import records_at
from ..parse.jsonlines import cut_check
from .record_stream import StreamStats

__all__ = ["items_of", "iter_items", "send_once"]


def send_once(
    call: Call, values: Mapping[str, Any] | None = None, stats: StreamStats | None = None
) -> Any:
    """Render the call (with `values`, a page's, when given), send it, return the answer.

    A streamed action's answer that ends with a cut marker fails the attempt, as a dropped
    connection does, and is retried; it is never parsed as data. `stats.requests` counts the
    attempts.
    """
    request, header = call.render(values)
    tries = [0]
    try:
        return call.send(request, header, check=cut_check(call.op), attempts=tries)
    finally:
        if stats is not None:
            stats.requests += tries[0]


def iter_items(call: Call, stats: StreamStats | None = None) -> Iterator[Any]:
    """The records of the call's one answer (see `items_of`); `stats` counts its requests."""
    return items_of(call.op, lambda: send_once(call, stats=stats))


def items_of(op: OperationSpec, answer: Callable[[], Any]) -> Iterator[Any]:
    """The records of one answer, asked when iterated: a page's, a list's items, else itself."""
    data = answer()
    if op.paging:
        yield from records_at(data, op.paging["records"])
    elif isinstance(data, list):
        yield from data
    else:
        yield data
