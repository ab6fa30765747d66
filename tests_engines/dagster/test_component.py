"""The component in process: its schema from the manifest, its models' checks, EnvVar secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import ValidationError

from connector.engines.common import component_manifest, connection_inputs
from connector.engines.dagster import MixpanelComponent, MixpanelResource
from connector.sandbox import Sandbox

from ..conftest import secrets_of
from ..scenario import PROFILE_ID, profile_inputs


def load(attributes: dict[str, Any]) -> MixpanelComponent:
    return MixpanelComponent.from_attributes_dict(attributes=attributes)


def defs_of(attributes: dict[str, Any]) -> dg.Definitions:
    from dagster.components.core.component_tree import ComponentTree

    return load(attributes).build_defs(ComponentTree.for_test().load_context)


def test_the_schema_dg_sees_gives_every_actions_inputs_from_the_manifest() -> None:
    from dagster.components.core.snapshot import get_package_entry_snap
    from dagster_shared.serdes.objects import EnvRegistryKey

    key = EnvRegistryKey(name="MixpanelComponent", namespace="connector.engines.dagster")
    schema = get_package_entry_snap(key, MixpanelComponent).component_schema
    assert schema is not None
    for op in component_manifest()["actions"]:
        inputs = schema["$defs"][f"action_{op['key']}"]
        assert inputs["title"] == f"{op['label']} inputs"
        given = [spec for spec in op["inputs"] if spec["type"] != "connection"]
        assert list(inputs["properties"]) == [spec["key"] for spec in given]
        for spec in given:
            described = inputs["properties"][spec["key"]]
            assert described["title"] == spec["label"]
            assert described["x-mixpanel-type"] == spec["type"]
            assert described["x-required"] is spec["required"]
            assert ("Required." if spec["required"] else "Optional.") in described["description"]
            assert " ".join((spec.get("notes") or "").split()) in described["description"]
            if spec.get("choices"):
                assert described["examples"] == [c["value"] for c in spec["choices"]]
        # An export's partition sets its dates: they are not asked for.
        assert "from_date" not in schema["$defs"][f"export_{op['key']}"]["properties"]
    json.dumps(schema)  # plain JSON, as dg stores it


def test_the_resources_fields_are_the_connection_specs() -> None:
    fields = set(MixpanelResource.model_fields)
    assert {spec["key"] for spec in connection_inputs()} <= fields
    assert fields - {spec["key"] for spec in connection_inputs()} == {
        "region",
        "base_url",
        "rate_wait_s",
    }


def test_secrets_are_envvars_named_in_yaml_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXPANEL_USERNAME", "svc.1")
    monkeypatch.setenv("MY_SECRET", "s3cr3t-value")
    monkeypatch.delenv("MIXPANEL_PROJECT_TOKEN", raising=False)
    component = load({"connection": {"password_env": "MY_SECRET", "region": "api-eu"}})
    resource = component.resource()
    # Named in YAML, or the spec's default name when that variable is set; else left empty.
    assert resource.password == dg.EnvVar("MY_SECRET")
    assert resource.username == dg.EnvVar("MIXPANEL_USERNAME")
    assert resource.projectToken is None
    assert "s3cr3t-value" not in repr(resource)


def test_what_the_ui_shows_of_the_resource_is_the_variables_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import serialize_value

    monkeypatch.setenv("MIXPANEL_PASSWORD", "s3cr3t-value")
    defs = defs_of({"connection": {"password_env": "MIXPANEL_PASSWORD"}})
    # The code location's snapshot is what the UI, `dg` and the run launcher read.
    snapshot = RepositorySnap.from_def(defs.get_repository_def())
    (resource,) = snapshot.resources
    assert resource.configured_values["password"].name == "MIXPANEL_PASSWORD"  # an EnvVar
    assert "s3cr3t-value" not in serialize_value(snapshot)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            {"connection": {"password_env": "a7183e1b 7e9ab"}},
            "`password_env` names an environment variable (such as MIXPANEL_PASSWORD), not a "
            "value: secrets never go in YAML.",
        ),
        ({"connection": {"password": "x"}}, "the connection has no field `password`"),
        ({"connection": {"region": "api-us"}}, "Region (`region`) must be one of"),
        (
            {"exports": [{"name": "e", "path": "/tmp/e.jsonl", "start_date": "2026-01-01"}]},
            "path must contain {date}",
        ),
        (
            {
                "exports": [
                    {
                        "name": "e",
                        "path": "/tmp/{date}.jsonl",
                        "start_date": "2026-01-01",
                        "inputs": {"project_id": "1", "from_date": "2026-01-01"},
                    }
                ]
            },
            "Download Data (`downloadData`): From Date (`from_date`) come from the partition",
        ),
        (
            {
                "exports": [
                    {
                        "name": "e",
                        "path": "/tmp/{date}.jsonl",
                        "start_date": "2026-01-01",
                        "action": "queryProfiles",
                    }
                ]
            },
            "Query Profile (`queryProfiles`) has no `from_date` and `to_date` inputs",
        ),
        (
            {"actions": [{"name": "a", "action": "createAlias", "inputs": {"zzzzzz": 1}}]},
            "3 invalid inputs for Create Alias (`createAlias`): - Unknown input (`zzzzzz`)",
        ),
        (
            {
                "actions": [
                    {"name": "a", "action": "listPipelines", "inputs": {"project_id": "1"}},
                    {"name": "a", "action": "listPipelines", "inputs": {"project_id": "1"}},
                ]
            },
            "each export and action needs a name of its own; repeated: ['a']",
        ),
    ],
)
def test_the_models_reject_with_a_message_naming_what_is_wrong(
    attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        load(attributes)
    assert message in " ".join(str(raised.value).split())


def test_exports_are_partitioned_by_day_including_the_last_day() -> None:
    export = {"name": "e", "path": "/tmp/{date}.jsonl", "inputs": {"project_id": "1"}}
    defs = defs_of({"exports": [{**export, "start_date": "2026-01-01", "end_date": "2026-01-03"}]})
    asset = defs.resolve_assets_def(dg.AssetKey(["mixpanel", "e"]))
    assert asset.partitions_def is not None
    assert asset.partitions_def.get_partition_keys() == ["2026-01-01", "2026-01-02", "2026-01-03"]


def test_an_action_of_kind_job_runs_as_a_job(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, variable in (("username", "U"), ("password", "P"), ("projectToken", "T")):
        monkeypatch.setenv(f"TEST_MIXPANEL_{variable}", sandbox.connection[key])
    connection = {
        "username_env": "TEST_MIXPANEL_U",
        "password_env": "TEST_MIXPANEL_P",
        "projectToken_env": "TEST_MIXPANEL_T",
        "base_url": sandbox.base_url,
    }
    actions = [
        {"name": "set_plan", "action": "createProfile", "kind": "job", "inputs": profile_inputs()},
    ]
    defs = defs_of({"connection": connection, "actions": actions})
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = defs.resolve_job_def("set_plan").execute_in_process(instance=instance)
        assert result.success
        assert result.output_for_node("set_plan_op") == {"data": 1}
        logged = " ".join(str(e) for e in instance.all_logs(result.run_id))
    assert sandbox.store.profile(PROFILE_ID) == {"plan": "pro"}
    for secret in secrets_of(sandbox.connection):
        assert secret not in logged


def test_an_export_partition_goes_to_an_object_store(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import fsspec

    from connector import load_component

    from .conftest import connection_env, day, events_on

    for variable, value in connection_env(sandbox).items():
        monkeypatch.setenv(variable, value)
    seed = load_component(base_url=sandbox.base_url)
    sent = events_on(1, 4, "store")
    seed.run("importEvents", {"project_id": sandbox.project_id, "events": sent}, sandbox.connection)
    url = "memory://mixpanel-exports/events/{date}.jsonl.gz"
    export = {"name": "events", "path": url, "start_date": "2026-01-01"}
    defs = defs_of({"exports": [{**export, "inputs": {"project_id": sandbox.project_id}}]})
    asset = defs.resolve_assets_def(dg.AssetKey(["mixpanel", "events"]))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.materialize([asset], partition_key=day(1), instance=instance)
    assert result.success
    (materialized,) = result.asset_materializations_for_node("mixpanel__events")
    target = url.replace("{date}", day(1))
    assert materialized.metadata["path"].value == target
    assert materialized.metadata["count"].value == 4
    with fsspec.open(target, "rt", compression="gzip") as handle:
        assert sorted(json.loads(line)["properties"]["$insert_id"] for line in handle) == [
            f"store{i}" for i in range(4)
        ]
