"""Fetches a streamed action window by window: each whole, cuts asked again, failures halved."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from ...attempts import policy_for
from ...errors import APIError, ServerError, TransportError
from ...jsonlines import read_records
from ...parse import RawResponse, parse_response, status_error
from ...request import HTTPRequest
from ...retry import RetryPolicy, decide
from ...spec import OperationSpec
from ...transport import StreamedResponse
from ..progress import NoProgress, Progress
from .buffer import WindowBuffer
from .windows import DEFAULT_WINDOW_DAYS, Window

if TYPE_CHECKING:
    from ...component import Component

__all__ = ["DEFAULT_HALVE_AFTER", "StreamJob", "StreamStats", "WindowPlan", "fetch_windows"]

log = logging.getLogger("connector.stream")

#: Attempts a window of several days gets before it is split in halves (one day: the policy's).
DEFAULT_HALVE_AFTER = 2


@dataclass
class StreamStats:
    """What a stream did so far: windows (and the days in them) complete, requests, cuts."""

    days: int = 0
    windows: int = 0
    windows_total: int = 0
    requests: int = 0
    cuts: int = 0
    halved: int = 0
    kept: int = 0  # windows an earlier run had already written (see connector.files.resume)


@dataclass(frozen=True)
class WindowPlan:
    """The windows of one stream ([None]: one request), the inputs that carry a window."""

    windows: list[Window | None]
    first: str = ""
    last: str = ""
    days: int = DEFAULT_WINDOW_DAYS
    halve_after: int = DEFAULT_HALVE_AFTER
    bounds: tuple[date, date] | None = None


@dataclass
class StreamJob:
    """One streamed call: the action, its checked inputs and options, and what it reports."""

    component: Component
    op: OperationSpec
    values: dict[str, Any]
    connection: Mapping[str, Any]
    retry: RetryPolicy | None
    rate_wait_s: float | None
    stats: StreamStats = field(default_factory=StreamStats)
    progress: Progress = field(default_factory=NoProgress)


def fetch_windows(job: StreamJob, plan: WindowPlan) -> Iterator[tuple[Window | None, WindowBuffer]]:
    """Fetch each window whole (halving one that keeps failing) and yield it when complete."""
    stats, op = job.stats, job.op
    limit_key = op.stream.get("limit")
    cap = job.values.get(limit_key) if limit_key else None
    queue: deque[Window | None] = deque(plan.windows)
    stats.windows_total = len(queue) + stats.kept
    emitted = size = 0
    while queue:
        window = queue.popleft()
        values = dict(job.values)
        if window is not None:
            values[plan.first], values[plan.last] = (
                window.first.isoformat(),
                window.last.isoformat(),
            )
        wanted = cap - emitted if cap is not None else None
        if limit_key and wanted is not None:
            values[limit_key] = wanted
        halves = window.halves() if window is not None else None
        try:
            buffer = _fetch(job, values, window, plan.halve_after if halves else None, wanted)
        except (ServerError, TransportError) as exc:
            if halves is None:
                _note_stop(exc, window, emitted, stats)
                raise
            left, right = halves
            log.warning(
                "%s: %s keeps failing; splitting it into %s and %s: %s",
                op.key,
                _label(window),
                left.label(),
                right.label(),
                exc,
            )
            stats.halved += 1
            stats.windows_total += 1
            queue.extendleft((right, left))
            continue
        except APIError as exc:  # e.g. the hourly budget: say where the export stopped
            _note_stop(exc, window, emitted, stats)
            raise
        stats.windows += 1
        stats.days += window.days if window is not None else 0
        emitted += buffer.count
        size += buffer.size
        job.progress.update(
            {
                "records": emitted,
                "mb": size / 1e6,
                "windows": f"{stats.windows + stats.kept}/{stats.windows_total}",
                "requests": stats.requests,
            }
        )
        yield window, buffer
        if cap is not None and emitted >= cap:
            return


def _label(window: Window | None) -> str:
    return window.label() if window is not None else "its only request"


def _note_stop(exc: APIError, window: Window | None, emitted: int, stats: StreamStats) -> None:
    if emitted or stats.windows:
        exc.add_note_to_message(
            f" (the stream stopped at {_label(window)}, after {emitted} record(s) "
            f"in {stats.windows} complete window(s))"
        )


def _fetch(
    job: StreamJob,
    values: dict[str, Any],
    window: Window | None,
    attempts: int | None,
    wanted: int | None,
) -> WindowBuffer:
    """One window's records, complete; a cut answer is asked again from its start.

    Raises:
        APIError: the window failed within the retry policy (capped at `attempts` tries).
    """
    component, op = job.component, job.op
    markers = tuple(m.encode() for m in op.stream.get("cut_markers") or ())
    where = f" for {window.label()}" if window is not None else ""
    cuts = 0
    started = component.clock.monotonic()
    while True:
        request, header = component._prepare(op, values, job.connection)
        policy = policy_for(request, job.retry or component.retry)
        if attempts is not None:
            policy = replace(policy, max_attempts=min(policy.max_attempts, attempts))
        response = _open(job, request, header, policy)
        buffer = WindowBuffer(wanted)
        try:
            for record in read_records(response, markers, where):
                buffer.add(record)
                if buffer.full:
                    break
            return buffer
        except TransportError as exc:
            buffer.close()
            cuts += 1
            job.stats.cuts += 1
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
                exc.add_note_to_message(f". Stopped{where} after {cuts} cut(s): {decision.reason}")
                raise
            log.warning(
                "%s: answer cut%s; asking for the window again: %s", op.key, where, decision.reason
            )
            component.clock.sleep(decision.delay_s)
        except BaseException:
            buffer.close()
            raise
        finally:
            response.close()


def _open(
    job: StreamJob, request: HTTPRequest, header: str | None, policy: RetryPolicy
) -> StreamedResponse:
    """Open the stream within the retry policy and rate budget; error answers raise."""
    component = job.component
    opened: list[StreamedResponse] = []
    hint = component._auth_hint(request)

    def send() -> RawResponse:
        job.stats.requests += 1
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

    return component._with_retries(request, send, check, retry=policy, rate_wait_s=job.rate_wait_s)
