"""Optional JSON inputs whose examples leave them out still reach the wire under Mixpanel's name.

Their shape depends on the project (a Databricks cluster for a BigQuery example, property
mappings per table, experiment settings Mixpanel does not document), so the examples do not
send them; here each is sent once beside the examples and found in the request body unchanged.
The field names are written here from Mixpanel's OpenAPI request schemas, not from the specs.
"""

from __future__ import annotations

from typing import Any

import pytest

from connector import Component
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
