"""The adapters' shared layer: location defaults, secrets for an engine's masker, exports."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connector import load_component
from connector.core.redact import basic_header
from connector.engines.common import (
    LOCATION_INPUTS,
    export_to,
    input_secrets,
    location_input,
    location_values,
    region_choices,
    secret_values,
    with_defaults,
    with_progress,
)
from tests.conftest import TEST_CONNECTION


def _place(label: str) -> str:
    found = re.search(r"\(([^)]+)\)", label)
    assert found, label
    return found.group(1)


def test_location_inputs_list_the_same_places_in_the_same_order() -> None:
    # One Region maps onto every location input by position; a reordered list would send an
    # EU project's calls to US servers.
    places = [[_place(c["label"]) for c in location_input(k)["choices"]] for k in LOCATION_INPUTS]
    assert places[0] == ["US", "EU", "India"]
    assert all(p == places[0] for p in places)


def test_one_region_sets_every_location_input() -> None:
    assert region_choices() == ["api", "api-eu", "api-in"]
    assert location_values("api-eu") == {
        "region": "api-eu",
        "regionAndDomain": "eu.mixpanel",
        "dataAndDomain": "data-eu",
    }
    assert location_values(None) == {}
    with pytest.raises(ValueError, match=r"Region \(`region`\) must be one of"):
        location_values("eu")


def test_defaults_fill_only_inputs_the_action_declares_and_the_caller_left_out() -> None:
    component = load_component()
    defaults = location_values("api-in")
    assert with_defaults(component, "downloadData", {"limit": 5}, defaults) == {
        "dataAndDomain": "data-in",
        "limit": 5,
    }
    explicit = with_defaults(component, "importEvents", {"region": "api"}, defaults)
    assert explicit == {"region": "api"}


def test_secret_values_cover_fields_and_derived_basic_headers() -> None:
    values = secret_values(load_component(), TEST_CONNECTION)
    service = basic_header(TEST_CONNECTION["username"], TEST_CONNECTION["password"])
    token = basic_header(TEST_CONNECTION["projectToken"], "")
    assert set(values) == {
        TEST_CONNECTION["password"],
        TEST_CONNECTION["projectToken"],
        service,
        service.split()[1],
        token,
        token.split()[1],
    }
    assert TEST_CONNECTION["username"] not in values


def test_input_secrets_are_the_tokens_inside_inline_records() -> None:
    component = load_component()
    events = [
        {"event": "A", "properties": {"token": "tok-1", "distinct_id": "u"}},
        {"event": "B", "properties": {"token": "tok-2"}},
        {"event": "C", "properties": {"distinct_id": "tok-3"}},  # not a secret field
    ]
    expected = ["tok-1", "tok-2"]
    assert input_secrets(component, "trackEvents", {"events": events}) == expected
    assert input_secrets(component, "importEvents", {"events": json.dumps(events)}) == expected
    profiles = [{"$token": "tok-9", "$distinct_id": "u", "$set": {}}]
    assert input_secrets(component, "updateMultipleProfiles", {"propertiesToUpdate": profiles}) == [
        "tok-9"
    ]
    # Not records, not JSON, or an action without records: nothing to mask, nothing raised.
    assert input_secrets(component, "trackEvents", {"events": "[{"}) == []
    assert input_secrets(component, "trackEvents", {}) == []
    assert input_secrets(component, "queryProfiles", {"where": "tok-1"}) == []


EVENTS = [
    {"event": "A", "properties": {"time": 1, "distinct_id": "u", "$insert_id": "i1"}},
    {"event": "B", "properties": {"time": 2, "distinct_id": "u", "$insert_id": "i2"}},
]
EXPORT = {"project_id": "7", "from_date": "2024-01-01", "to_date": "2024-01-01"}


def test_export_writes_json_lines_and_counts(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_oneshot_request(
        "/api/2.0/export", query_string={**EXPORT, "limit": "2"}
    ).respond_with_data("".join(json.dumps(e) + "\n" for e in EVENTS))
    component = load_component(base_url=httpserver.url_for("/"))
    target = tmp_path / "deep" / "out.jsonl"
    summary = export_to(component, "downloadData", {**EXPORT, "limit": 2}, TEST_CONNECTION, target)
    httpserver.check_assertions()
    assert summary == {"path": str(target), "count": 2, "days": 1, "resumed_cuts": 0}
    assert [json.loads(line) for line in target.read_text().splitlines()] == EVENTS


def test_export_to_a_gz_path_is_gzip(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_oneshot_request("/api/2.0/export").respond_with_data(
        "".join(json.dumps(e) + "\n" for e in EVENTS)
    )
    component = load_component(base_url=httpserver.url_for("/"))
    target = tmp_path / "out.jsonl.gz"
    assert export_to(component, "downloadData", EXPORT, TEST_CONNECTION, target)["count"] == 2
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    assert [json.loads(line) for line in lines] == EVENTS


def test_a_failed_export_keeps_the_previous_file(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/2.0/export").respond_with_json({"error": "no"}, status=403)
    component = load_component(base_url=httpserver.url_for("/"))
    target = tmp_path / "out.jsonl"
    target.write_text("yesterday's export\n")
    with pytest.raises(Exception, match="403"):
        export_to(component, "downloadData", EXPORT, TEST_CONNECTION, target)
    assert target.read_text() == "yesterday's export\n"


def test_engine_components_report_progress_as_log_lines(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    from connector.budgets.memory import BudgetRegistry
    from connector.core.progress import LogProgress

    httpserver.expect_request("/import").respond_with_json(
        {"code": 200, "num_records_imported": 2000, "status": "OK"}
    )
    component = with_progress(
        load_component(httpserver.url_for("/"), rate_registry=BudgetRegistry())
    )
    assert isinstance(component.progress, LogProgress)
    component.progress = LogProgress("engine task", interval_s=0.0)  # every update, for the test
    events = [
        {
            "event": "e",
            "properties": {"time": 1618716477, "distinct_id": f"u{n}", "$insert_id": f"i{n}"},
        }
        for n in range(4000)
    ]
    caplog.set_level("INFO", logger="connector.progress")
    component.run("importEvents", {"events": events, "project_id": "1"}, TEST_CONNECTION, workers=1)
    lines = [r.getMessage() for r in caplog.records if r.name == "connector.progress"]
    assert any("2 requests" in line and "4,000 imported" in line for line in lines), lines
