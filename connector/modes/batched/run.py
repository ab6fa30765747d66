"""The batched mode: checks the other inputs once, streams the batches, merges the answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...call import Call
from ...prepare.inputs import check_rules
from ...prepare.request import HTTPRequest
from .chunks import Batch, batches, records_of
from .pool import send_all
from .records import RecordPlan, Refusal
from .results import DEFAULT_WORKERS, Totals, counter, merged, nothing_sent_error

__all__ = ["DEFAULT_WORKERS", "batch_plan", "batch_requests", "run_batched"]

Render = Callable[[Batch], tuple[HTTPRequest, str | None]]


def batch_plan(call: Call) -> tuple[RecordPlan, Render, Iterator[Batch], list[Refusal]]:
    """The record plan, a renderer and the batches of a call bound with its records deferred."""
    op = call.op
    key = op.batch["input"]
    plan = RecordPlan(op, call.values, call.connection)
    refused: list[Refusal] = []
    stream = batches(
        records_of(call.inputs.get(key), plan),
        plan,
        refused,
        max_items=int(op.batch["max_items"]),
        max_bytes=op.batch.get("max_bytes"),
    )

    def render(batch: Batch) -> tuple[HTTPRequest, str | None]:
        batch_values = {**call.values, key: batch.records}
        if batch.number == 0:  # the records were checked one by one; the rules read them all
            check_rules(op, batch_values, call.connection)
        return call.render(batch_values)

    return plan, render, stream, refused


def batch_requests(call: Call) -> Iterator[tuple[HTTPRequest, str | None]]:
    """Each request the action would send, with its Authorization header, sending nothing."""
    plan, render, stream, refused = batch_plan(call)
    count = 0
    for batch in stream:
        count += 1
        yield render(batch)
    if not count:
        raise nothing_sent_error(refused, plan)


def run_batched(call: Call, workers: int) -> Any:
    """Send every batch with `workers` in flight; the merged result (see `results.merged`)."""
    plan, render, stream, refused = batch_plan(call)
    result_spec = call.op.batch.get("result") or {}

    def send(batch: Batch) -> tuple[Any, int]:
        request, header = render(batch)
        attempts = [0]
        answer = call.send(request, header, attempts=attempts)
        return answer, attempts[0]

    totals = Totals()
    count = counter(call.op.key, plan, result_spec)
    send_all(stream, send, count, workers=workers, totals=totals)
    if not totals.batches:
        raise nothing_sent_error(refused, plan)
    if result_spec.get("single_answer") and totals.batches == 1 and not refused:
        if not totals.failed:
            return totals.answers[0]
    return merged(totals, refused, plan)
