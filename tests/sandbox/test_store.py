"""The store object: a state file of the earlier layout is moved onto the generic tables; reset."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from connector.sandbox import Store
from connector.sandbox.models.base import Context
from connector.sandbox.models.families import FUNNELS, PROFILES

#: The tables a state file written before the generic model layer holds.
LEGACY_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, event TEXT NOT NULL, distinct_id TEXT NOT NULL,
    time INTEGER NOT NULL, insert_id TEXT, received_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE profiles (distinct_id TEXT PRIMARY KEY, props TEXT NOT NULL,
    updated_ms INTEGER NOT NULL);
CREATE TABLE aliases (alias TEXT PRIMARY KEY, distinct_id TEXT NOT NULL);
CREATE TABLE reports (kind TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL,
    definition TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE pipelines (name TEXT PRIMARY KEY, project_id TEXT NOT NULL,
    params TEXT NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL);
"""


def test_an_older_state_file_keeps_its_profiles_reports_and_pipelines(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(LEGACY_SCHEMA)
    db.execute("INSERT INTO profiles VALUES ('u1', ?, 1)", (json.dumps({"plan": "pro"}),))
    db.execute("INSERT INTO aliases VALUES ('mail@x', 'u1')")
    steps = {"id": 5, "name": "Mine", "steps": ["A", "B"]}
    db.execute("INSERT INTO reports VALUES ('funnels', 5, 'Mine', ?)", (json.dumps(steps),))
    params = json.dumps({"frequency": "hourly", "gcs_bucket": "b"})
    db.execute(
        "INSERT INTO pipelines VALUES ('events-hourly-gcs-raw', '42', ?, 'paused', ?)",
        (params, 1_700_000_000_123),
    )
    db.commit()
    db.close()
    store = Store(str(path))
    assert store.profile("mail@x") == {"plan": "pro"}
    assert [(i, n) for i, n, _ in store.reports("funnels")] == [(5, "Mine")]  # not re-seeded
    (pipeline,) = store.pipelines("42")
    assert pipeline == {
        "name": "events-hourly-gcs-raw",
        "params": {"frequency": "hourly", "gcs_bucket": "b"},
        "state": "paused",
        "created": "2023-11-14T22:13:20Z",
    }
    assert not {"profiles", "reports", "pipelines"} & store.db.tables()
    store.close()
    again = Store(str(path))  # opening it again changes nothing
    assert again.profile_count() == 1 and len(again.pipelines("42")) == 1
    again.close()


def test_reset_empties_every_family_and_reseeds_the_saved_reports() -> None:
    store = Store()
    store.save_report("funnels", 99, "Extra", {"steps": ["A"]})
    store.resources.create(FUNNELS, Context(), {"name": "Made", "steps": ["B"]})
    store.add_alias("a", "b")
    store.reset()
    assert [i for i, _, _ in store.reports("funnels")] == [7509, 9070]
    assert store.alias_map() == {}
    assert store.resources.create(FUNNELS, Context(), {"name": "New", "steps": ["C"]})["id"] == 9071
    store.close()


def test_profiles_page_in_natural_order_and_event_names_too() -> None:
    store = Store()
    for did in ("user-10", "user-2", "user-1", "10", "9", "user-100"):
        body = {"$distinct_id": did, "$properties": {"id": did}}
        store.resources.put(PROFILES, Context(), did, body)
    assert [d for d, _ in store.profile_page(0, 10)] == [
        "9",
        "10",
        "user-1",
        "user-2",
        "user-10",
        "user-100",
    ]
    assert [d for d, _ in store.profile_page(3, 2)] == ["user-2", "user-10"]
    assert store.profile_page(3, 2)[0][1] == {"id": "user-2"}
    events = [{"event": f"Step {n}", "properties": {"time": 1, "n": n}} for n in (10, 2, 1)]
    store.add_events(events)
    assert [name for name, _, _ in store.event_counts()] == ["Step 1", "Step 2", "Step 10"]
    assert [e["properties"]["n"] for e in store.recent_events(2, 1)] == [2, 10]
