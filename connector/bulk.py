"""Runs an action whose spec has `batch:`: checks once, streams the batches, merges the answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .batch import Batch, Totals, batches, counter, nothing_sent_error, records_of, send_all
from .files.checkpoint import Checkpoint
from .inputs import check_rules, validate_inputs
from .modes.batched.results import distinct_error, result_of
from .records import RecordPlan, Refusal
from .request import HTTPRequest
from .retry import RetryPolicy
from .spec import OperationSpec

if TYPE_CHECKING:
    from .component import Component

log = logging.getLogger("connector.bulk")

Render = Callable[[Batch], tuple[HTTPRequest, str | None]]


def batch_plan(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
) -> tuple[RecordPlan, Render, Iterator[Batch], list[Refusal]]:
    """Check the other inputs once; return the record plan, a renderer and the batches."""
    key = op.batch["input"]
    inputs, conn = component._adapted(op, inputs, connection)
    secrets = component._secrets(op, conn, inputs)
    values = validate_inputs(op, inputs, conn, deferred=key)
    plan = RecordPlan(op, values, conn)
    refused: list[Refusal] = []
    stream = batches(
        records_of(inputs.get(key), plan),
        plan,
        refused,
        max_items=int(op.batch["max_items"]),
        max_bytes=op.batch.get("max_bytes"),
    )

    checked: list[bool] = []

    def render(batch: Batch) -> tuple[HTTPRequest, str | None]:
        batch_values = {**values, key: batch.records}
        if not checked:  # the records were checked one by one; the rules read them all
            check_rules(op, batch_values, conn)
            checked.append(True)
        return component._render(op, batch_values, conn, secrets)

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
    for batch in stream:
        count += 1
        yield render(batch)
    if not count:
        raise nothing_sent_error(refused, plan)


def run_batched(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    workers: int,
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
    checkpoint: Checkpoint | None = None,
) -> Any:
    """Send every batch with `workers` in flight; the result (see modes.batched.results).

    With a `checkpoint`, batches it lists as acknowledged are not sent again, each batch is
    added to it once the API answered, and it is removed when every batch was sent.
    """
    plan, render, stream, refused = batch_plan(component, op, inputs, connection)
    result_spec = op.batch.get("result") or {}
    totals = Totals()
    progress = component.progress
    if checkpoint is not None:
        stream = _unacknowledged(stream, checkpoint, totals, op.key)

    def send(batch: Batch) -> tuple[Any, int]:
        request, header = render(batch)
        attempts = [0]
        answer = component._send(
            request, header, retry=retry, rate_wait_s=rate_wait_s, attempts=attempts
        )
        return answer, attempts[0]

    count = counter(op.key, plan, result_spec)

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
    stream: Iterator[Batch], checkpoint: Checkpoint, totals: Totals, action: str
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
