"""The streamed mode: a date range read as windows of days, each kept only when complete.

A streamed action whose spec declares `stream.split` reads its date range as windows of
`window_days` days (an input may change it), one request each. A window's records are held
aside (connector.modes.window_buffer) until its answer is complete, so a cut or a failure
redoes that window alone and nothing is lost or doubled; a window that keeps failing is split
in halves. Completed windows are yielded in order.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from ..call import Call
from ..catalog.spec import OperationSpec
from ..errors import APIError, InputError, InputProblem, ServerError, TransportError
from ..parse.jsonlines import read_records
from ..parse.response import parse_response, status_error
from ..prepare.request import HTTPRequest
from ..send.attempts import AttemptLoop
from ..send.response import RawResponse
from ..send.retry import RetryDecision
from ..send.transport import StreamedResponse
from .record_stream import DEFAULT_HALVE_AFTER, RecordStream, StreamStats, WindowPlan, Windows
from .window_buffer import WindowBuffer
from .windows import DEFAULT_WINDOW_DAYS, Window, remaining_windows

__all__ = [
    "DEFAULT_HALVE_AFTER",
    "STREAM_RATE_WAIT_S",
    "RecordStream",
    "StreamStats",
    "WindowPlan",
    "stream_plan",
    "stream_windows",
]

log = logging.getLogger("connector.stream")

#: How long a streamed request waits for the hourly budget unless told otherwise (the
#: per-second window is always waited for): a range is several requests in a row.
STREAM_RATE_WAIT_S = 60.0


def _days_of(op: OperationSpec, values: Mapping[str, Any]) -> int:
    split = op.stream.get("split") or {}
    key = split.get("window_input")
    chosen = values.get(key) if key else None
    return int(chosen or split.get("window_days") or DEFAULT_WINDOW_DAYS)


def stream_plan(op: OperationSpec, values: Mapping[str, Any]) -> WindowPlan:
    """The stream's windows; [None] (one request) when it is not split or has no range.

    Raises:
        InputError: a range input is not a date (such as 2024-02-30).
    """
    split = op.stream.get("split")
    if not split or not values.get(split["from"]) or not values.get(split["to"]):
        return WindowPlan([None])
    bounds = []
    for end in ("from", "to"):
        key = split[end]
        try:
            bounds.append(date.fromisoformat(str(values[key])))
        except ValueError:
            spec = op.input(key)
            problem = InputProblem(key, spec.label, "expected a date such as 2024-01-31")
            raise InputError(op.key, [problem]) from None
    days = _days_of(op, values)
    windows: list[Window | None] = list(remaining_windows(bounds[0], bounds[1], days, []))
    halve_after = int(split.get("halve_after") or DEFAULT_HALVE_AFTER)
    return WindowPlan(
        windows, split["from"], split["to"], days, halve_after, (bounds[0], bounds[1])
    )


def stream_windows(call: Call, plan: WindowPlan, stats: StreamStats) -> Windows:
    """Fetch each window whole (halving one that keeps failing) and yield it when complete."""
    op, progress = call.op, call.settings.progress
    limit_key = op.stream.get("limit")
    cap = call.values.get(limit_key) if limit_key else None
    queue: deque[Window | None] = deque(plan.windows)
    stats.windows_total = len(queue) + stats.kept
    emitted = size = 0
    while queue:
        window = queue.popleft()
        values = dict(call.values)
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
            buffer = _fetch(
                call, values, window, plan.halve_after if halves else None, wanted, stats
            )
        except (ServerError, TransportError) as exc:
            if halves is None:
                _note_stop(exc, window, emitted, stats)
                raise
            left, right = halves
            log.warning(
                "%s: %s keeps failing; splitting it into %s and %s: %s",
                op.key, _label(window), left.label(), right.label(), exc,
            )  # fmt: skip
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
        progress.update(
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
    call: Call,
    values: dict[str, Any],
    window: Window | None,
    attempts: int | None,
    wanted: int | None,
    stats: StreamStats,
) -> WindowBuffer:
    """One window's records, complete. Its request's attempts are the answer's cuts.

    Raises:
        APIError: the window failed within the retry policy (capped at `attempts` tries).
    """
    markers = tuple(m.encode() for m in call.op.stream.get("cut_markers") or ())
    where = f" for {window.label()}" if window is not None else ""
    request, header = call.render(values)
    if attempts is not None:
        policy = call.policy(request)
        call = call.with_options(
            retry=replace(policy, max_attempts=min(policy.max_attempts, attempts))
        )
    cuts = _cuts(call, request, where, stats)
    for _ in cuts:
        response = _open(call, request, header, stats)
        buffer = WindowBuffer(wanted)
        try:
            buffer.fill(read_records(response, markers, where))
            return buffer
        except TransportError as exc:
            buffer.close()
            stats.cuts += 1
            cuts.failed(exc)
        except BaseException:
            buffer.close()
            raise
        finally:
            response.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _cuts(call: Call, request: HTTPRequest, where: str, stats: StreamStats) -> AttemptLoop:
    """The attempt loop of one window's answer: a cut is a failed attempt; asking again, a retry.

    A cut is always safe to ask again (reading is idempotent), within the call's retry policy.
    """

    def stop(error: APIError, decision: RetryDecision) -> None:
        error.add_note_to_message(
            f". Stopped{where} after {loop.attempt} cut(s): {decision.reason}"
        )

    def again(error: APIError, decision: RetryDecision) -> None:
        log.warning(
            "%s: answer cut%s; asking for the window again: %s",
            call.op.key, where, decision.reason,
        )  # fmt: skip

    loop = AttemptLoop(
        request,
        call.policy(request),
        clock=call.settings.clock,
        rng=call.settings.rng,
        idempotent=True,
        reached=True,
        on_stop=stop,
        on_retry=again,
    )
    return loop


def _open(
    call: Call, request: HTTPRequest, header: str | None, stats: StreamStats
) -> StreamedResponse:
    """Open the stream within the retry policy and rate budget; error answers raise."""
    opened: list[StreamedResponse] = []
    hint = call.auth_hint(request)
    transport = call.settings.transport

    def send() -> RawResponse:
        stats.requests += 1
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
