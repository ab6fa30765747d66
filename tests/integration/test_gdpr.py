"""GDPR jobs and lookup tables against hand-written cassettes of the exchanges the OpenAPI sets."""

from __future__ import annotations

import pytest

from connector import Component


@pytest.mark.vcr
def test_create_deletion(component: Component, connection: dict[str, str]) -> None:
    inputs = {"distinct_ids": "distinct_id_1, distinct_id_2, distinct_id_3"}
    result = component.run("createDataDeletion", inputs, connection)
    assert result == {"data": {"status": "ok", "results": {"task_id": "job-tracking-id"}}}


@pytest.mark.vcr
def test_deletion_status(component: Component, connection: dict[str, str]) -> None:
    inputs = {"tracking_id": "job-tracking-id", "regionAndDomain": "eu.mixpanel"}
    result = component.run("getDataDeletionStatus", inputs, connection)
    assert result == component.spec.actions["getDataDeletionStatus"].sample


@pytest.mark.vcr
def test_replace_lookup_table(component: Component, connection: dict[str, str]) -> None:
    inputs = {
        "project_id": "2891273",
        "lookupTableId": "55b4fb2b-e8de-466c-930f-8b36640b9b5e",
        "rows": [["id", "field1", "field2"], ["key1", "v1", "z1"], ["key2", "z1", "z2"]],
    }
    result = component.run("replaceLookupTable", inputs, connection)
    assert result == {"data": {"code": 200, "status": "OK"}}


@pytest.mark.vcr
def test_create_retrieval(component: Component, connection: dict[str, str]) -> None:
    inputs = {
        "distinct_ids": "distinct_id_1, distinct_id_2",
        "disclosure_type": "Data",
        "regionAndDomain": "in.mixpanel",
    }
    result = component.run("createDataRetrieval", inputs, connection)
    assert result == {"data": {"status": "ok", "results": {"task_id": "job-tracking-id"}}}
