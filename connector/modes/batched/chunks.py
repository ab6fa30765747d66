"""Cuts a stream of records into right-sized requests' worth: chunks checked and encoded at once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ...core.jsonenc import EncodedList
from .records import RecordPlan, Refusal, input_error

__all__ = ["Batch", "batches", "records_of"]


@dataclass
class Batch:
    """The records of one request and where each sits in the caller's input."""

    number: int
    records: list[Any]
    indexes: list[int]
    size: int  # bytes of the compact JSON array


def records_of(value: Any, plan: RecordPlan) -> Iterator[Any]:
    """The records of a batch input: a list, any iterable or generator, or JSON array text."""
    if isinstance(value, str | bytes | bytearray):
        try:
            value = json.loads(value)
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
    items: list[Any] = []
    indexes: list[int] = []
    for index, record in enumerate(records):
        items.append(record)
        indexes.append(index)
        if len(items) == max_items:
            items = plan.fill_all(items)
            for batch in _split(items, indexes, plan, refused, number, max_items, max_bytes):
                number += 1
                yield batch
            items, indexes = [], []
    if items:
        items = plan.fill_all(items)
        yield from _split(items, indexes, plan, refused, number, max_items, max_bytes)


def _split(
    items: list[Any],
    indexes: list[int],
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
    encoded: list[bytes] = []
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
