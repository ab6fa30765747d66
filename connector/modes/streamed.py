"""The streamed mode: day-split JSON-lines answers read as they arrive, resumed after a cut."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..call import Call
from ..catalog.spec import OperationSpec
from ..errors import APIError, InputError, InputProblem, TransportError
from ..parse.jsonlines import read_records, record_key
from ..parse.response import parse_response, status_error
from ..prepare.request import HTTPRequest
from ..send.attempts import AttemptLoop
from ..send.response import RawResponse
from ..send.retry import RetryDecision
from ..send.transport import StreamedResponse
from .ledger import Ledger

__all__ = ["STREAM_RATE_WAIT_S", "RecordStream", "StreamStats", "stream_days", "stream_records"]

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


def stream_days(op: OperationSpec, values: Mapping[str, Any]) -> list[str | None]:
    """The days of the range inputs, in order; [None] when the stream is not split.

    Raises:
        InputError: a range input is not a date (such as 2024-02-30).
    """
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


@dataclass
class _Progress:
    """Where a stream is: records yielded in all, the cap, and the stats."""

    stats: StreamStats
    cap: int | None
    emitted: int = 0
    capped: bool = False  # the cap was reached: the stream ends


def stream_records(call: Call, days: list[str | None], stats: StreamStats) -> Iterator[Any]:
    """Every record of every day, in order; a cut answer is resumed and its repeats skipped."""
    spec = call.op.stream
    limit_key = spec.get("limit")
    progress = _Progress(stats, call.values.get(limit_key) if limit_key else None)
    split = spec.get("split") or {}
    for day in days:
        day_values = dict(call.values)
        if day is not None:
            day_values[split["from"]] = day_values[split["to"]] = day
        if progress.cap is not None and limit_key:
            day_values[limit_key] = progress.cap - progress.emitted
        yield from _day(call, day_values, day, progress, first=day == days[0])
        if progress.capped:
            return


def _day(
    call: Call, values: dict[str, Any], day: str | None, progress: _Progress, *, first: bool
) -> Iterator[Any]:
    """One day's records. Its request's attempts are the answer's cuts and resumptions."""
    spec = call.op.stream
    key_of = record_key(list(spec.get("dedup_key") or ()))
    markers = tuple(m.encode() for m in spec.get("cut_markers") or ())
    where = f" on {day}" if day else ""
    yielded = Ledger()
    request, header = call.render(values)
    resumptions = _resumptions(call, request, where, yielded, progress)
    for attempt in resumptions:
        try:
            response = _open(call, request, header)
        except APIError as exc:  # e.g. the hourly budget: say where the export stopped
            if progress.emitted or not first:
                exc.add_note_to_message(
                    f" (the stream stopped{where}, after {progress.emitted} record(s) were yielded)"
                )
            raise
        skip = yielded.multiset() if attempt > 1 else None
        try:
            for record in read_records(response, markers, where):
                digest = key_of(record)
                if skip is not None and skip.take(digest):
                    continue
                yielded.add(digest)
                yield record
                progress.emitted += 1
                if progress.cap is not None and progress.emitted >= progress.cap:
                    progress.capped = True
                    break
            progress.stats.days += 1
            return
        except TransportError as exc:
            progress.stats.cuts += 1
            resumptions.failed(exc)
        finally:
            response.close()


def _resumptions(
    call: Call, request: HTTPRequest, where: str, yielded: Ledger, progress: _Progress
) -> AttemptLoop:
    """The attempt loop of one day's answer: a cut is a failed attempt; resuming, a retry.

    A cut is always safe to resume (reading is idempotent), within the call's retry policy.
    """

    def stop(error: APIError, decision: RetryDecision) -> None:
        error.add_note_to_message(
            f". Stopped{where} after {len(yielded)} record(s) of that day "
            f"({progress.emitted} in all) and {resumptions.attempt} cut(s): {decision.reason}"
        )

    def resume(error: APIError, decision: RetryDecision) -> None:
        log.warning(
            "%s: answer cut%s after %d record(s); resuming that day: %s",
            call.op.key,
            where,
            len(yielded),
            decision.reason,
        )

    resumptions = AttemptLoop(
        request,
        call.policy(request),
        clock=call.settings.clock,
        rng=call.settings.rng,
        idempotent=True,
        reached=True,
        on_stop=stop,
        on_retry=resume,
    )
    return resumptions


def _open(call: Call, request: HTTPRequest, header: str | None) -> StreamedResponse:
    """Open the stream within the retry policy and rate budget; error answers raise."""
    opened: list[StreamedResponse] = []
    hint = call.auth_hint(request)
    transport = call.settings.transport

    def send() -> RawResponse:
        response = transport.open_stream(request, header)
        if 200 <= response.status < 300:
            opened.append(response)
            return RawResponse(status=response.status, headers=response.headers)
        return response.read()

    def check(raw: RawResponse) -> StreamedResponse:
        if opened:
            return opened.pop()
        parse_response(request, raw, auth_hint=hint)  # raises the typed error of the status
        raise status_error(request, raw, raw.content.decode("utf-8", "replace"), hint)

    return call.attempt(request, send, check)
