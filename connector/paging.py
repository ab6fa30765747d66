"""Walks every page of a paged action as its spec's `paging:` section declares, record by record."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ClientError
from .inputs import validate_inputs
from .retry import RetryPolicy
from .spec import OperationSpec
from .templates import as_bool, evaluate, render_value

if TYPE_CHECKING:
    from .component import Component

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


def records_at(body: Any, path: str) -> list[Any]:
    """The list at dotted `path` in `body`; [] when it is missing or null."""
    node = body
    for name in path.split("."):
        node = node.get(name) if isinstance(node, Mapping) else None
    return list(node) if isinstance(node, list | tuple) else []


def iter_pages(
    component: Component,
    op: OperationSpec,
    values: dict[str, Any],
    connection: Mapping[str, Any],
    *,
    retry: RetryPolicy | None = None,
    rate_wait_s: float | None = None,
) -> Iterator[Any]:
    """Yield the records of every page; each page is one call within the action's budget."""
    for body in _pages(component, op, values, connection, retry, rate_wait_s):
        yield from records_at(body, op.paging["records"])


def collect_pages(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    retry: RetryPolicy | None = None,
    rate_wait_s: float | None = None,
) -> Any:
    """`run`'s result: one page, or (paging enabled) the last answer with every page's records."""
    values = validate_inputs(op, inputs, connection)
    if not paging_enabled(op, values):
        return component._call(op, values, connection, retry=retry, rate_wait_s=rate_wait_s)
    path = op.paging["records"].split(".")
    records: list[Any] = []
    last: Any = {}
    for body in _pages(component, op, values, connection, retry, rate_wait_s):
        records.extend(records_at(body, op.paging["records"]))
        last = body
    result = dict(last) if isinstance(last, Mapping) else {}
    node = result
    for name in path[:-1]:
        node[name] = dict(node.get(name) or {})
        node = node[name]
    node[path[-1]] = records
    return result


def _pages(
    component: Component,
    op: OperationSpec,
    values: dict[str, Any],
    connection: Mapping[str, Any],
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
) -> Iterator[Any]:
    """Each page's answer, until `stop_when` holds.

    Raises:
        ClientError: the walk passed `max_pages` pages (the stop rule never held).
    """
    spec = op.paging
    max_pages = int(spec.get("max_pages") or DEFAULT_MAX_PAGES)
    page_values = dict(values)
    records = 0
    for page in range(1, max_pages + 1):
        body = component._call(op, page_values, connection, retry=retry, rate_wait_s=rate_wait_s)
        records += len(records_at(body, spec["records"]))
        component.progress.update({"pages": page, "records": records})
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
