"""Checks of a task's action and inputs against the manifest, before any template is rendered."""

from __future__ import annotations

import pytest

from connector import InputError
from connector.engines.common import component_manifest
from connector.engines.precheck import check_task, input_problems, operation, task_inputs


def problems(action: str, inputs: dict[str, object], supplied: tuple[str, ...] = ()) -> list[str]:
    return [str(p) for p in input_problems(operation(action), inputs, supplied)]


def test_a_complete_task_passes() -> None:
    check_task("queryProfiles", {"project_id": "1", "where": 'properties["plan"] == "pro"'})
    check_task("downloadData", {"project_id": "1"}, supplied=("from_date", "to_date"))


def test_a_wrong_action_names_the_near_keys() -> None:
    with pytest.raises(InputError) as raised:
        check_task("queryProfile", {})
    assert str(raised.value) == (
        "Invalid input for queryProfile: Action (`action`): no action 'queryProfile'. "
        "Did you mean queryProfiles, deleteProfile, createProfile?"
    )


def test_an_unknown_action_without_a_near_key_lists_every_action() -> None:
    with pytest.raises(InputError) as raised:
        check_task("zzz", {})
    assert all(op["key"] in str(raised.value) for op in component_manifest()["actions"])


def test_an_unknown_input_names_the_action_and_the_nearest_inputs_label() -> None:
    with pytest.raises(InputError) as raised:
        check_task("queryProfiles", {"project_id": "1", "wherre": "x"})
    assert raised.value.action == "Query Profile (`queryProfiles`)"
    assert [str(p) for p in raised.value.errors] == [
        "Unknown input (`wherre`): Query Profile has no input `wherre`. "
        "Did you mean Where (`where`)?"
    ]


def test_an_unknown_input_unlike_any_lists_the_actions_inputs() -> None:
    found = problems("createAlias", {"zzzzzz": 1})[0]
    for spec in task_inputs(operation("createAlias")).values():
        assert f"{spec['label']} (`{spec['key']}`)" in found


def test_missing_required_inputs_are_named_by_label() -> None:
    assert problems("downloadData", {}) == [
        "From Date (`from_date`): required, and not given.",
        "To Date (`to_date`): required, and not given.",
        "Project ID (`project_id`): required, and not given.",
    ]
    # Inputs the engine fills in (a partition's dates) are not asked for.
    assert problems("downloadData", {"project_id": "1"}, ("from_date", "to_date")) == []


def test_location_inputs_and_inputs_with_defaults_are_never_missing() -> None:
    spec = task_inputs(operation("downloadData"))
    assert spec["dataAndDomain"]["required"] and spec["gzipEncoding"]["default"] is False
    assert problems("downloadData", {"project_id": "1", "from_date": "d", "to_date": "d"}) == []


def test_the_connection_is_the_engines_never_a_task_input() -> None:
    assert "connection" not in task_inputs(operation("downloadData"))
    assert problems("downloadData", {"project_id": "1", "from_date": "d", "to_date": "d"}) == []


def test_a_value_outside_the_choices_fails_unless_templated() -> None:
    given = {"project_id": "1", "from_date": "d", "to_date": "d"}
    assert problems("downloadData", {**given, "dataAndDomain": "eu"}) == [
        "Data and Domain (`dataAndDomain`): must be one of ['data', 'data-eu', 'data-in'], "
        "not 'eu'."
    ]
    assert problems("downloadData", {**given, "dataAndDomain": "{{ var.value.dc }}"}) == []


def test_templated_values_count_as_given() -> None:
    given = {"project_id": "1", "from_date": "{{ ds }}", "to_date": ""}
    assert problems("downloadData", given) == ["To Date (`to_date`): required, and not given."]
