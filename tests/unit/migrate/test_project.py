"""Copying a whole project: every user profile set on the target, events and profiles together."""

from __future__ import annotations

from pathlib import Path

from connector.migrate.project import copy_profiles, copy_project
from connector.sandbox import Sandbox

from .test_copy import _events, _plan, _side


def test_profiles_are_copied_with_their_properties(tmp_path: Path) -> None:
    with Sandbox(engage_page_size=100) as source, Sandbox() as target:
        updates = [{"$distinct_id": f"p{n}", "$set": {"n": n, "plan": "pro"}} for n in range(250)]
        _side(source).component.run(
            "updateMultipleProfiles", {"propertiesToUpdate": updates}, source.connection
        )
        summary = copy_profiles(_side(source), _side(target), _plan(tmp_path))
        assert target.store.profile_count() == 250
        assert target.store.profile("p7") == source.store.profile("p7") == {"n": 7, "plan": "pro"}
        assert summary["source"]["profiles_exported"] == 250
        assert summary["source"]["requests"] == 3  # pages of 100
        assert summary["target"]["profiles_sent"] == 250


def test_copy_project_copies_events_then_profiles(tmp_path: Path) -> None:
    with Sandbox() as source, Sandbox() as target:
        source.store.add_events(_events(100))
        update = [{"$distinct_id": "p1", "$set": {"plan": "pro"}}]
        _side(source).component.run(
            "updateMultipleProfiles", {"propertiesToUpdate": update}, source.connection
        )
        summary = copy_project(_side(source), _side(target), _plan(tmp_path), profiles=True)
        assert target.store.insert_ids() == source.store.insert_ids()
        assert target.store.profile("p1") == {"plan": "pro"}
        assert set(summary) == {"events", "profiles"}
