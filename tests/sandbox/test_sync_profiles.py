"""sync profiles (by $last_seen) and sync members (a cohort's joins and leaves), on the sandbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from connector import Component
from connector.sandbox import Sandbox
from connector.sync.members import MembershipChanges, sync_members
from connector.sync.runner import run_sync

DAY0 = dt.date(2026, 3, 1)
PRO = {"id": 1001}  # a cohort each test saves: properties["plan"] == "pro"
PRO_WHERE = {"where": 'properties["plan"] == "pro"'}


def _set(component: Component, sandbox: Sandbox, who: str, **props: Any) -> None:
    update = [{"$distinct_id": who, "$set": props}]
    component.run("updateMultipleProfiles", {"propertiesToUpdate": update}, sandbox.connection)


def _seen(day: dt.date, hour: int = 9) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00"


def test_profiles_sync_delivers_each_version_once_late_updates_included(
    sandbox: Sandbox, component: Component, tmp_path: Path
) -> None:
    state, delivered = str(tmp_path / "profiles.state"), []
    inputs = {"project_id": sandbox.project_id}

    def sync(day: dt.date) -> Any:
        return run_sync(
            component, "queryProfiles", inputs, sandbox.connection, state, delivered.extend,
            until=day, lookback_days=3,
        )  # fmt: skip

    _set(component, sandbox, "old", **{"$last_seen": _seen(DAY0 - dt.timedelta(days=30))})
    for run in range(6):
        day = DAY0 + dt.timedelta(days=run)
        _set(component, sandbox, f"u{run}", **{"$last_seen": _seen(day)})
        if run == 4:  # u1 comes back, seen late: a new version, delivered once
            _set(component, sandbox, "u1", **{"$last_seen": _seen(day - dt.timedelta(days=2))})
        sync(day)
    versions = [(p["$distinct_id"], p["$properties"]["$last_seen"]) for p in delivered]
    assert sorted(versions) == sorted(
        [(f"u{n}", _seen(DAY0 + dt.timedelta(days=n))) for n in range(6)]
        + [("u1", _seen(DAY0 + dt.timedelta(days=2)))]
    )  # "old" was last seen before the first run's window: the $last_seen filter left it out
    assert sync(DAY0 + dt.timedelta(days=5)).delivered == 0


def test_members_sync_reports_who_joined_and_left_the_cohort(
    sandbox: Sandbox, component: Component, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path}/members.db"
    inputs = {"project_id": sandbox.project_id, "filter_by_cohort": PRO}
    heard: list[MembershipChanges] = []

    def sync() -> MembershipChanges:
        return sync_members(
            component, "queryProfiles", inputs, sandbox.connection, state, heard.append
        )

    sandbox.store.save_report("cohorts", 1001, "Pro plan", PRO_WHERE)
    _set(component, sandbox, "a", plan="pro")
    _set(component, sandbox, "b", plan="free")
    first = sync()
    assert (first.added, first.removed, first.first_run) == (["a"], [], True)
    _set(component, sandbox, "b", plan="pro")
    _set(component, sandbox, "a", plan="free")
    _set(component, sandbox, "c", plan="pro")
    second = sync()
    assert (second.added, second.removed, second.members) == (["b", "c"], ["a"], 2)
    again = sync()
    assert (again.added, again.removed, again.first_run) == ([], [], False)
    assert len(heard) == 2  # nothing to deliver on the rerun
