"""Events: validated as Mixpanel validates them, kept in their own indexed, append-only table.

Events are not a generic family: millions of rows, never updated, read by time range and
de-duplicated at query time. They live behind the same store object as the families.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .base import ModelError, encode, now_ms
from .database import Database
from .identities import Identities, canonical

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, event TEXT NOT NULL, distinct_id TEXT NOT NULL,
    time INTEGER NOT NULL, insert_id TEXT, received_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
"""
# Mixpanel's query-time de-duplication key; events without $insert_id are never duplicates.
DEDUP_KEY = "event, distinct_id, time, COALESCE(insert_id, 'row:' || id)"
MAX_EVENT_NAME = 255
MAX_PROPERTIES = 255
FUTURE_SLACK_S = 3600
TRACK_MAX_AGE_S = 5 * 24 * 3600
INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")


def seconds(value: float) -> int:
    """An event time in whole seconds (Mixpanel takes seconds or milliseconds)."""
    return int(value / 1000 if value > 1e11 else value)


class Events:
    """The `events` table: stored exactly as delivered, duplicates included."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def add(self, events: Iterable[dict[str, Any]]) -> int:
        """Store accepted events exactly as delivered (one transaction); return how many."""
        received = now_ms()
        rows = [
            (
                str(e["event"]),
                str(e["properties"].get("distinct_id", "")),
                seconds(e["properties"]["time"]),
                e["properties"].get("$insert_id"),
                received,
                encode(e),
            )
            for e in events
        ]
        with self.db.transaction() as db:
            db.executemany(
                "INSERT INTO events (event, distinct_id, time, insert_id, received_ms, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def raw_count(self) -> int:
        """Every stored event, duplicates included (what the raw export returns)."""
        return int(self.db.scalar("SELECT COUNT(*) FROM events"))

    def dedup_count(self) -> int:
        """Events after Mixpanel's query-time de-duplication."""
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM events GROUP BY {DEDUP_KEY})"
        return int(self.db.scalar(sql))

    def insert_ids(self) -> set[str]:
        """Every stored $insert_id (for tests)."""
        return {str(r[0]) for r in self.db.rows("SELECT DISTINCT insert_id FROM events")}

    def dedup(
        self,
        from_s: int,
        to_s: int,
        names: Sequence[str] | None,
        aliases: Mapping[str, str],
    ) -> list[tuple[str, str, int, dict[str, Any]]]:
        """De-duplicated (event, canonical distinct_id, time, properties) in a time range."""
        sql = "SELECT event, distinct_id, time, MIN(body) FROM events WHERE time BETWEEN ? AND ?"
        args: list[Any] = [from_s, to_s]
        if names:
            sql += f" AND event IN ({','.join('?' * len(names))})"
            args.extend(names)
        sql += f" GROUP BY {DEDUP_KEY} ORDER BY time, id"
        return [
            (event, canonical(aliases, did), t, json.loads(body)["properties"])
            for event, did, t, body in self.db.rows(sql, args)
        ]

    def raw(self, from_s: int, to_s: int) -> Iterator[tuple[dict[str, Any], int]]:
        """Stored events in a time range with their receive time, in arrival order."""
        sql = "SELECT body, received_ms FROM events WHERE time BETWEEN ? AND ? ORDER BY id"
        for body, received in self.db.rows(sql, (from_s, to_s)):
            yield json.loads(body), int(received)

    def recent(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """The last stored events, newest first, skipping the `offset` newest."""
        sql = "SELECT body FROM events ORDER BY id DESC LIMIT ? OFFSET ?"
        rows = self.db.rows(sql, (limit, offset))
        return [json.loads(body) for (body,) in rows]

    def counts(self) -> list[tuple[str, int, int]]:
        """Per event name: raw count and de-duplicated count."""
        sql = (
            "SELECT event, SUM(n), COUNT(*) FROM (SELECT event, COUNT(*) AS n FROM events"
            f" GROUP BY {DEDUP_KEY}) GROUP BY event ORDER BY event"
        )
        return [(str(e), int(raw), int(dedup)) for e, raw, dedup in self.db.rows(sql)]

    def clear(self) -> None:
        """Delete every event."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM events")


def check_event(record: Any, *, kind: str, token: str | None, now_s: float) -> dict[str, Any]:
    """Validate one event for `/track` or `/import`; fill `time` for /track; return it."""
    if not isinstance(record, dict):
        raise ModelError(400, "event must be a JSON object with 'event' and 'properties'", "")
    name = record.get("event")
    if not isinstance(name, str) or not name.strip():
        raise ModelError(400, "'event' must be a non-empty string", "event")
    if len(name) > MAX_EVENT_NAME:
        raise ModelError(400, f"'event' must be at most {MAX_EVENT_NAME} characters", "event")
    props = record.get("properties")
    if not isinstance(props, dict):
        raise ModelError(400, "'properties' must be a JSON object", "properties")
    if len(props) > MAX_PROPERTIES:
        message = f"an event may have at most {MAX_PROPERTIES} properties"
        raise ModelError(400, message, "properties")
    if kind == "track":
        if props.get("token") in (None, ""):
            raise ModelError(400, "token, missing or empty", "properties.token")
        if token is not None and props.get("token") != token:
            raise ModelError(400, "token does not match this project", "properties.token")
        props.setdefault("time", int(now_s))
    check_time(props.get("time"), kind=kind, now_s=now_s)
    if kind == "import" and not isinstance(props.get("distinct_id"), str | int):
        message = "'properties.distinct_id' must be specified"
        raise ModelError(400, message, "properties.distinct_id")
    insert_id = props.get("$insert_id")
    if insert_id is None and kind == "import":
        message = "'properties.$insert_id' must be specified"
        raise ModelError(400, message, "properties.$insert_id")
    if insert_id is not None and not (isinstance(insert_id, str) and INSERT_ID.match(insert_id)):
        message = "'properties.$insert_id' is invalid: it must be 1-36 letters, digits or '-'"
        raise ModelError(400, message, "properties.$insert_id")
    return record


def check_time(value: Any, *, kind: str, now_s: float) -> None:
    """Event time: seconds (or milliseconds) since the epoch, not in the future, in range."""
    field = "properties.time"
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        message = "'properties.time' is invalid: must be specified as seconds since epoch"
        raise ModelError(400, message, field)
    at = seconds(value)
    if at > now_s + FUTURE_SLACK_S:
        raise ModelError(400, "'properties.time' is invalid: it is in the future", field)
    if kind == "track" and at < now_s - TRACK_MAX_AGE_S:
        message = (
            "'properties.time' is more than 5 days old: /track takes recent events; use /import"
        )
        raise ModelError(400, message, field)


def ingest_events(
    events: Events, identities: Identities, records: list[Any], *, kind: str, token: str | None
) -> tuple[int, list[dict[str, Any]]]:
    """Validate and store events (merging ids they name); return (stored, failed_records)."""
    now_s = time.time()
    accepted, failed = [], []
    for index, record in enumerate(records):
        try:
            accepted.append(check_event(record, kind=kind, token=token, now_s=now_s))
        except ModelError as problem:
            props = record.get("properties") if isinstance(record, dict) else None
            insert_id = props.get("$insert_id") if isinstance(props, dict) else None
            failed.append(
                {
                    "index": index,
                    "insert_id": str(insert_id or ""),
                    "$insert_id": str(insert_id or ""),
                    "field": problem.field,
                    "message": problem.message,
                }
            )
    if kind == "track" and failed:
        return 0, failed
    for record in accepted:
        name, props = record["event"], record["properties"]
        if name == "$create_alias" and props.get("alias") and props.get("distinct_id"):
            identities.add_alias(str(props["alias"]), str(props["distinct_id"]))
        elif name == "$identify" and props.get("$anon_id") and props.get("$identified_id"):
            identities.add_alias(str(props["$anon_id"]), str(props["$identified_id"]))
    return events.add(accepted), failed
