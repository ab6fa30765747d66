"""Runs an action whose spec has `batch:`: checks once, streams the batches, merges the answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .batch import Batch, Totals, counter, laned_batches, merged, nothing_sent_error, records_of
from .inputs import check_rules, validate_inputs
from .modes.batched.aimd import AdaptiveLimit
from .modes.batched.pool import Concurrency, Progress, send_all
from .records import RecordPlan, Refusal
from .request import HTTPRequest
from .retry import RetryPolicy
from .spec import OperationSpec

if TYPE_CHECKING:
    from .component import Component

Render = Callable[[Batch], tuple[HTTPRequest, str | None]]


def batch_plan(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    concurrency: Concurrency | None = None,
) -> tuple[RecordPlan, Render, Iterator[tuple[int, Batch]], list[Refusal]]:
    """Check the other inputs once; return the record plan, a renderer and `(lane, batch)`s."""
    key = op.batch["input"]
    inputs, conn = component._adapted(op, inputs, connection)
    secrets = component._secrets(op, conn, inputs)
    values = validate_inputs(op, inputs, conn, deferred=key)
    plan = RecordPlan(op, values, conn)
    refused: list[Refusal] = []
    stream = laned_batches(
        records_of(inputs.get(key), plan),
        plan,
        refused,
        order_by=concurrency.order_by if concurrency else None,
        lanes=concurrency.ceiling if concurrency else 1,
        max_items=int(op.batch["max_items"]),
        max_bytes=op.batch.get("max_bytes"),
    )

    def render(batch: Batch) -> tuple[HTTPRequest, str | None]:
        batch_values = {**values, key: batch.records}
        if batch.number == 0:  # the records were checked one by one; the rules read them all
            check_rules(op, batch_values, conn)
        rendered = component._render(op, batch_values, conn, secrets)
        batch.sent()
        return rendered

    return plan, render, stream, refused


def batch_requests(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
) -> Iterator[tuple[HTTPRequest, str | None]]:
    """Each request the action would send, with its Authorization header, sending nothing."""
    plan, render, stream, refused = batch_plan(component, op, inputs, connection)
    count = 0
    for _, batch in stream:
        count += 1
        yield render(batch)
    if not count:
        raise nothing_sent_error(refused, plan)


def run_batched(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    concurrency: Concurrency,
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
    progress: Progress | None = None,
) -> Any:
    """Send every batch, as many in flight as `concurrency` allows; the merged result."""
    plan, render, stream, refused = batch_plan(component, op, inputs, connection, concurrency)
    result_spec = op.batch.get("result") or {}

    def send(rendered: tuple[HTTPRequest, str | None], gate: AdaptiveLimit) -> tuple[Any, int]:
        request, header = rendered
        attempts = [0]
        answer = component._send(
            request, header, retry=retry, rate_wait_s=rate_wait_s, attempts=attempts, gate=gate
        )
        return answer, attempts[0]

    totals = Totals()
    count = counter(op.key, plan, result_spec)

    def on_ack(batch: Batch, answer: Any) -> None:
        count(batch, answer, totals)

    send_all(
        stream, render, send, on_ack, concurrency=concurrency, totals=totals, progress=progress
    )
    if not totals.batches:
        raise nothing_sent_error(refused, plan)
    if result_spec.get("single_answer") and totals.batches == 1 and not refused:
        if not totals.failed:
            return totals.answers[0]
    return merged(totals, refused, plan)
