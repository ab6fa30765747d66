"""Cuts a stream of records into right-sized requests' worth: chunks checked and encoded at once."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import orjson

from ...core.jsondepth import loads_bounded
from ...core.jsonenc import EncodedList, Part, joined_json
from ...core.paths import dotted, lookup
from ...errors import JSONTooDeep
from .lanes import lane_of
from .records import RecordPlan, Refusal, input_error

__all__ = ["Batch", "Sent", "batches", "laned_batches", "records_of"]


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


def records_of(value: Any, plan: RecordPlan) -> Iterator[Any]:
    """The records of a batch input: a list, any iterable or generator, or JSON array text."""
    if isinstance(value, str | bytes | bytearray):
        try:
            value = loads_bounded(value)
        except JSONTooDeep as exc:
            raise input_error(plan, f"is not accepted: {exc}") from None
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise input_error(plan, f"is not valid JSON ({exc.msg} at {where})") from None
    if value is None or value in ([], {}, ()):
        raise input_error(plan, f"is required: give at least one {plan.item}")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        kind = type(value).__name__
        raise input_error(
            plan, f"is not of type 'array': expected a list of {plan.item}s, got {kind}"
        )
    return iter(value)


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
        filled = plan.fill_all(items)
        for batch in _split(filled, indexes, plan, refused, number, max_items, max_bytes):
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
    plan.note_secrets(items)  # before anything can quote these records
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
            refused.append(plan.refusal(index, value, "", message))
            continue
        if where and (
            len(where) >= max_items or (max_bytes is not None and size + extra > max_bytes)
        ):
            yield Batch(number, EncodedList(kept, _packed(encoded)), where, size)
            number += 1
            kept, encoded, where, size = [], [], [], 1
        kept.append(value)
        encoded.append(data)
        where.append(index)
        size += extra
    if where:
        yield Batch(number, EncodedList(kept, _packed(encoded)), where, size)


def _packed(encoded: list[Part]) -> list[Part]:
    """The records' JSON as one exact-size array, viewed inside its brackets (no `[`, `]`).

    orjson hands each record's JSON back in a buffer of at least 4 KB that it never shrinks, so
    a batch kept as its records' own bytes until answered held about 4 KB a record (16 batches in
    flight: 250 MB for small events). Joined, the batch holds only its bytes, and its body is
    that same array (joined_json gives it back without a copy).
    """
    whole = b"".join((b"[", b",".join(encoded), b"]"))
    return [memoryview(whole)[1:-1]]
