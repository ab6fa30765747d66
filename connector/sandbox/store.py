"""The sandbox's state in SQLite: raw events, profiles, identities, saved reports, pipelines."""

from __future__ import annotations

import collections
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, event TEXT NOT NULL, distinct_id TEXT NOT NULL,
    time INTEGER NOT NULL, insert_id TEXT, received_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS profiles (distinct_id TEXT PRIMARY KEY, props TEXT NOT NULL,
    updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, distinct_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (kind TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL,
    definition TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS pipelines (name TEXT PRIMARY KEY, project_id TEXT NOT NULL,
    params TEXT NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL);
"""
# Mixpanel's query-time de-duplication key; events without $insert_id are never duplicates.
DEDUP_KEY = "event, distinct_id, time, COALESCE(insert_id, 'row:' || id)"
MAX_REQUEST_LOG = 10_000


_encode = json.JSONEncoder(separators=(",", ":")).encode


def seconds(value: float) -> int:
    """An event time in whole seconds (Mixpanel takes seconds or milliseconds)."""
    return int(value / 1000 if value > 1e11 else value)


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch."""
    return int(time.time() * 1000)


class Store:
    """Thread-safe access to one SQLite database (`:memory:` or a file, WAL mode)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._requests: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=MAX_REQUEST_LOG
        )
        if self.scalar("SELECT COUNT(*) FROM reports") == 0:
            self._seed_reports()

    # --- plumbing --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one write transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and return all rows."""
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run a read query and return the first column of the first row."""
        found = self.rows(sql, args)
        return found[0][0] if found else None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def reset(self) -> None:
        """Empty every table (credentials in `meta` stay) and re-seed the saved reports."""
        with self.transaction() as db:
            for table in ("events", "profiles", "aliases", "reports", "pipelines"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self._seed_reports()
        self._requests.clear()

    # --- meta ------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A stored setting (credentials of a file database), or None."""
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- events ----------------------------------------------------------------------------

    def add_events(self, events: Iterable[dict[str, Any]]) -> int:
        """Store accepted events exactly as delivered (one transaction); return how many."""
        received = now_ms()
        rows = [
            (
                str(e["event"]),
                str(e["properties"].get("distinct_id", "")),
                seconds(e["properties"]["time"]),
                e["properties"].get("$insert_id"),
                received,
                _encode(e),
            )
            for e in events
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO events (event, distinct_id, time, insert_id, received_ms, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def raw_event_count(self) -> int:
        """Every stored event, duplicates included (what the raw export returns)."""
        return int(self.scalar("SELECT COUNT(*) FROM events"))

    def dedup_event_count(self) -> int:
        """Events after Mixpanel's query-time de-duplication."""
        return int(self.scalar(f"SELECT COUNT(*) FROM (SELECT 1 FROM events GROUP BY {DEDUP_KEY})"))

    def insert_ids(self) -> set[str]:
        """Every stored $insert_id (for tests)."""
        return {str(r[0]) for r in self.rows("SELECT DISTINCT insert_id FROM events")}

    def dedup_events(
        self, from_s: int, to_s: int, names: Sequence[str] | None = None
    ) -> list[tuple[str, str, int, dict[str, Any]]]:
        """De-duplicated (event, canonical distinct_id, time, properties) in a time range."""
        sql = "SELECT event, distinct_id, time, MIN(body) FROM events WHERE time BETWEEN ? AND ?"
        args: list[Any] = [from_s, to_s]
        if names:
            sql += f" AND event IN ({','.join('?' * len(names))})"
            args.extend(names)
        sql += f" GROUP BY {DEDUP_KEY} ORDER BY time, id"
        aliases = self.alias_map()
        return [
            (event, canonical(aliases, did), t, json.loads(body)["properties"])
            for event, did, t, body in self.rows(sql, args)
        ]

    def raw_events(self, from_s: int, to_s: int) -> Iterator[tuple[dict[str, Any], int]]:
        """Stored events in a time range with their receive time, in arrival order."""
        sql = "SELECT body, received_ms FROM events WHERE time BETWEEN ? AND ? ORDER BY id"
        for body, received in self.rows(sql, (from_s, to_s)):
            yield json.loads(body), int(received)

    def recent_events(self, limit: int = 50) -> list[dict[str, Any]]:
        """The last stored events, newest first."""
        rows = self.rows("SELECT body FROM events ORDER BY id DESC LIMIT ?", (limit,))
        return [json.loads(body) for (body,) in rows]

    def event_counts(self) -> list[tuple[str, int, int]]:
        """Per event name: raw count and de-duplicated count."""
        sql = (
            "SELECT event, SUM(n), COUNT(*) FROM (SELECT event, COUNT(*) AS n FROM events"
            f" GROUP BY {DEDUP_KEY}) GROUP BY event ORDER BY event"
        )
        return [(str(e), int(raw), int(dedup)) for e, raw, dedup in self.rows(sql)]

    # --- identities and profiles -----------------------------------------------------------

    def alias_map(self) -> dict[str, str]:
        """Every alias or anonymous id and the id it was merged into."""
        return {str(a): str(d) for a, d in self.rows("SELECT alias, distinct_id FROM aliases")}

    def add_alias(self, alias: str, distinct_id: str) -> None:
        """Merge `alias` into `distinct_id`'s identity (ignored if it would loop)."""
        aliases = self.alias_map()
        target = canonical(aliases, distinct_id)
        if alias == target or canonical(aliases, alias) == target:
            return
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (alias, target))

    def profile(self, distinct_id: str) -> dict[str, Any] | None:
        """One profile's properties (aliases resolved), or None."""
        key = canonical(self.alias_map(), distinct_id)
        body = self.scalar("SELECT props FROM profiles WHERE distinct_id = ?", (key,))
        return None if body is None else dict(json.loads(body))

    def profiles(self) -> list[tuple[str, dict[str, Any]]]:
        """Every profile, ordered by distinct id."""
        rows = self.rows("SELECT distinct_id, props FROM profiles ORDER BY distinct_id")
        return [(str(d), json.loads(p)) for d, p in rows]

    def profile_count(self) -> int:
        """How many profiles exist."""
        return int(self.scalar("SELECT COUNT(*) FROM profiles"))

    # --- saved reports ---------------------------------------------------------------------

    def _seed_reports(self) -> None:
        text = resources.files(__package__).joinpath("fixtures.json").read_text("utf-8")
        for kind, items in json.loads(text).items():
            for item in items:
                self.save_report(kind, int(item["id"]), str(item["name"]), item)

    def save_report(self, kind: str, report_id: int, name: str, definition: dict[str, Any]) -> None:
        """Create or replace a saved report (`funnels` or `insights`)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?)",
                (kind, report_id, name, json.dumps(definition)),
            )

    def reports(self, kind: str) -> list[tuple[int, str, dict[str, Any]]]:
        """Saved reports of one kind: (id, name, definition)."""
        rows = self.rows(
            "SELECT id, name, definition FROM reports WHERE kind = ? ORDER BY id", (kind,)
        )
        return [(int(i), str(n), json.loads(d)) for i, n, d in rows]

    # --- request log -----------------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> None:
        """Remember one request (method, path, export range, status, started, finished)."""
        self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """The requests served so far (the most recent 10,000), oldest first."""
        return list(self._requests)


def canonical(aliases: dict[str, str], distinct_id: str) -> str:
    """Follow merged ids to the identity's canonical distinct id."""
    seen = set()
    while distinct_id in aliases and distinct_id not in seen:
        seen.add(distinct_id)
        distinct_id = aliases[distinct_id]
    return distinct_id
