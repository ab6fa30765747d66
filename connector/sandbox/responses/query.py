"""The Query API: saved funnels and insights, JQL's refusal, and the helpers its modules share."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from connector.core.jsondepth import loads_bounded
from connector.errors import JSONTooDeep

from ..models.families import FUNNELS, INSIGHTS
from ..reply import Call, Problem, Reply, error, json_reply
from ..where import WhereError, parse_where

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def bad(call: Call, message: str, status: int = 400) -> Problem:
    """A refusal in the Query API's error shape."""
    return Problem(error(status, message, style="query", path=call.path))


def json_list(call: Call, key: str) -> list[Any] | None:
    """A parameter holding a JSON array (or comma-separated values); None when absent."""
    text = call.params.get(key)
    if not text:
        return None
    try:
        value = loads_bounded(text, where=key)
    except JSONTooDeep as exc:
        raise bad(call, str(exc)) from None
    except json.JSONDecodeError:
        value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list):
        raise bad(call, f"{key} must be a JSON array")
    return value


def where_of(call: Call, key: str = "where") -> Any:
    """The predicate of a `where` selector parameter; None when absent."""
    text = call.params.get(key)
    if not text:
        return None
    try:
        return parse_where(text)
    except WhereError as exc:
        raise bad(call, str(exc)) from None


def integer(call: Call, key: str, default: int | None = None) -> int:
    """A whole-number parameter; `default` when absent, else required."""
    text = call.params.get(key)
    if text in (None, ""):
        if default is None:
            raise bad(call, f"{key} is required")
        return default
    try:
        return int(str(text))
    except ValueError:
        raise bad(call, f"{key} must be an integer, not {text!r}") from None


def funnels_list(call: Call) -> Reply:
    """Saved funnels: `[{"funnel_id", "name"}]`."""
    found = call.sandbox.store.resources.list(FUNNELS, call.context(), order="id")
    return json_reply(200, [{"funnel_id": f["id"], "name": f["name"]} for f in found])


def parse_date(call: Call, key: str) -> dt.date:
    """A required yyyy-mm-dd parameter."""
    text = call.params.get(key)
    if not text:
        raise bad(call, f"{key} is required (yyyy-mm-dd)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise bad(call, f"{key} must be a date yyyy-mm-dd, not {text!r}") from None


def day_start(day: dt.date) -> int:
    """Seconds since the epoch at 00:00 UTC of `day`."""
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def bucket(seconds: int, unit: str) -> str:
    """The ISO date that starts the day, week (Monday) or month holding `seconds`."""
    day = dt.datetime.fromtimestamp(seconds, dt.UTC).date()
    if unit == "week":
        day -= dt.timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    return day.isoformat()


def funnels(call: Call) -> Reply:
    """A saved funnel's step counts, computed from the de-duplicated stored events."""
    funnel_id = integer(call, "funnel_id")
    funnel = call.sandbox.store.resources.get(FUNNELS, call.context(), funnel_id)
    if funnel is None:
        raise bad(call, f"funnel_id {funnel_id} is not a saved funnel of this project")
    steps = list(funnel["steps"])
    start, end = parse_date(call, "from_date"), parse_date(call, "to_date")
    if end < start:
        raise bad(call, "to_date must not be before from_date")
    unit = call.params.get("unit") or "day"
    length_unit = call.params.get("length_unit") or funnel.get("length_unit", "day")
    if unit not in ("day", "week", "month") or length_unit not in UNIT_SECONDS:
        raise bad(call, "unit must be day, week or month; length_unit day, hour, minute or second")
    window = integer(call, "length", int(funnel.get("length", 14))) * UNIT_SECONDS[length_unit]
    match = where_of(call)
    from_s, to_s = day_start(start), day_start(end) + 86399
    by_user: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for event, did, t, props in call.sandbox.store.dedup_events(from_s, to_s + window, steps):
        if match is None or match(props):
            by_user[did].append((event, t))
    dates = sorted({bucket(s, unit) for s in range(from_s, to_s + 1, 86400)})
    reached: dict[str, list[list[int]]] = {d: [[] for _ in steps] for d in dates}
    for events in by_user.values():
        times = _walk(events, steps, from_s, to_s, window)
        if times:
            for index, t in enumerate(times):
                reached[bucket(times[0], unit)][index].append(t - times[max(index - 1, 0)])
    data = {d: _steps(steps, reached[d]) for d in dates}
    return json_reply(200, {"meta": {"dates": dates}, "data": data})


def _walk(
    events: list[tuple[str, int]], steps: list[str], from_s: int, to_s: int, window: int
) -> list[int]:
    """Times at which one user reached each step, entering in range, within the window."""
    times: list[int] = []
    for event, t in events:
        if len(times) == len(steps):
            break
        if not times:
            if event == steps[0] and from_s <= t <= to_s:
                times.append(t)
        elif event == steps[len(times)] and t >= times[-1] and t - times[0] <= window:
            times.append(t)
    return times


def _steps(steps: list[str], gaps: list[list[int]]) -> dict[str, Any]:
    counts = [len(g) for g in gaps]
    out: list[dict[str, Any]] = []
    for index, name in enumerate(steps):
        count = counts[index]
        previous = counts[index - 1] if index else count
        out.append(
            {
                "count": count,
                "goal": name,
                "event": name,
                "step_conv_ratio": (count / previous) if previous else 0.0,
                "overall_conv_ratio": (count / counts[0]) if counts[0] else 0.0,
                "avg_time": int(sum(gaps[index]) / count) if count and index else 0,
                "avg_time_from_start": 0,
            }
        )
    ratios = [float(step["step_conv_ratio"]) for step in out]
    worst = min(range(1, len(steps)), key=lambda i: ratios[i], default=0)
    return {
        "steps": out,
        "analysis": {
            "completion": counts[-1],
            "starting_amount": counts[0],
            "steps": len(steps),
            "worst": worst,
        },
    }


def insights(call: Call) -> Reply:
    """A saved insights report: de-duplicated event counts per day over its date range."""
    bookmark_id = integer(call, "bookmark_id")
    report = call.sandbox.store.resources.get(INSIGHTS, call.context(), bookmark_id)
    if report is None:
        raise bad(call, f"bookmark_id {bookmark_id} is not a saved report of this project")
    unit = str(report.get("unit", "day"))
    end = dt.datetime.now(dt.UTC).date()
    start = end - dt.timedelta(days=int(report.get("days", 30)) - 1)
    from_s, to_s = day_start(start), day_start(end) + 86399
    events = list(report["events"])
    series: dict[str, dict[str, int]] = {name: {} for name in events}
    for day in range(from_s, to_s + 1, 86400):
        for name in events:
            series[name][bucket(day, unit) + "T00:00:00+00:00"] = 0
    for event, _, t, _ in call.sandbox.store.dedup_events(from_s, to_s, events):
        series[event][bucket(t, unit) + "T00:00:00+00:00"] += 1
    return json_reply(
        200,
        {
            "computed_at": dt.datetime.now(dt.UTC).isoformat(),
            "date_range": {
                "from_date": f"{start}T00:00:00+00:00",
                "to_date": f"{end}T23:59:59+00:00",
            },
            "headers": ["$event"],
            "series": series,
        },
    )


def jql(call: Call) -> Reply:
    """JQL is not emulated: 501 with a message saying so."""
    message = "The sandbox does not run JQL; run this action against a real Mixpanel project."
    return error(501, message, style="query", path=call.path)
