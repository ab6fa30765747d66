"""The batched mode: checks the other inputs once, streams the batches, merges the answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from ...call import Call
from ...core.jsonenc import EncodedList
from ...prepare.inputs import check_rules
from ...prepare.request import HTTPRequest
from .aimd import AdaptiveLimit
from .chunks import Batch, laned_batches, records_of
from .pool import Concurrency, Progress, send_all
from .records import RecordPlan, Refusal
from .results import DEFAULT_WORKERS, Totals, counter, merged, nothing_sent_error

__all__ = ["DEFAULT_WORKERS", "batch_plan", "batch_requests", "run_batched"]

Render = Callable[[Batch], tuple[HTTPRequest, str | None]]


def batch_plan(
    call: Call, concurrency: Concurrency | None = None
) -> tuple[RecordPlan, Render, Iterator[tuple[int, Batch]], list[Refusal]]:
    """The record plan, a renderer and the `(lane, batch)`s of a call, records deferred."""
    op = call.op
    key = op.batch["input"]
    plan = RecordPlan(op, call.values, call.connection)
    refused: list[Refusal] = []
    stream = laned_batches(
        records_of(call.inputs.get(key), plan),
        plan,
        refused,
        order_by=concurrency.order_by if concurrency else None,
        lanes=concurrency.ceiling if concurrency else 1,
        max_items=int(op.batch["max_items"]),
        max_bytes=op.batch.get("max_bytes"),
    )

    def render(batch: Batch) -> tuple[HTTPRequest, str | None]:
        batch_values = {**call.values, key: batch.records}
        if batch.number == 0:  # the records were checked one by one; the rules read them all
            check_rules(op, batch_values, call.connection)
        rendered = call.render(batch_values)
        batch.sent()
        return rendered

    return plan, render, stream, refused


def batch_requests(call: Call) -> Iterator[tuple[HTTPRequest, str | None]]:
    """Each request the action would send, with its Authorization header, sending nothing."""
    plan, render, stream, refused = batch_plan(call)
    count = 0
    for _, batch in stream:
        count += 1
        yield render(batch)
    if not count:
        raise nothing_sent_error(refused, plan)


def run_batched(call: Call, concurrency: Concurrency, progress: Progress | None = None) -> Any:
    """Send every batch, as many in flight as `concurrency` allows; the merged result."""
    plan, render, stream, refused = batch_plan(call, concurrency)
    result_spec = call.op.batch.get("result") or {}

    def send(rendered: tuple[HTTPRequest, str | None], gate: AdaptiveLimit) -> tuple[Any, int]:
        request, header = rendered
        attempts = [0]
        answer = call.send(request, header, attempts=attempts, gate=gate)
        return answer, attempts[0]

    totals = Totals()
    count = counter(call.op.key, plan, result_spec)

    def on_ack(batch: Batch, answer: Any) -> None:
        count(batch, answer, totals)

    key = call.op.batch["input"]

    def prepare(batch: Batch) -> tuple[HTTPRequest, str | None]:
        # Its records held only as the JSON it sends, so memory stays flat with many in flight:
        # the readable body as text, the input as the sent JSON (decoded if a template reads it).
        request, header = render(batch)
        body = request.body
        if type(body) is EncodedList:
            body = body.json_bytes().decode()
        return replace(request, body=body, inputs={**request.inputs, key: batch.records}), header

    send_all(
        stream, prepare, send, on_ack, concurrency=concurrency, totals=totals, progress=progress
    )
    if not totals.batches:
        raise nothing_sent_error(refused, plan)
    if result_spec.get("single_answer") and totals.batches == 1 and not refused:
        if not totals.failed:
            return totals.answers[0]
    return merged(totals, refused, plan)
