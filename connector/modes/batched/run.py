"""The batched mode: checks the other inputs once, streams the batches, merges the answers."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from ...call import Call
from ...core.jsonenc import EncodedList
from ...core.progress import Progress
from ...core.templates import input_context, render_value
from ...core.urls import origin_of
from ...prepare.inputs import check_rules
from ...prepare.request import HTTPRequest
from .aimd import AdaptiveLimit
from .chunks import Batch, laned_batches, records_of
from .live import shared
from .pool import Concurrency, send_all
from .records import RecordPlan, Refusal
from .remembered import RememberedLimit
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


def batch_plan(
    call: Call, concurrency: Concurrency | None = None, *, resumable: bool = False
) -> tuple[RecordPlan, Render, Iterator[tuple[int, Batch]], list[Refusal]]:
    """The record plan, a renderer and the `(lane, batch)`s of a call, records deferred.

    A bulk job (`resumable`, records that are not a list, or more than one request's worth)
    never fills a time in: its records must carry it (RecordPlan.for_bulk).
    """
    op = call.op
    key = op.batch["input"]
    plan = RecordPlan(op, call.values, call.connection, call.secrets)
    records = _parsed(call.inputs.get(key))
    if resumable or not isinstance(records, list | tuple) or len(records) > op.batch["max_items"]:
        plan.for_bulk()
    refused: list[Refusal] = []
    stream = laned_batches(
        records_of(records, plan),
        plan,
        refused,
        order_by=concurrency.order_by if concurrency else None,
        lanes=concurrency.ceiling if concurrency else 1,
        max_items=int(op.batch["max_items"]),
        max_bytes=op.batch.get("max_bytes"),
    )

    checked: list[bool] = []

    def render(batch: Batch) -> tuple[HTTPRequest, str | None]:
        batch_values = {**call.values, key: batch.records}
        if not checked:  # the records were checked one by one; the rules read them all
            check_rules(op, batch_values, call.connection)
            checked.append(True)
        rendered = call.render(batch_values)
        batch.sent()
        return rendered

    return plan, render, stream, refused


def _parsed(records: Any) -> Any:
    """Records given as JSON text, parsed (records_of says what is wrong with bad text)."""
    if isinstance(records, str | bytes | bytearray):
        with contextlib.suppress(ValueError):
            return json.loads(records)
    return records


def batch_requests(call: Call) -> Iterator[tuple[HTTPRequest, str | None]]:
    """Each request the action would send, with its Authorization header, sending nothing."""
    plan, render, stream, refused = batch_plan(call)
    count = 0
    for _, batch in stream:
        count += 1
        yield render(batch)
    if not count:
        raise nothing_sent_error(refused, plan)


class Acknowledged(Protocol):
    """Where the batches the API answered are recorded (connector.files.checkpoint)."""

    path: Path
    started_over: str  # after `load`: why an earlier run's record was not used ("" if it was)

    def load(self) -> frozenset[int]:
        """The batch numbers an earlier run recorded."""
        ...

    def ack(self, number: int) -> None:
        """Record that the API answered batch `number`."""
        ...

    def remove(self) -> None:
        """Every batch was sent: forget them."""
        ...


def run_batched(
    call: Call,
    concurrency: Concurrency,
    progress: Progress | None = None,
    checkpoint: Acknowledged | None = None,
) -> Any:
    """Send every batch, as many in flight as `concurrency` allows; the result (`result_of`).

    With a `checkpoint`, batches it lists as acknowledged are not sent again, each batch is
    added to it once the API answered, and it is removed when every batch was sent.
    """
    plan, render, stream, refused = batch_plan(call, concurrency, resumable=checkpoint is not None)
    result_spec = call.op.batch.get("result") or {}
    totals = Totals()
    shown = progress if progress is not None else call.settings.progress
    if checkpoint is not None:
        stream = _unacknowledged(stream, checkpoint, totals, call.op.key, shown)

    def send(rendered: tuple[HTTPRequest, str | None], gate: AdaptiveLimit) -> tuple[Any, int]:
        request, header = rendered
        attempts = [0]
        answer = call.send(request, header, attempts=attempts, gate=gate)
        return answer, attempts[0]

    count = counter(call.op.key, plan, result_spec)

    def on_ack(batch: Batch, answer: Any) -> None:
        """After the API answered a batch: count it, record it; the pool shows the figures."""
        count(batch, answer, totals)
        distinct_error(totals, answer)
        if checkpoint is not None:
            checkpoint.ack(batch.number)

    key = call.op.batch["input"]

    def prepare(batch: Batch) -> tuple[HTTPRequest, str | None]:
        # Its records held only as the JSON it sends, so memory stays flat with many in flight:
        # the readable body as text, the input as the sent JSON (decoded if a template reads it).
        request, header = render(batch)
        body = request.body
        if type(body) is EncodedList:
            body = body.json_bytes().decode()
        return replace(request, body=body, inputs={**request.inputs, key: batch.records}), header

    remembered, fleet = _kept(call, concurrency)
    if remembered is None:
        send_all(
            stream, prepare, send, on_ack, concurrency=concurrency, totals=totals, progress=shown
        )
    else:  # runs of this process under the same note share one live limit (live.py)
        with shared(remembered.whose, lambda: fleet or concurrency.limit()) as live:
            send_all(
                stream,
                prepare,
                send,
                on_ack,
                concurrency=concurrency,
                totals=totals,
                progress=shown,
                memory=lambda: remembered,
                live=live,
            )
    if not totals.batches and not totals.skipped:
        raise nothing_sent_error(refused, plan)
    if checkpoint is not None:
        checkpoint.remove()
    single = bool(result_spec.get("single_answer"))
    return result_of(totals, refused, plan, single_answer=single)


def _kept(
    call: Call, concurrency: Concurrency
) -> tuple[RememberedLimit | None, AdaptiveLimit | None]:
    """Where the limit of `call` is kept, and the fleet's limit when the store is shared.

    Kept per origin, `batch.concurrency.key` and credential. Rendered with no records: its
    origin and credentials do not depend on them.
    """
    if concurrency.fixed or concurrency.key is None:
        return None, None
    request, header = call.render({**call.values, call.op.batch["input"]: []})
    context = input_context(call.values, call.connection)
    key = render_value(concurrency.key, context, action=call.op.key, field="batch.concurrency.key")
    secret = [str(call.connection.get(name) or "") for name in call.secrets_rendered()]
    credential = "\0".join([header or "", *secret])
    where = str(origin_of(request.url))
    registry = call.settings.registry
    memory = RememberedLimit(registry, where, str(key or ""), credential)
    store = getattr(registry, "store", None)  # a store other processes share
    if store is None:
        return memory, None
    from .fleet import FleetLimit

    fleet = FleetLimit(concurrency.ceiling, store, memory.name, start=concurrency.start)
    return memory, fleet


def _unacknowledged(
    stream: Iterator[tuple[int, Batch]],
    checkpoint: Acknowledged,
    totals: Totals,
    action: str,
    progress: Progress,
) -> Iterator[tuple[int, Batch]]:
    """The batches the checkpoint does not list; says how many it skipped."""
    acked = checkpoint.load()
    totals.started_over = checkpoint.started_over
    if acked:
        log.warning(
            "%s: resuming from %s: %d batch(es) the API already acknowledged are not sent again",
            action,
            checkpoint.path,
            len(acked),
        )
    for lane, batch in stream:
        if batch.number in acked:
            totals.skipped += 1
            totals.skipped_records += len(batch.indexes)
            progress.update({"skipped": totals.skipped})
            continue
        yield lane, batch
