"""The Query API's reports beyond saved ones: retention, frequency, numeric segmentation, streams.

Each is computed from the de-duplicated stored events, in the shape Mixpanel documents.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from ..reply import Call, Reply, json_reply
from .query import bad, bucket, day_start, integer, json_list, parse_date, where_of

Event = tuple[str, str, int, dict[str, Any]]  # (name, canonical distinct id, time, properties)


def _range(call: Call) -> tuple[int, int, list[str]]:
    start, end = parse_date(call, "from_date"), parse_date(call, "to_date")
    if end < start or (end - start).days > 3650:
        raise bad(call, "to_date must not be before from_date, nor ten years after it")
    days = [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    return day_start(start), day_start(end) + 86399, days


def _unit(call: Call, allowed: tuple[str, ...] = ("day", "week", "month")) -> str:
    unit = call.params.get("unit") or "day"
    if unit not in allowed:
        raise bad(call, f"unit must be one of {', '.join(allowed)}")
    return unit


def _events(call: Call, from_s: int, to_s: int, names: list[str] | None) -> list[Event]:
    match = where_of(call)
    found = call.sandbox.store.dedup_events(from_s, to_s, names)
    return [e for e in found if match is None or match(e[3])]


def _evaluate(call: Call, expression: str) -> Callable[[dict[str, Any]], Any]:
    """A property expression (`properties["amount"]`) or a bare property name, read per event."""
    text = expression.strip()
    for quote in ('"', "'"):
        prefix = f"properties[{quote}"
        if text.startswith(prefix) and text.endswith(f"{quote}]"):
            name = text[len(prefix) : -2]
            return lambda props: props.get(name)
    if not text:
        raise bad(call, "on must name a property")
    return lambda props: props.get(text)


def _event_name(call: Call) -> str:
    name = call.params.get("event")
    if not name:
        raise bad(call, "event is required")
    return name


def segmentation_numeric(call: Call) -> Reply:
    """Counts per numeric bucket of `on`: buckets ten wide."""
    from_s, to_s, _ = _range(call)
    unit, event = _unit(call, ("hour", "day")), _event_name(call)
    on = _evaluate(call, call.params.get("on", ""))
    values: dict[str, Counter[str]] = defaultdict(Counter)
    for _name, _did, t, props in _events(call, from_s, to_s, [event]):
        number = on(props)
        if isinstance(number, int | float) and not isinstance(number, bool):
            low = int(number // 10 * 10)
            values[f"{low:,} - {low + 10:,}"][bucket(t, unit)] += 1
    series = sorted({bucket(s, unit) for s in range(from_s, to_s + 1, 86400)})
    data = {"series": series, "values": {k: dict(v) for k, v in values.items()}}
    return json_reply(200, {"data": data, "legend_size": len(values)})


def segmentation_total(average: bool) -> Callable[[Call], Reply]:
    """The sum (or average) of `on` per unit."""

    def handle(call: Call) -> Reply:
        from_s, to_s, _ = _range(call)
        unit, event = _unit(call, ("hour", "day")), _event_name(call)
        on = _evaluate(call, call.params.get("on", ""))
        totals: dict[str, list[float]] = defaultdict(list)
        for _name, _did, t, props in _events(call, from_s, to_s, [event]):
            number = on(props)
            if isinstance(number, int | float) and not isinstance(number, bool):
                totals[bucket(t, unit)].append(float(number))
        results = {k: (sum(v) / len(v) if average else sum(v)) for k, v in totals.items()}
        answer: dict[str, Any] = {"results": results, "status": "ok"}
        if not average:
            answer["computed_at"] = dt.datetime.now(dt.UTC).isoformat()
        return json_reply(200, answer)

    handle.__doc__ = "Average of a property per unit." if average else "Sum of a property per unit."
    return handle


def retention(call: Call) -> Reply:
    """Birth retention: per day, users doing `born_event`, then `event` in later intervals."""
    from_s, to_s, days = _range(call)
    count = max(1, min(integer(call, "interval_count", 1), 100))
    born = call.params.get("born_event") or None
    again = call.params.get("event") or None
    events = _events(call, from_s, to_s + count * 86400, None)
    first: dict[str, int] = {}
    for name, did, t, _ in sorted(events, key=lambda e: e[2]):
        if (born is None or name == born) and did not in first and t <= to_s:
            first[did] = t
    answer: dict[str, Any] = {}
    for day in days:
        cohort = [d for d, t in first.items() if bucket(t, "day") == day]
        counts = [0] * (count + 1)
        for did in cohort:
            start = first[did]
            for n in range(count + 1):
                lo, hi = start + n * 86400, start + (n + 1) * 86400
                if any(
                    d == did and lo <= t < hi and (again is None or name == again)
                    for name, d, t, _ in events
                ):
                    counts[n] += 1
        answer[day] = {"counts": counts, "first": len(cohort)}
    return json_reply(200, answer)


def frequency(call: Call) -> Reply:
    """Addiction: per day, how many users did `event` on at least 1, 2, ... hours of it."""
    from_s, to_s, days = _range(call)
    hours: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    event = call.params.get("event") or None
    for _name, did, t, _ in _events(call, from_s, to_s, [event] if event else None):
        hours[bucket(t, "day")][did].add(t // 3600)
    data = {}
    for day in days:
        per_user = [len(h) for h in hours[day].values()]
        data[day] = [sum(1 for n in per_user if n >= k) for k in range(1, 25)]
    return json_reply(200, {"data": data})


def activity_stream(call: Call) -> Reply:
    """The events of the given distinct ids, oldest first."""
    from_s, to_s, _ = _range(call)
    wanted = {str(d) for d in json_list(call, "distinct_ids") or []}
    if not wanted:
        raise bad(call, "distinct_ids must name at least one distinct id")
    events = [
        {"event": name, "properties": {**props, "time": t, "$distinct_id": did}}
        for name, did, t, props in _events(call, from_s, to_s, None)
        if did in wanted
    ]
    return json_reply(200, {"status": "ok", "results": {"events": events}})
