"""Copying a whole project: every user and group profile set on the target, with the events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector import InputError
from connector.migrate.copy_command import main as copy_main
from connector.migrate.project import copy_groups, copy_profiles, copy_project
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


def _groups(sandbox: Sandbox, key: str, updates: list[dict[str, Any]]) -> None:
    records = [{"$group_key": key, **update} for update in updates]
    _side(sandbox).component.run(
        "updateMultipleGroups", {"groupsToUpdate": records}, sandbox.connection
    )


def test_group_profiles_are_copied_key_by_key_and_user_profiles_are_left_alone(
    tmp_path: Path,
) -> None:
    with Sandbox(engage_page_size=100) as source, Sandbox() as target:
        _groups(source, "company", [{"$group_id": f"c{n}", "$set": {"n": n}} for n in range(230)])
        _groups(source, "team", [{"$group_id": "t1", "$set": {"size": 4, "tags": ["a"]}}])
        _groups(source, "left out", [{"$group_id": "x", "$set": {"no": True}}])
        update = [{"$distinct_id": "p1", "$set": {"plan": "pro"}}]
        _side(source).component.run(
            "updateMultipleProfiles", {"propertiesToUpdate": update}, source.connection
        )
        groups = {"company": "company", "team": "team"}  # the sandbox's group ids are the keys
        summary = copy_groups(_side(source), _side(target), _plan(tmp_path), groups)
        assert target.store.group_profiles("company") == source.store.group_profiles("company")
        assert len(target.store.group_profiles("company")) == 230
        assert target.store.group_profiles("team") == [("t1", {"size": 4, "tags": ["a"]})]
        assert target.store.group_profiles("left out") == []
        assert target.store.profile_count() == 0
        assert summary["company"]["source"] == {"profiles_exported": 230, "requests": 3}
        assert summary["company"]["target"]["profiles_sent"] == 230
        assert summary["team"]["target"]["profiles_sent"] == 1


def test_a_group_key_the_source_does_not_hold_copies_nothing(tmp_path: Path) -> None:
    with Sandbox() as source, Sandbox() as target:
        summary = copy_groups(_side(source), _side(target), _plan(tmp_path), {"company": "9"})
        assert summary == {
            "company": {"source": {"profiles_exported": 0}, "target": {"profiles_sent": 0}}
        }
        assert target.store.group_profiles("company") == []


def test_a_group_dry_run_samples_the_requests_and_sends_nothing(tmp_path: Path) -> None:
    with Sandbox() as source, Sandbox() as target:
        _groups(source, "company", [{"$group_id": "acme", "$set": {"plan": "pro"}}])
        summary = copy_project(
            _side(source), _side(target), _plan(tmp_path), groups={"company": "company"},
            dry_run=True,
        )  # fmt: skip
        (request,) = summary["groups"]["company"]["requests"]
        assert request["url"].endswith("/groups")
        assert request["body"] == [
            {"$group_key": "company", "$group_id": "acme", "$set": {"plan": "pro"}, "$token": "***"}
        ]
        assert target.store.group_profiles("company") == []


def test_the_copy_command_copies_the_group_keys_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox() as source, Sandbox() as target:
        _groups(source, "company", [{"$group_id": "acme", "$set": {"plan": "pro"}}])
        argv = ["--from-date", "2024-05-01", "--to-date", "2024-05-01", "--quiet"]
        for side, sandbox in (("source", source), ("target", target)):
            connection = tmp_path / f"{side}.json"
            connection.write_text(json.dumps(sandbox.connection))
            argv += [
                f"--{side}-connection", str(connection), f"--{side}-base-url", sandbox.base_url,
                f"--{side}-project-id", sandbox.project_id, f"--{side}-budgets", "memory",
            ]  # fmt: skip
        argv += ["--state", str(tmp_path / "state.json")]
        with pytest.raises(InputError, match="needs the group key's id"):
            copy_main([*argv, "--group", "company="])
        assert copy_main([*argv, "--group", "company=company"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["groups"]["company"]["target"]["profiles_sent"] == 1
        assert target.store.group_profiles("company") == [("acme", {"plan": "pro"})]
