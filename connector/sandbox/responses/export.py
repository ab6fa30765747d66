"""The raw export (/api/2.0/export): JSON lines as ingested, duplicates included."""

from __future__ import annotations

import datetime as dt
import gzip
import json

from connector.core.jsondepth import loads_bounded
from connector.errors import JSONTooDeep

from ..models.events import seconds
from ..reply import Call, Problem, Reply, error
from ..where import WhereError, parse_where
from .query import day_start

SECRET_PROPERTIES = ("token",)


def _bad(message: str) -> Problem:
    return Problem(error(400, message))


def _date(call: Call, key: str) -> dt.date:
    text = call.params.get(key)
    if not text:
        raise _bad(f"{key} is required (yyyy-mm-dd)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _bad(f"{key} must be a date yyyy-mm-dd, not {text!r}") from None


def export(call: Call) -> Reply:
    """Events whose time falls in [from_date, to_date], filtered by `event` and `where`."""
    start, end = _date(call, "from_date"), _date(call, "to_date")
    if end < start:
        raise _bad("to_date must not be before from_date")
    names = None
    if call.params.get("event"):
        try:
            names = loads_bounded(call.params["event"], where="event")
        except (json.JSONDecodeError, JSONTooDeep):
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _bad('event must be a JSON array of event names, e.g. ["Signed Up"]')
    match = None
    if call.params.get("where"):
        try:
            match = parse_where(call.params["where"])
        except WhereError as exc:
            raise _bad(str(exc)) from None
    limit_text = call.params.get("limit") or ""
    if limit_text and not limit_text.isdigit():
        raise _bad(f"limit must be a whole number, not {limit_text!r}")
    limit = int(limit_text) if limit_text else None
    if limit is not None and limit > 100_000:
        raise _bad("limit must be at most 100000")
    in_ms = call.params.get("time_in_ms", "").lower() == "true"
    lines: list[str] = []
    store = call.sandbox.store
    for record, received_ms in store.raw_events(day_start(start), day_start(end) + 86399):
        if limit is not None and len(lines) >= limit:
            break
        props = {k: v for k, v in record["properties"].items() if k not in SECRET_PROPERTIES}
        if names is not None and record["event"] not in names:
            continue
        if match is not None and not match(props):
            continue
        props["time"] = seconds(props["time"]) * (1000 if in_ms else 1)
        props["mp_processing_time_ms"] = received_ms
        lines.append(
            json.dumps({"event": record["event"], "properties": props}, separators=(",", ":"))
        )
    body = "".join(line + "\n" for line in lines).encode()
    headers = {}
    if "gzip" in call.headers.get("accept-encoding", "").lower():
        body, headers = gzip.compress(body, compresslevel=5), {"Content-Encoding": "gzip"}
    return Reply(200, body, "text/plain; charset=utf-8", headers)
