"""Where a benchmark run's time went, seen from the sink: requests in flight over time.

`describe(timeline, start, end)` reads the sink's `GET /timeline` (each ingestion request's
arrival, answer and status) against the client's clock (`start`, `end`: Unix times of the
client's timed section) and gives: the time to the first request, the time until the
requests in flight first reached their peak level, the mean in flight, the time with fewer
than `level` in flight after that point (idle), the time after the last answer, the 429s, and a
coarse in-flight trace (one digit per `step` seconds: the most requests in flight in it).
"""

from __future__ import annotations

from typing import Any


def describe(
    timeline: list[list[float]], start: float, end: float, level: int, step: float = 0.1
) -> dict[str, Any]:
    """The breakdown of one run (see the module)."""
    served = sorted((a, b) for a, b, status in timeline if status != 429)
    if not served:
        return {}
    events = sorted([(a, 1) for a, _ in served] + [(b, -1) for _, b in served])
    flight, peak_at, mean_area, below = 0, None, 0.0, 0.0
    trace: list[int] = []
    last = events[0][0]
    for at, change in events:
        mean_area += flight * (at - last)
        if peak_at is not None and flight < level:
            below += at - last
        _mark(trace, start, step, last, at, flight)
        flight += change
        last = at
        if peak_at is None and flight >= level:
            peak_at = at
    first, last_answer = served[0][0], max(b for _, b in served)
    return {
        "to_first_s": round(first - start, 3),
        "to_level_s": None if peak_at is None else round(peak_at - start, 3),
        "mean_in_flight": round(mean_area / (last_answer - first), 2),
        "below_level_s": round(below, 3),
        "after_last_s": round(end - last_answer, 3),
        "throttled": sum(1 for *_, status in timeline if status == 429),
        "trace": "".join("x" if n > 9 else str(n) for n in trace),
    }


def _mark(trace: list[int], start: float, step: float, since: float, until: float, n: int) -> None:
    """Note `n` in flight from `since` to `until` in the trace's buckets (the most wins)."""
    if until <= since:
        return
    first, last = int((since - start) / step), int((until - start) / step)
    for bucket in range(max(0, first), max(0, last) + 1):
        while len(trace) <= bucket:
            trace.append(0)
        trace[bucket] = max(trace[bucket], n)
