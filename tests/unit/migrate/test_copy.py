"""The copy job between two sandboxes, in process: ids, offsets, filters, dry run, resume."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.migrate.copy import CopyPlan, Side, copy_events
from connector.migrate.copystate import CopyState
from connector.sandbox import Sandbox

START = 1_714_521_600  # 2024-05-01T00:00:00Z
DAY = 86_400


def _events(count: int, days: int = 4) -> list[dict[str, Any]]:
    return [
        {
            "event": f"e{n % 3}",
            "properties": {
                "time": START + (n % days) * DAY + n,
                "distinct_id": f"u{n % 50}",
                "$insert_id": f"id-{n:07d}",
                "n": n,
            },
        }
        for n in range(count)
    ]


@pytest.fixture
def pair() -> Iterator[tuple[Sandbox, Sandbox]]:
    with Sandbox() as source, Sandbox() as target:
        yield source, target


def _side(sandbox: Sandbox) -> Side:
    component = load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
    return Side(component, sandbox.connection, {"project_id": sandbox.project_id})


def _stored(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    return {e["properties"]["$insert_id"]: e for e, _ in sandbox.store.raw_events(0, 2**31)}


def _plan(tmp_path: Path, **options: Any) -> CopyPlan:
    return CopyPlan("2024-05-01", "2024-05-04", state=tmp_path / "copy.json", **options)


def test_a_copy_leaves_exactly_the_sources_events_and_counts_both_sides(
    pair: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    source, target = pair
    source.store.add_events(_events(4500))
    summary = copy_events(_side(source), _side(target), _plan(tmp_path, workers=2))
    assert target.store.raw_event_count() == 4500 == target.store.dedup_event_count()
    assert target.store.insert_ids() == source.store.insert_ids()
    copied, original = _stored(target), _stored(source)
    for key in ("id-0000000", "id-0004499"):
        assert copied[key]["properties"] == original[key]["properties"]  # time, ids, props kept
        assert copied[key]["event"] == original[key]["event"]
    assert summary["source"] == {
        "events_exported": 4500,
        "windows": 1,
        "windows_resumed": 0,
        "requests": 1,
        "cuts": 0,
    }
    assert summary["target"]["events_sent"] == 4500
    assert summary["target"]["events_imported"] == 4500
    assert summary["target"]["requests"] == 3  # 2000 a request
    assert not (tmp_path / "copy.json").exists()  # done: no state left


def test_the_time_offset_moves_every_event_and_keeps_its_id(
    pair: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    source, target = pair
    source.store.add_events(_events(300))
    copy_events(_side(source), _side(target), _plan(tmp_path, transforms={"time_offset_hours": -7}))
    copied, original = _stored(target), _stored(source)
    assert set(copied) == set(original)
    for key, event in original.items():
        assert copied[key]["properties"]["time"] == event["properties"]["time"] - 7 * 3600


def test_filters_by_name_and_date(pair: tuple[Sandbox, Sandbox], tmp_path: Path) -> None:
    source, target = pair
    source.store.add_events(_events(600))
    plan = _plan(tmp_path, events=["e0", "e1"], transforms={"from_date": "2024-05-02"})
    summary = copy_events(_side(source), _side(target), plan)
    expected = {
        e["properties"]["$insert_id"]
        for e in _events(600)
        if e["event"] in ("e0", "e1") and e["properties"]["time"] >= START + DAY
    }
    assert target.store.insert_ids() == expected
    assert summary["source"]["events_exported"] == 400  # the names filtered at the source
    assert summary["events_filtered"] == 400 - len(expected)  # the date here


def test_a_dry_run_samples_and_sends_nothing_to_the_target(
    pair: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    source, target = pair
    source.store.add_events(_events(4500))
    shown = copy_events(_side(source), _side(target), _plan(tmp_path), dry_run=True)
    assert target.store.raw_event_count() == 0 and target.store.requests() == []
    assert len(shown["requests"]) == 3 and shown["events_in_window"] == 4500
    first = shown["requests"][0]
    assert first["url"].startswith(f"{target.base_url}/import")
    assert len(first["body"]) == 3 and first["body"][0]["properties"]["$insert_id"] == "id-0000000"
    assert "mp_processing_time_ms" not in first["body"][0]["properties"]
    assert target.password not in json.dumps(shown)
    assert shown["note"].startswith("dry run: 3 request(s) carrying 4,500 record(s)")
    assert "--dry-run-all" not in shown["note"]


def _daily_copy(pair: tuple[Sandbox, Sandbox], tmp_path: Path) -> tuple[Side, Side, CopyPlan]:
    """800 events in the source, a day per window: the source side, the target side, the plan."""
    source, target = pair
    source.store.add_events(_events(800))
    sides = _side(source), _side(target)
    one_day = Side(
        sides[0].component, sides[0].connection, {**sides[0].inputs, "daysPerRequest": 1}
    )
    return one_day, sides[1], _plan(tmp_path)


def _exports(source: Sandbox) -> int:
    """The export requests the source has answered so far."""
    return sum(1 for r in source.store.requests() if r["path"] == "/api/2.0/export")


def test_a_rerun_skips_the_windows_an_earlier_run_finished(
    pair: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    source, target = pair
    one_day, to, plan = _daily_copy(pair, tmp_path)

    class Stop(Exception):
        pass

    real = CopyState.finished
    calls = []

    def finished(self: CopyState, window: Any, counts: Any) -> None:
        real(self, window, counts)
        calls.append(window)
        if len(calls) == 2:
            raise Stop  # killed after two windows were recorded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CopyState, "finished", finished)
        with pytest.raises(Stop):
            copy_events(one_day, to, plan)
    # The window after the second may have finished too: its import overlapped the second's.
    recorded = len(json.loads((tmp_path / "copy.json").read_text())["windows"])
    assert recorded in (2, 3)
    exports_before = _exports(source)
    summary = copy_events(one_day, to, plan)
    assert _exports(source) - exports_before == 4 - recorded  # only the windows not finished
    assert summary["source"]["windows_resumed"] == recorded and summary["source"]["windows"] == 4
    assert target.store.insert_ids() == source.store.insert_ids()
    assert target.store.raw_event_count() == 800  # nothing sent twice


def test_a_rerun_copes_with_a_later_window_finished_before_an_earlier_one(
    pair: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    source, target = pair
    one_day, to, plan = _daily_copy(pair, tmp_path)

    class Stop(Exception):
        pass

    real = CopyState.finished

    def finished(self: CopyState, window: Any, counts: Any) -> None:
        if window.label() != "2024-05-01":  # the first window was still in flight at the kill
            real(self, window, counts)

    def remove(self: CopyState) -> None:
        raise Stop

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CopyState, "finished", finished)
        patch.setattr(CopyState, "remove", remove)
        with pytest.raises(Stop):
            copy_events(one_day, to, plan)
    kept = json.loads((tmp_path / "copy.json").read_text())["windows"]
    assert sorted(kept) == [[f"2024-05-0{d}", f"2024-05-0{d}"] for d in (2, 3, 4)]
    exports_before = _exports(source)
    summary = copy_events(one_day, to, plan)
    assert _exports(source) - exports_before == 1  # only the first day's window again
    assert summary["source"]["windows_resumed"] == 3 and summary["source"]["windows"] == 4
    assert summary["source"]["events_exported"] == 800
    assert target.store.insert_ids() == source.store.insert_ids()
    assert target.store.raw_event_count() == 1000  # the first day twice, none of the others
    assert not list(tmp_path.glob("copy*"))
