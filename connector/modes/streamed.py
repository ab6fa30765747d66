"""Yields an action's records one by one: day-split JSON-lines streams that resume after a cut."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..catalog.spec import OperationSpec
from ..errors import APIError, InputError, InputProblem, TransportError
from ..parse.jsonlines import read_records, record_key
from ..parse.response import RawResponse, parse_response, status_error
from ..prepare.inputs import validate_inputs
from ..prepare.request import HTTPRequest
from ..send.attempts import policy_for
from ..send.retry import RetryPolicy, decide
from ..send.transport import StreamedResponse
from .ledger import Ledger
from .paged import iter_pages, paging_enabled, records_at

if TYPE_CHECKING:
    from ..component import Component

__all__ = [
    "STREAM_RATE_WAIT_S",
    "RecordStream",
    "StreamStats",
    "iter_records",
]

log = logging.getLogger("connector.stream")

#: How long a streamed request waits for the rate budget unless told otherwise: a range of
#: days is several requests in a row, and a per-second budget should slow them, not fail them.
STREAM_RATE_WAIT_S = 60.0


@dataclass
class StreamStats:
    """What a stream did so far: requested ranges (days) finished, and cuts resumed."""

    days: int = 0
    cuts: int = 0


class RecordStream(Iterator[Any]):
    """The iterator `Component.iter` returns; `.stats` counts days and resumed cuts."""

    def __init__(self, records: Iterator[Any], stats: StreamStats) -> None:
        self._records = records
        self.stats = stats

    def __next__(self) -> Any:
        return next(self._records)

    def __iter__(self) -> Iterator[Any]:
        # A for loop runs the generator itself, saving a Python call per record.
        return self._records

    def close(self) -> None:
        """Stop early, releasing the connection."""
        close = getattr(self._records, "close", None)
        if close is not None:
            close()


def iter_records(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    retry: RetryPolicy | None = None,
    rate_wait_s: float | None = None,
) -> RecordStream:
    """Check the inputs now, then return an iterator over the operation's records.

    Raises:
        InputError: before anything is sent, when the inputs are invalid.
    """
    values = validate_inputs(op, inputs, connection)
    component._prepare(op, values, connection)  # renders once: template and auth errors now
    stats = StreamStats()
    records: Iterator[Any]
    if op.stream:
        wait = (
            max(component.rate_wait_s, STREAM_RATE_WAIT_S) if rate_wait_s is None else rate_wait_s
        )
        days = _days(op, values)  # now: a date like 2024-02-30 is an input error here
        records = _stream(component, op, values, connection, retry, wait, stats, days)
    elif op.paging and paging_enabled(op, values):
        records = iter_pages(
            component, op, values, connection, retry=retry, rate_wait_s=rate_wait_s
        )
    else:
        records = _items(component, op, values, connection, retry, rate_wait_s)
    return RecordStream(records, stats)


def _items(
    component: Component,
    op: OperationSpec,
    values: dict[str, Any],
    connection: Mapping[str, Any],
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
) -> Iterator[Any]:
    data = component._call(op, values, connection, retry=retry, rate_wait_s=rate_wait_s)
    if op.paging:
        yield from records_at(data, op.paging["records"])
    elif isinstance(data, list):
        yield from data
    else:
        yield data


def _days(op: OperationSpec, values: Mapping[str, Any]) -> list[str | None]:
    """The days of the range inputs, in order; [None] when the stream is not split."""
    split = op.stream.get("split")
    if not split or not values.get(split["from"]) or not values.get(split["to"]):
        return [None]
    bounds = []
    for end in ("from", "to"):
        key = split[end]
        try:
            bounds.append(date.fromisoformat(str(values[key])))
        except ValueError:
            spec = op.input(key)
            problem = InputProblem(key, spec.label, "expected a date such as 2024-01-31")
            raise InputError(op.key, [problem]) from None
    count = (bounds[1] - bounds[0]).days + 1
    return [(bounds[0] + timedelta(days=n)).isoformat() for n in range(max(count, 0))]


def _stream(
    component: Component,
    op: OperationSpec,
    values: dict[str, Any],
    connection: Mapping[str, Any],
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
    stats: StreamStats,
    days: list[str | None],
) -> Iterator[Any]:
    spec = op.stream
    key_of = record_key(list(spec.get("dedup_key") or ()))
    markers = tuple(m.encode() for m in spec.get("cut_markers") or ())
    limit_key = spec.get("limit")
    cap = values.get(limit_key) if limit_key else None
    split = spec.get("split") or {}
    emitted = 0
    for day in days:
        day_values = dict(values)
        if day is not None:
            day_values[split["from"]] = day_values[split["to"]] = day
        if cap is not None and limit_key:
            day_values[limit_key] = cap - emitted
        where = f" on {day}" if day else ""
        yielded = Ledger()
        cuts = 0
        started = component.clock.monotonic()
        while True:
            request, header = component._prepare(op, day_values, connection)
            try:
                response = _open(component, request, header, retry, rate_wait_s)
            except APIError as exc:  # e.g. the hourly budget: say where the export stopped
                if emitted or day != days[0]:
                    exc.add_note_to_message(
                        f" (the stream stopped{where}, after {emitted} record(s) were yielded)"
                    )
                raise
            skip = yielded.multiset() if cuts else None
            try:
                for record in read_records(response, markers, where):
                    digest = key_of(record)
                    if skip is not None and skip.take(digest):
                        continue
                    yielded.add(digest)
                    yield record
                    emitted += 1
                    if cap is not None and emitted >= cap:
                        stats.days += 1
                        return
                stats.days += 1
                break
            except TransportError as exc:
                cuts += 1
                stats.cuts += 1
                policy = policy_for(request, retry or component.retry)
                decision = decide(
                    policy,
                    cuts,
                    status=None,
                    error_kind=exc.kind,
                    retry_after_s=None,
                    elapsed_s=component.clock.monotonic() - started,
                    idempotent=True,
                    request_may_have_reached_server=True,
                    rng=component.rng,
                )
                exc.attempts = cuts
                if decision.delay_s is None:
                    exc.add_note_to_message(
                        f". Stopped{where} after {len(yielded)} record(s) of that day "
                        f"({emitted} in all) and {cuts} cut(s): {decision.reason}"
                    )
                    raise
                log.warning(
                    "%s: answer cut%s after %d record(s); resuming that day: %s",
                    op.key,
                    where,
                    len(yielded),
                    decision.reason,
                )
                component.clock.sleep(decision.delay_s)
            finally:
                response.close()


def _open(
    component: Component,
    request: HTTPRequest,
    header: str | None,
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
) -> StreamedResponse:
    """Open the stream within the retry policy and rate budget; error answers raise."""
    opened: list[StreamedResponse] = []
    hint = component._auth_hint(request)

    def send() -> RawResponse:
        response = component.transport.open_stream(request, header)
        if 200 <= response.status < 300:
            opened.append(response)
            return RawResponse(status=response.status, headers=response.headers)
        return response.read()

    def check(raw: RawResponse) -> StreamedResponse:
        if opened:
            return opened.pop()
        parse_response(request, raw, auth_hint=hint)  # raises the typed error of the status
        raise status_error(request, raw, raw.content.decode("utf-8", "replace"), hint)

    return component._with_retries(request, send, check, retry=retry, rate_wait_s=rate_wait_s)
