"""Streams records into right-sized requests, sends them with a bounded pool, merges the answers."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import orjson

from .errors import InputError, InputProblem
from .modes.batched.lanes import lane_of
from .records import RecordPlan, Refusal, dotted, lookup
from .templates import EncodedList, Part, joined_json, render_value

DEFAULT_WORKERS = 4
#: Problems an InputError lists before it says "and N more", so huge inputs keep short errors.
MAX_LISTED = 3


@dataclass
class Batch:
    """The records of one request and where each sits in the caller's input."""

    number: int
    records: Sequence[Any]  # an EncodedList until rendered, then the Sent JSON
    indexes: Sequence[int]
    size: int  # bytes of the compact JSON array

    def sent(self) -> None:
        """Keep only the JSON of the records once the request is built, so memory stays flat."""
        if type(self.records) is EncodedList:
            self.records = Sent(self.records.parts, len(self.records))


class Sent(Sequence[Any]):
    """A sent batch's records, held as the JSON that was sent; decoded only when asked."""

    def __init__(self, parts: list[Part], count: int) -> None:
        self.parts = parts
        self._length = count
        self._decoded: list[Any] | None = None

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if self._decoded is None:  # rare: a failed record whose id the answer left out
            self._decoded = orjson.loads(joined_json(self.parts))
        return self._decoded[index]


@dataclass
class Totals:
    """What a batched call did so far."""

    sent: int = 0
    imported: int = 0
    batches: int = 0
    requests: int = 0
    retried: int = 0
    concurrency: int = 0  # requests allowed in flight (the adaptive limit, as it ended)
    throttled: int = 0  # answers that asked to slow down (429, 503)
    failed: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)


def records_of(value: Any, plan: RecordPlan) -> Iterator[Any]:
    """The records of a batch input: a list, any iterable or generator, or JSON array text."""
    if isinstance(value, str | bytes | bytearray):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise _input_error(plan, f"is not valid JSON ({exc.msg} at {where})") from None
    if value is None or value in ([], {}, ()):
        raise _input_error(plan, f"is required: give at least one {plan.item}")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        kind = type(value).__name__
        raise _input_error(
            plan, f"is not of type 'array': expected a list of {plan.item}s, got {kind}"
        )
    return iter(value)


def _input_error(plan: RecordPlan, message: str) -> InputError:
    return InputError(plan.action, [InputProblem(plan.key, plan.label, message)])


def batches(
    records: Iterable[Any],
    plan: RecordPlan,
    refused: list[Refusal],
    *,
    max_items: int,
    max_bytes: int | None = None,
) -> Iterator[Batch]:
    """Prepare the records and yield requests' worth of them; refusals go to `refused`.

    Records are taken `max_items` at a time. Such a chunk is checked and encoded in one go when
    every record passes and it fits `max_bytes` (the usual case, a few C calls per chunk);
    otherwise record by record, splitting at the exact byte limit.
    """
    number = 0
    source = iter(records)
    start = 0
    while items := list(itertools.islice(source, max_items)):  # one C call per chunk
        indexes = range(start, start + len(items))
        start += len(items)
        for batch in _split(
            plan.fill_all(items), indexes, plan, refused, number, max_items, max_bytes
        ):
            number += 1
            yield batch


def laned_batches(
    records: Iterable[Any],
    plan: RecordPlan,
    refused: list[Refusal],
    *,
    order_by: str | None,
    lanes: int,
    max_items: int,
    max_bytes: int | None = None,
) -> Iterator[tuple[int, Batch]]:
    """`(lane, batch)` pairs: every record with the same `order_by` value in one lane, in order.

    Without `order_by` every batch is lane 0 (any worker may send it). With it, each lane
    gathers its own records into batches; an input that fits one request stays one request.
    Batch numbers follow the order batches are completed, the same in every run.
    """
    if order_by is None or lanes <= 1:
        for batch in batches(records, plan, refused, max_items=max_items, max_bytes=max_bytes):
            yield 0, batch
        return
    keys = dotted(order_by)
    source = iter(enumerate(records))
    head = [pair for _, pair in zip(range(max_items + 1), source, strict=False)]
    if len(head) <= max_items:  # a single request: nothing to order
        for batch in _chunk(head, plan, refused, 0, max_items, max_bytes):
            yield 0, batch
        return
    number = 0
    pending: list[list[tuple[int, Any]]] = [[] for _ in range(lanes)]
    for index, record in itertools.chain(head, source):
        lane = lane_of(lookup(record, keys), lanes)
        pending[lane].append((index, record))
        if len(pending[lane]) == max_items:
            for batch in _chunk(pending[lane], plan, refused, number, max_items, max_bytes):
                number += 1
                yield lane, batch
            pending[lane] = []
    for lane, rest in enumerate(pending):
        for batch in _chunk(rest, plan, refused, number, max_items, max_bytes):
            number += 1
            yield lane, batch


def _chunk(
    pairs: list[tuple[int, Any]],
    plan: RecordPlan,
    refused: list[Refusal],
    number: int,
    max_items: int,
    max_bytes: int | None,
) -> Iterator[Batch]:
    if pairs:
        items = plan.fill_all([record for _, record in pairs])
        indexes = [index for index, _ in pairs]
        yield from _split(items, indexes, plan, refused, number, max_items, max_bytes)


def _split(
    items: list[Any],
    indexes: Sequence[int],
    plan: RecordPlan,
    refused: list[Refusal],
    number: int,
    max_items: int,
    max_bytes: int | None,
) -> Iterator[Batch]:
    parts = plan.encode_all(items)
    if parts is not None:
        size = sum(len(p) for p in parts) + len(parts) + 1
        if max_bytes is None or size <= max_bytes:
            yield Batch(number, EncodedList(items, parts), indexes, size)
            return
    kept: list[Any] = []
    encoded: list[Part] = []
    where: list[int] = []
    size = 1  # "[" and "]", less the comma the first record does not need
    for record, index in zip(items, indexes, strict=True):
        prepared = plan.prepare(record, index)
        if isinstance(prepared, Refusal):
            refused.append(prepared)
            continue
        value, data = prepared
        extra = len(data) + 1
        if max_bytes is not None and extra + 1 > max_bytes:
            message = f"is {len(data):,} bytes of JSON, more than a whole request may carry"
            refused.append(Refusal(index, plan.record_id(value), "", message))
            continue
        if where and (
            len(where) >= max_items or (max_bytes is not None and size + extra > max_bytes)
        ):
            yield Batch(number, EncodedList(kept, encoded), where, size)
            number += 1
            kept, encoded, where, size = [], [], [], 1
        kept.append(value)
        encoded.append(data)
        where.append(index)
        size += extra
    if where:
        yield Batch(number, EncodedList(kept, encoded), where, size)


def counter(op_key: str, plan: RecordPlan, result: Mapping[str, Any]) -> Callable[..., None]:
    """How one answer counts, as the spec's `batch.result` declares it."""

    def count(batch: Batch, answer: Any, totals: Totals) -> None:
        context = {"body": answer}
        imported = len(batch.indexes)
        if result.get("imported"):
            value = render_value(result["imported"], context, action=op_key, field="batch.result")
            imported = int(value or 0)
        totals.imported += imported
        failed = (
            render_value(result["failed"], context, action=op_key, field="batch.result")
            if result.get("failed")
            else None
        )
        for entry in failed or ():
            entry = dict(entry) if isinstance(entry, Mapping) else {"message": str(entry)}
            position = entry.get("index")
            if isinstance(position, int) and 0 <= position < len(batch.indexes):
                entry["index"] = batch.indexes[position]
                if plan.id_key and not entry.get(plan.id_key):
                    entry[plan.id_key] = plan.record_id(batch.records[position])
            totals.failed.append(entry)
        if len(totals.answers) < 2:
            totals.answers.append(answer)

    return count


def merged(totals: Totals, refused: list[Refusal], plan: RecordPlan) -> dict[str, Any]:
    """The call's result: the import answer's shape over all requests, plus the totals."""
    failed = sorted(
        [r.to_dict(plan.id_key) for r in refused] + totals.failed,
        key=lambda entry: entry.get("index", -1) if isinstance(entry.get("index"), int) else -1,
    )
    result: dict[str, Any] = {
        "code": 200 if not failed else 400,
        "num_records_imported": totals.imported,
        "status": "OK" if not failed else "Bad Request",
    }
    if failed:
        result["failed_records"] = failed
    result.update(
        records_sent=totals.sent,
        records_imported=totals.imported,
        records_failed=len(failed),
        requests=totals.requests,
        requests_retried=totals.retried,
        requests_throttled=totals.throttled,
        concurrency=totals.concurrency,
    )
    return result


def nothing_sent_error(refused: list[Refusal], plan: RecordPlan) -> InputError:
    """Every record was refused: list the first few by path, then how many more."""
    if not refused:
        return _input_error(plan, f"is required: give at least one {plan.item}")
    problems = [
        InputProblem(plan.key, plan.label, f"at {plan.where(r.index, r.field)}: {r.message}")
        for r in refused[:MAX_LISTED]
    ]
    if len(refused) > MAX_LISTED:
        more = len(refused) - MAX_LISTED
        problems.append(
            InputProblem(plan.key, plan.label, f"and {more:,} more {plan.item}(s) were refused")
        )
    return InputError(plan.action, problems)
