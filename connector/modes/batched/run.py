"""The batched mode: checks the other inputs once, streams the batches, merges the answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from ...call import Call
from ...prepare.inputs import check_rules
from ...prepare.request import HTTPRequest
from .chunks import Batch, batches, records_of
from .pool import send_all
from .records import RecordPlan, Refusal
from .results import (
    DEFAULT_WORKERS,
    Totals,
    counter,
    distinct_error,
    nothing_sent_error,
    result_of,
)

__all__ = ["DEFAULT_WORKERS", "Acknowledged", "batch_plan", "batch_requests", "run_batched"]

log = logging.getLogger("connector.bulk")

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

    checked: list[bool] = []

    def render(batch: Batch) -> tuple[HTTPRequest, str | None]:
        batch_values = {**call.values, key: batch.records}
        if not checked:  # the records were checked one by one; the rules read them all
            check_rules(op, batch_values, call.connection)
            checked.append(True)
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


class Acknowledged(Protocol):
    """Where the batches the API answered are recorded (connector.files.checkpoint)."""

    path: Path

    def load(self) -> frozenset[int]:
        """The batch numbers an earlier run recorded."""
        ...

    def ack(self, number: int) -> None:
        """Record that the API answered batch `number`."""
        ...

    def remove(self) -> None:
        """Every batch was sent: forget them."""
        ...


def run_batched(call: Call, workers: int, checkpoint: Acknowledged | None = None) -> Any:
    """Send every batch with `workers` in flight; the result (see `results.result_of`).

    With a `checkpoint`, batches it lists as acknowledged are not sent again, each batch is
    added to it once the API answered, and it is removed when every batch was sent.
    """
    plan, render, stream, refused = batch_plan(call)
    result_spec = call.op.batch.get("result") or {}
    totals = Totals()
    progress = call.settings.progress
    if checkpoint is not None:
        stream = _unacknowledged(stream, checkpoint, totals, call.op.key)

    def send(batch: Batch) -> tuple[Any, int]:
        request, header = render(batch)
        attempts = [0]
        answer = call.send(request, header, attempts=attempts)
        return answer, attempts[0]

    count = counter(call.op.key, plan, result_spec)

    def on_ack(batch: Batch, answer: Any, totals: Totals) -> None:
        """After the API answered a batch: count it, record it, show the figures."""
        count(batch, answer, totals)
        distinct_error(totals, answer)
        if checkpoint is not None:
            checkpoint.ack(batch.number)
        progress.update(
            {
                "requests": totals.requests,
                "retried": totals.retried,
                "imported": totals.imported,
                "skipped": totals.skipped,
            }
        )

    send_all(stream, send, on_ack, workers=workers, totals=totals)
    if not totals.batches and not totals.skipped:
        raise nothing_sent_error(refused, plan)
    if checkpoint is not None:
        checkpoint.remove()
    single = bool(result_spec.get("single_answer"))
    return result_of(totals, refused, plan, single_answer=single)


def _unacknowledged(
    stream: Iterator[Batch], checkpoint: Acknowledged, totals: Totals, action: str
) -> Iterator[Batch]:
    """The batches the checkpoint does not list; says how many it skipped."""
    acked = checkpoint.load()
    if acked:
        log.warning(
            "%s: resuming from %s: %d batch(es) the API already acknowledged are not sent again",
            action,
            checkpoint.path,
            len(acked),
        )
    for batch in stream:
        if batch.number in acked:
            totals.skipped += 1
            totals.skipped_records += len(batch.indexes)
            continue
        yield batch
