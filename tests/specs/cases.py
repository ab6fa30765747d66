"""Valid inputs for every action, from the specs' own examples plus the few overrides needed."""

from __future__ import annotations

from typing import Any

from connector.catalog.spec import OperationSpec

# Where the seed's examples cannot all be sent at once, or an input has no example.
OVERRIDES: dict[str, dict[str, Any]] = {
    # behaviors and filter_by_cohort exclude each other; the example set keeps the cohort filter.
    "queryProfiles": {"behaviors": None},
    # The generic actions: examples of Data and of Form/File Data exclude each other.
    "rawRequest": {
        "method": "GET",
        "baseUrl": "https://mixpanel.com/api/query",
        "url": "/funnels/list",
        "queryParams": [{"key": "project_id", "value": "2891273"}],
        "data": None,
        "formData": None,
        "fileData": None,
        "headers": None,
    },
    # Rows and CSV File exclude each other; the example set sends the rows.
    "replaceLookupTable": {"csvFile": None},
    # Their Data example is a generic one: send a body Mixpanel's pipeline operation accepts.
    "createGenericPipeline": {
        "method": "POST",
        "data": '{"type": "gcs-raw", "project_id": "2891273", "gcs_bucket": "my-mixpanel-exports",'
        ' "gcs_region": "us-east1", "from_date": "2024-01-01"}',
        "formData": None,
        "fileData": None,
        "headers": None,
    },
    "editGenericPipeline": {
        "method": "POST",
        "data": '{"project_id": "2891273", "where": "properties[\'plan\'] == \'pro\'"}',
        "formData": None,
        "fileData": None,
        "headers": None,
    },
}


def example_inputs(op: OperationSpec) -> dict[str, Any]:
    """Every input's example (or default), with the action's overrides applied."""
    values: dict[str, Any] = {}
    for spec in op.value_inputs:
        value = spec.example if spec.example not in (None, "") else spec.default
        if value is not None:
            values[spec.key] = value
    for key, value in OVERRIDES.get(op.key, {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values
