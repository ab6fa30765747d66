"""The sandbox's cohorts: /api/query/engage with filter_by_cohort answers the matching profiles."""

from __future__ import annotations

import pytest

from connector import ClientError, Component
from connector.sandbox import Sandbox


def _members(component: Component, sandbox: Sandbox, cohort: object) -> list[str]:
    inputs = {"project_id": sandbox.project_id, "filter_by_cohort": cohort}
    found = component.run("queryProfiles", inputs, sandbox.connection)["data"]["results"]
    return sorted(r["$distinct_id"] for r in found)


def test_a_cohort_holds_the_profiles_its_where_matches_now(
    sandbox: Sandbox, component: Component
) -> None:
    update = [
        {"$distinct_id": "a", "$set": {"plan": "pro"}},
        {"$distinct_id": "b", "$set": {"plan": "free"}},
    ]
    component.run("updateMultipleProfiles", {"propertiesToUpdate": update}, sandbox.connection)
    assert _members(component, sandbox, {"id": 1001}) == ["a"]
    sandbox.store.save_report("cohorts", 7, "Free", {"where": 'properties["plan"] == "free"'})
    assert _members(component, sandbox, {"id": 7}) == ["b"]


def test_an_unknown_cohort_is_a_400_naming_it(sandbox: Sandbox, component: Component) -> None:
    with pytest.raises(ClientError, match="cohort 4242 does not exist"):
        _members(component, sandbox, {"id": 4242})
