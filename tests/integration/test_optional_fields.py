"""Inputs the examples cannot show on the wire: optional JSON objects, defaults, path choices.

The JSON objects' shape depends on the project (a Databricks cluster for a BigQuery example,
property mappings per table, experiment settings Mixpanel does not document), so the examples do
not send them; here each is sent once beside the examples and found in the request body
unchanged.
Inputs with a default are set by their examples, so here each is left out once and the
OpenAPI's default is found on the wire. The schema actions' examples all name the `event`
entity type, so here each type is sent once and found in the path. The field names, defaults
and entity types are written here from Mixpanel's OpenAPI files, not from the specs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connector import Component
from connector.catalog.load import load_specs
from tests.specs.cases import example_inputs

# (action, input, field of the JSON body, a value within the OpenAPI's schema for it)
CASES: list[tuple[str, str, str, Any]] = [
    # "Experiment settings including feature flag settings": any object, the OpenAPI has no schema.
    ("createExperiment", "settings", "settings", {"feature_flag": {"key": "new-checkout"}}),
    # PropertyMappings: an object of strings.
    ("createGroupsImport", "property_mappings", "property_mappings", {"industry": "Industry"}),
    # DatabricksParams.export_cluster_config, with the values its descriptions give as examples.
    (
        "createLookupTableImport",
        "databricks_params",
        "databricks_params",
        {
            "export_cluster_config": {
                "spark_version": "15.4.x-scala2.12",
                "node_type_id": "n2-standard-4",
                "num_workers": 2,
            }
        },
    ),
]


@pytest.mark.parametrize(("key", "name", "field", "value"), CASES, ids=[c[0] for c in CASES])
def test_an_optional_json_input_is_sent_as_its_field(
    component: Component, connection: dict[str, str], key: str, name: str, field: str, value: Any
) -> None:
    op = component.spec.actions[key]
    assert name not in example_inputs(op)  # else the example cassette already covers it
    [request] = component.preview(key, {**example_inputs(op), name: value}, connection)
    assert request["body"][field] == value
    without = component.preview(key, example_inputs(op), connection)[0]["body"]
    assert field not in without  # left empty, it is not sent


# (action, input, where Mixpanel reads it, its name there, the OpenAPI's default as sent)
DEFAULTS: list[tuple[str, str, str, str, Any]] = [
    ("createFeatureFlag", "status", "body", "status", "disabled"),  # FeatureFlagRequest.status
    ("queryRetention", "unbounded_retention", "query", "unbounded_retention", ["false"]),
]


@pytest.mark.parametrize(
    ("key", "name", "where", "field", "sent"), DEFAULTS, ids=[d[0] for d in DEFAULTS]
)
def test_an_input_left_out_sends_the_documented_default(
    component: Component,
    connection: dict[str, str],
    key: str,
    name: str,
    where: str,
    field: str,
    sent: Any,
) -> None:
    # The examples set these inputs, so the example cassettes never see the default.
    op = component.spec.actions[key]
    inputs = {k: v for k, v in example_inputs(op).items() if k != name}
    [request] = component.preview(key, inputs, connection)
    if where == "body":
        assert request["body"][field] == sent
    else:
        assert parse_qs(urlsplit(request["url"]).query)[field] == sent


# lexicon-schemas.openapi.yaml: /projects/{projectId}/schemas/{entityType}[/{name}], with
# SchemaEntityType one of these; the examples all use `event`.
ENTITY_TYPES = ["event", "profile"]
SCHEMA_ACTIONS = sorted(
    key
    for key, op in load_specs().actions.items()
    if any(field.key == "entityType" for field in op.value_inputs)
)


def test_the_schema_actions_are_found() -> None:
    assert len(SCHEMA_ACTIONS) >= 5


@pytest.mark.parametrize("key", SCHEMA_ACTIONS)
def test_each_schema_entity_type_goes_to_its_path(
    component: Component, connection: dict[str, str], key: str
) -> None:
    op = component.spec.actions[key]
    for entity_type in ENTITY_TYPES:
        inputs = {**example_inputs(op), "entityType": entity_type}
        [request] = component.preview(key, inputs, connection)
        path = urlsplit(request["url"]).path.split("/")
        assert path[path.index("schemas") + 1] == entity_type, entity_type
