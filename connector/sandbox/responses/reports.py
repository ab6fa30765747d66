"""The Query API's reports beyond saved ones: retention, segmentation, events, streams, cohorts.

Each is computed from the de-duplicated stored events, in the shape Mixpanel documents.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from ..models.families import COHORTS
from ..reply import Call, Reply, json_reply
from .query import bad, bucket, date_param, day_start, int_param, json_list, where_of

Event = tuple[str, str, int, dict[str, Any]]  # (name, canonical distinct id, time, properties)


def _range(call: Call) -> tuple[int, int, list[str]]:
    start, end = date_param(call, "from_date"), date_param(call, "to_date")
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


def segmentation(call: Call) -> Reply:
    """Event counts per unit (general, unique or average), segmented by `on` when given."""
    from_s, to_s, _ = _range(call)
    unit, event = _unit(call, ("minute", "hour", "day", "month")), _event_name(call)
    on = _evaluate(call, call.params["on"]) if call.params.get("on") else None
    values: dict[str, Counter[str]] = defaultdict(Counter)
    for _name, _did, t, props in _events(call, from_s, to_s, [event]):
        values[str(on(props)) if on else event][bucket(t, unit)] += 1
    series = sorted({bucket(s, unit) for s in range(from_s, to_s + 1, 86400)})
    data = {"series": series, "values": {k: dict(v) for k, v in values.items()}}
    return json_reply(200, {"data": data, "legend_size": len(values)})


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
    count = max(1, min(int_param(call, "interval_count", 1), 100))
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


def cohorts_list(call: Call) -> Reply:
    """The saved cohorts."""
    found = call.sandbox.store.resources.list(COHORTS, call.context(), order="id")
    return json_reply(200, found)


def _recent(call: Call, days: int = 30) -> list[Event]:
    end = dt.datetime.now(dt.UTC).date()
    from_s = day_start(end - dt.timedelta(days=days - 1))
    return call.sandbox.store.dedup_events(from_s, day_start(end) + 86399, None)


def event_counts(call: Call) -> Reply:
    """Counts of the listed events per unit."""
    names = [str(n) for n in json_list(call, "event") or []]
    if not names:
        raise bad(call, "event must be a JSON array of event names")
    from_s, to_s, _ = _range(call)
    unit = _unit(call, ("minute", "hour", "day", "week", "month"))
    values: dict[str, Counter[str]] = {n: Counter() for n in names}
    for name, _did, t, _ in _events(call, from_s, to_s, names):
        values[name][bucket(t, unit)] += 1
    series = sorted({bucket(s, unit) for s in range(from_s, to_s + 1, 86400)})
    data = {"series": series, "values": {k: dict(v) for k, v in values.items()}}
    return json_reply(200, {"data": data, "legend_size": len(names)})


def property_values(call: Call) -> Reply:
    """Counts of one event per value of one property, per unit."""
    from_s, to_s, _ = _range(call)
    event, prop = _event_name(call), call.params.get("name") or ""
    if not prop:
        raise bad(call, "name is required: the property to read")
    unit = _unit(call, ("minute", "hour", "day", "week", "month"))
    values: dict[str, Counter[str]] = defaultdict(Counter)
    for _name, _did, t, props in _events(call, from_s, to_s, [event]):
        if prop in props:
            values[str(props[prop])][bucket(t, unit)] += 1
    series = sorted({bucket(s, unit) for s in range(from_s, to_s + 1, 86400)})
    data = {"series": series, "values": {k: dict(v) for k, v in values.items()}}
    return json_reply(200, {"data": data, "legend_size": len(values)})


def top_events(call: Call) -> Reply:
    """Today's events by count."""
    today = bucket(int(dt.datetime.now(dt.UTC).timestamp()), "day")
    counts = Counter(name for name, _d, t, _ in _recent(call, 1) if bucket(t, "day") == today)
    limit = int_param(call, "limit", 100)
    events = [{"amount": n, "event": e, "percent_change": 0} for e, n in counts.most_common(limit)]
    return json_reply(200, {"events": events, "type": call.params.get("type") or "general"})


def top_event_names(call: Call) -> Reply:
    """The last 31 days' event names, most frequent first."""
    counts = Counter(name for name, *_ in _recent(call, 31))
    return json_reply(200, [e for e, _ in counts.most_common(int_param(call, "limit", 255))])


def top_properties(call: Call) -> Reply:
    """An event's property names by how many of its events carry them."""
    event = _event_name(call)
    counts = Counter(k for name, _d, _t, props in _recent(call) if name == event for k in props)
    top = counts.most_common(int_param(call, "limit", 10))
    return json_reply(200, {k: {"count": n} for k, n in top})


def top_values(call: Call) -> Reply:
    """An event property's values, most frequent first."""
    event, prop = _event_name(call), call.params.get("name") or ""
    counts = Counter(
        str(props[prop]) for name, _d, _t, props in _recent(call) if name == event and prop in props
    )
    return json_reply(200, [v for v, _ in counts.most_common(int_param(call, "limit", 255))])
