"""The provider info passes Airflow's own schemas; Airflow builds the connection form from it."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from connector.engines.airflow.provider import get_provider_info
from connector.engines.common import component_manifest, location_input

SECRET_FIELDS = {"password", "projectToken", "oauthToken"}


def airflow_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files("airflow").joinpath(name).read_text())
    return loaded


def connection_type() -> dict[str, Any]:
    [conn] = get_provider_info()["connection-types"]
    return conn


def test_provider_info_is_valid_for_airflows_runtime_schema() -> None:
    jsonschema.Draft7Validator(airflow_schema("provider_info.schema.json")).validate(
        get_provider_info()
    )


def test_connection_type_is_valid_for_airflows_strict_provider_yaml_schema() -> None:
    # provider_info.schema.json allows extra keys; provider.yaml's schema checks conn-fields.
    schema = airflow_schema("provider.yaml.schema.json")
    item = schema["properties"]["connection-types"]["items"]
    jsonschema.Draft7Validator(item).validate(connection_type())


def test_form_fields_come_from_the_connection_spec() -> None:
    fields = connection_type()["conn-fields"]
    spec = {i["key"]: i for i in component_manifest()["connection"]["inputs"]}
    assert list(fields) == [*spec, "region"]
    for key, field in spec.items():
        assert fields[key]["label"] == field["label"]
        assert fields[key]["description"] == field["notes"]
    assert {
        k for k, f in fields.items() if f["schema"].get("format") == "password"
    } == SECRET_FIELDS
    region = location_input()
    assert fields["region"]["label"] == region["label"]
    assert fields["region"]["schema"]["enum"] == ["api", "api-eu", "api-in"]
    assert fields["region"]["schema"]["default"] == region["default"] == "api"


def test_form_hides_the_standard_fields_it_does_not_use() -> None:
    behaviour = connection_type()["ui-field-behaviour"]
    assert sorted(behaviour["hidden-fields"]) == ["extra", "login", "password", "port", "schema"]
    assert behaviour["relabeling"] == {"host": "Base URL (optional)"}


@pytest.fixture
def providers() -> Any:
    from airflow.providers_manager import ProvidersManager

    return ProvidersManager()


def test_airflow_discovers_the_provider_through_its_entry_point(providers: Any) -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "mixpanel-connector" in providers.providers
    hook = ProvidersManagerTaskRuntime().hooks["mixpanel"]
    assert hook.hook_class_name == "connector.engines.airflow.hooks.MixpanelHook"
    assert hook.connection_id_attribute_name == "mixpanel_conn_id"


def test_airflow_marks_the_secret_fields_sensitive(providers: Any) -> None:
    widgets = {
        name.removeprefix("extra__mixpanel__"): widget
        for name, widget in providers.connection_form_widgets.items()
        if name.startswith("extra__mixpanel__")
    }
    assert set(widgets) == {"username", "password", "projectToken", "oauthToken", "region"}
    assert {k for k, w in widgets.items() if w.is_sensitive} == SECRET_FIELDS
    assert widgets["username"].field["schema"]["title"] == "Username"
    behaviour = providers.field_behaviours["mixpanel"]
    assert "login" in behaviour["hidden_fields"] and "host" not in behaviour["hidden_fields"]
