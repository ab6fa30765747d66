"""The Query API's event breakdowns (/events*, /segmentation), answered from the stored events.

Every count is over the de-duplicated events, by UTC day, week or month. `type` is `general`
(every event), `unique` (distinct users) or `average` (events per user).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from connector.core.jsondepth import loads_bounded

from ..reply import Call, Reply, json_reply
from .query import bad, bucket, day_start, integer, parse_date, where_of

TYPES = ("general", "unique", "average")
UNITS = ("day", "week", "month")
ON = re.compile(r'^\s*properties\s*\[\s*"((?:[^"\\]|\\.)*)"\s*\]\s*$')
#: How far back /events/names, /events/top and the /events/properties lists look, in days.
RECENT_DAYS = 31

Row = tuple[str, str, int]  # (legend key, canonical distinct id, time in seconds)


def _range(call: Call) -> tuple[int, int]:
    """[from, to] in seconds: from_date/to_date, or the last `interval` days up to today."""
    if not call.params.get("from_date") and call.params.get("interval"):
        end = _today(call)
        start = end - dt.timedelta(days=integer(call, "interval") - 1)
    else:
        start, end = parse_date(call, "from_date"), parse_date(call, "to_date")
    if end < start:
        raise bad(call, "to_date must not be before from_date")
    return day_start(start), day_start(end) + 86399


def _today(call: Call) -> dt.date:
    return dt.datetime.fromtimestamp(call.sandbox.clock(), dt.UTC).date()


def _choice(call: Call, key: str, choices: tuple[str, ...]) -> str:
    value = call.params.get(key) or choices[0]
    if value not in choices:
        raise bad(call, f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _names(call: Call, key: str = "event") -> list[str]:
    text = call.params.get(key) or ""
    try:
        value = loads_bounded(text, where=key)
    except ValueError:  # not JSON, or nested too deep: a name as it is
        value = [text] if text else []
    if isinstance(value, str):
        value = [value]
    if not value or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(call, f'{key} is required: a JSON array of event names, e.g. ["Signed Up"]')
    return value


def _property(call: Call, key: str) -> str:
    """A property name, bare (`name=browser`) or as an expression (`properties["browser"]`)."""
    text = call.params.get(key) or ""
    found = ON.match(text)
    return json.loads(f'"{found.group(1)}"') if found else text.strip()


def _legend(value: Any) -> str:
    """A property value as a legend key (Mixpanel shows strings as they are, others as JSON)."""
    return value if isinstance(value, str) else json.dumps(value)


def _series(call: Call, rows: Iterable[Row], from_s: int, to_s: int, limit: int | None) -> Reply:
    """`{"data": {"series", "values"}, "legend_size"}` counted as `type` asks, per `unit`."""
    kind = _choice(call, "type", TYPES)
    unit = _choice(call, "unit", UNITS)
    dates = sorted({bucket(s, unit) for s in range(from_s, to_s + 1, 86400)})
    events: dict[str, Counter[str]] = defaultdict(Counter)
    users: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key, did, t in rows:
        events[key][bucket(t, unit)] += 1
        users[key][bucket(t, unit)].add(did)
    ranked = sorted(events, key=lambda k: (-sum(events[k].values()), k))[:limit]

    def count(key: str, date: str) -> float:
        n, people = events[key][date], len(users[key][date])
        if kind == "unique":
            return people
        return n if kind == "general" else (round(n / people, 2) if people else 0)

    values = {key: {date: count(key, date) for date in dates} for key in ranked}
    data = {"series": dates, "values": values}
    return json_reply(200, {"data": data, "legend_size": len(ranked)})


def _events(call: Call, names: list[str] | None, from_s: int, to_s: int) -> list[Any]:
    match = where_of(call)
    found = call.sandbox.store.dedup_events(from_s, to_s, names)
    return [e for e in found if match is None or match(e[3])]


def events(call: Call) -> Reply:
    """/events: counts of each named event per unit."""
    names = _names(call)
    from_s, to_s = _range(call)
    rows = [(e, did, t) for e, did, t, _ in _events(call, names, from_s, to_s)]
    return _series(call, rows, from_s, to_s, None)


def segmentation(call: Call) -> Reply:
    """/segmentation: one event's counts per unit, segmented `on` a property when given."""
    name = _names(call)[:1]
    from_s, to_s = _range(call)
    limit = integer(call, "limit", 60)
    prop = _property(call, "on")
    rows = [
        (_legend(props.get(prop)) if prop else e, did, t)
        for e, did, t, props in _events(call, name, from_s, to_s)
        if not prop or prop in props
    ]
    return _series(call, rows, from_s, to_s, limit)


def event_property(call: Call) -> Reply:
    """/events/properties: one event's counts per value of property `name`."""
    name, prop = _names(call)[:1], _property(call, "name")
    if not prop:
        raise bad(call, "name is required: the property to break the event down by")
    wanted = _values_filter(call)
    from_s, to_s = _range(call)
    rows = [
        (_legend(props[prop]), did, t)
        for _, did, t, props in _events(call, name, from_s, to_s)
        if prop in props and (wanted is None or _legend(props[prop]) in wanted)
    ]
    return _series(call, rows, from_s, to_s, integer(call, "limit", 255))


def _values_filter(call: Call) -> set[str] | None:
    text = call.params.get("values")
    if not text:
        return None
    try:
        values = loads_bounded(text, where="values")
    except ValueError:  # not JSON, or nested too deep
        raise bad(call, 'values must be a JSON array, e.g. ["female", "unknown"]') from None
    if not isinstance(values, list):
        raise bad(call, 'values must be a JSON array, e.g. ["female", "unknown"]')
    return {_legend(v) for v in values}


def _recent(call: Call, names: list[str] | None = None) -> list[Any]:
    """The de-duplicated events of the last RECENT_DAYS days."""
    today = _today(call)
    start = day_start(today - dt.timedelta(days=RECENT_DAYS - 1))
    return call.sandbox.store.dedup_events(start, day_start(today) + 86399, names)


def _ranked(counts: Counter[str], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _counter(call: Call, rows: Iterable[tuple[str, str]]) -> Counter[str]:
    """Counts of keys over (key, distinct id) pairs: events, or users when type=unique."""
    kind = _choice(call, "type", TYPES)
    if kind == "unique":
        return Counter(key for key, _ in set(rows))
    return Counter(key for key, _ in rows)


def names(call: Call) -> Reply:
    """/events/names: the most common event names of the last 31 days."""
    counts = _counter(call, ((e, did) for e, did, _, _ in _recent(call)))
    return json_reply(200, [name for name, _ in _ranked(counts, integer(call, "limit", 255))])


def top(call: Call) -> Reply:
    """/events/top: today's most common events, with the change from yesterday."""
    today = day_start(_today(call))
    found = _recent(call)
    now = _counter(call, ((e, did) for e, did, t, _ in found if t >= today))
    before = _counter(call, ((e, did) for e, did, t, _ in found if today - 86400 <= t < today))
    ranked = _ranked(now, integer(call, "limit", 100))
    items = [
        {
            "amount": amount,
            "event": name,
            "percent_change": (amount - before[name]) / before[name] if before[name] else 0,
        }
        for name, amount in ranked
    ]
    return json_reply(200, {"events": items, "type": _choice(call, "type", TYPES)})


def properties_top(call: Call) -> Reply:
    """/events/properties/top: one event's most common property names and their counts."""
    counts: Counter[str] = Counter()
    for _, _, _, props in _recent(call, _names(call)[:1]):
        counts.update(k for k in props if k not in ("token", "time", "distinct_id", "$insert_id"))
    ranked = _ranked(counts, integer(call, "limit", 10))
    return json_reply(200, {name: {"count": n} for name, n in ranked})


def property_values(call: Call) -> Reply:
    """/events/properties/values: the most common values of one property of one event."""
    prop = _property(call, "name")
    if not prop:
        raise bad(call, "name is required: the property whose values to list")
    found = _recent(call, _names(call)[:1])
    counts = Counter(_legend(props[prop]) for _, _, _, props in found if prop in props)
    return json_reply(200, [value for value, _ in _ranked(counts, integer(call, "limit", 255))])


def _type_of(value: Any) -> str:
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "boolean"),
        ((int, float), "number"),
        (list, "list"),
        (dict, "object"),
    ]
    return next((name for kind, name in kinds if isinstance(value, kind)), "string")


def profile_properties(rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Every property name of the profiles `rows`, how many have it and its type."""
    counts: Counter[str] = Counter()
    types: dict[str, str] = {}
    for _, props in rows:
        for key, value in props.items():
            counts[key] += 1
            types.setdefault(key, _type_of(value))
    return {key: {"count": counts[key], "type": types[key]} for key in sorted(counts)}
