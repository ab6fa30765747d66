"""The provider info Airflow reads through the `apache_airflow_provider` entry point."""

from __future__ import annotations

from typing import Any

from ..common import (
    LOCATION_INPUTS,
    REGION_INPUT,
    component_manifest,
    connection_inputs,
    location_input,
)

CONN_TYPE = "mixpanel"
PACKAGE_NAME = "mixpanel-connector"
HOOK_CLASS = "connector.engines.airflow.hooks.MixpanelHook"
# Airflow's standard form fields; the connection uses Host (optional base URL) and extras only.
STANDARD_FIELDS = ("description", "host", "port", "login", "password", "schema", "extra")
USED_FIELDS = ("description", "host")
BASE_URL_LABEL = "Base URL (optional)"
BASE_URL_PLACEHOLDER = "Leave empty for Mixpanel; set a proxy or test server URL to redirect calls"


def _field(spec: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if spec.get("secret"):
        schema["format"] = "password"
    if spec.get("choices"):
        schema = {"type": "string", "enum": [choice["value"] for choice in spec["choices"]]}
    if spec.get("default") is not None:
        schema["default"] = spec["default"]
    field: dict[str, Any] = {"label": spec["label"], "schema": schema}
    notes = spec.get("notes")
    if notes:
        field["description"] = notes
    return field


def conn_fields() -> dict[str, dict[str, Any]]:
    """The connection form: one field per connection input, plus the project's Region."""
    fields = {spec["key"]: _field(spec) for spec in connection_inputs()}
    region = _field(location_input())
    labels = ", ".join(location_input(key)["label"] for key in LOCATION_INPUTS)
    region["description"] = f"{region['description']} Sets every action's {labels} by default."
    fields[REGION_INPUT] = region
    return fields


def ui_field_behaviour() -> dict[str, Any]:
    """Hide the standard fields the connection does not use; Host becomes the base URL."""
    return {
        "hidden-fields": [f for f in STANDARD_FIELDS if f not in USED_FIELDS],
        "relabeling": {"host": BASE_URL_LABEL},
        "placeholders": {"host": BASE_URL_PLACEHOLDER},
    }


def get_provider_info() -> dict[str, Any]:
    """What Airflow's providers manager validates and loads."""
    spec = component_manifest()
    return {
        "package-name": PACKAGE_NAME,
        "name": spec["name"],
        "description": spec["description"],
        "integrations": [
            {
                "integration-name": spec["name"],
                "external-doc-url": spec["documentation_url"],
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": spec["name"],
                "python-modules": ["connector.engines.airflow.hooks"],
            }
        ],
        "operators": [
            {
                "integration-name": spec["name"],
                "python-modules": [
                    "connector.engines.airflow.operators",
                    "connector.engines.airflow.sync_operators",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": spec["name"],
                "python-modules": ["connector.engines.airflow.triggers"],
            }
        ],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": HOOK_CLASS,
                "hook-name": spec["name"],
                "conn-fields": conn_fields(),
                "ui-field-behaviour": ui_field_behaviour(),
            }
        ],
    }
