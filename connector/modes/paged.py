"""The paged mode: walks every page of an action as its spec's `paging:` section declares."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..call import Call
from ..catalog.spec import OperationSpec
from ..core.paths import records_at, with_path
from ..core.templates import as_bool, evaluate, render_value
from ..errors import ClientError
from .record_stream import StreamStats
from .single import send_once

__all__ = [
    "DEFAULT_MAX_PAGES",
    "collect_pages",
    "iter_pages",
    "paging_enabled",
    "records_at",
]

#: Pages one walk may take when the spec sets no `max_pages`.
DEFAULT_MAX_PAGES = 10_000


def paging_enabled(op: OperationSpec, values: Mapping[str, Any]) -> bool:
    """The spec's `paging.enabled` expression over the (validated) inputs."""
    flag = evaluate(op.paging["enabled"], dict(values), action=op.key, field="paging.enabled")
    return as_bool(flag)


def iter_pages(call: Call, stats: StreamStats | None = None) -> Iterator[Any]:
    """Yield the records of every page; each page is one call within the action's budget.

    `stats.requests` counts the requests sent.
    """
    for body in _pages(call, stats):
        yield from records_at(body, call.op.paging["records"])


def collect_pages(call: Call) -> Any:
    """`run`'s result: one page, or (paging enabled) the last answer with every page's records."""
    if not paging_enabled(call.op, call.values):
        return send_once(call)
    path = call.op.paging["records"]
    records: list[Any] = []
    last: Any = {}
    for body in _pages(call):
        records.extend(records_at(body, path))
        last = body
    return with_path(last, path, records)


def _pages(call: Call, stats: StreamStats | None = None) -> Iterator[Any]:
    """Each page's answer, until `stop_when` holds.

    Raises:
        ClientError: the walk passed `max_pages` pages (the stop rule never held).
    """
    op, spec = call.op, call.op.paging
    max_pages = int(spec.get("max_pages") or DEFAULT_MAX_PAGES)
    page_values = dict(call.values)
    records = 0
    for page in range(1, max_pages + 1):
        body = send_once(call, page_values, stats)
        records += len(records_at(body, spec["records"]))
        call.settings.progress.update({"pages": page, "records": records})
        yield body
        context = {**page_values, "body": body, "status": 200, "headers": {}}
        if as_bool(evaluate(spec["stop_when"], context, action=op.key, field="paging.stop_when")):
            return
        following = render_value(spec["next"], context, action=op.key, field="paging.next")
        page_values = {**page_values, **following}
    raise ClientError(
        f"{op.key}: stopped after {max_pages} pages (paging.max_pages) without reaching the "
        "last page; narrow the query or raise the cap",
    )
