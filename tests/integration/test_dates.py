"""Dates are calendar dates, checked before anything is sent, on every way of running an action."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import Component, InputError
from connector.catalog.load import load_specs
from connector.cli.main import main
from connector.engines.common import with_defaults
from connector.prepare.inputs import validate_inputs
from tests.conftest import TEST_CONNECTION, NothingMayBeSent

#: Written like a date, or nearly: none is a day of the calendar.
NOT_DATES = [
    "2026-02-30",  # the form is right, the day is not
    "2025-02-29",  # not a leap year
    "2026-13-01",  # month 13 (was: "the date range must run forward")
    "2026-00-10",
    "2026-04-31",
    "12/01/2026",  # was answered with a regular expression
    "2026-1-1",
    "20260101",
    "2026-01-01T00:00:00",
    " 2026-01-01",
    "２０２６-01-01",  # full-width digits
]
DATED = sorted(
    key
    for key, op in load_specs().actions.items()
    if {"from_date", "to_date"} <= {spec.key for spec in op.value_inputs}
)
MESSAGE = "is not a calendar date written YYYY-MM-DD, such as"


def _inputs(key: str, **dates: str) -> dict[str, str]:
    inputs = {"project_id": "1", "from_date": "2026-01-01", "to_date": "2026-01-31", **dates}
    if key == "queryFunnelSavedReports":
        inputs["funnel_id"] = "7"
    if key == "createGCSPipeline":
        inputs.update(gcs_bucket="b", gcs_region="us-central1")
    return inputs


@pytest.fixture
def offline(component: Component) -> Component:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    return component


def test_every_dated_action_is_checked() -> None:
    assert DATED == [
        "createGCSPipeline",
        "downloadData",
        "queryActivityStream",
        "queryEventCounts",
        "queryEventPropertyValues",
        "queryFrequency",
        "queryFunnelSavedReports",
        "queryRetention",
        "querySegmentation",
        "querySegmentationAverage",
        "querySegmentationNumeric",
        "querySegmentationSum",
    ]


@pytest.mark.parametrize("key", DATED)
@pytest.mark.parametrize("field", ["from_date", "to_date"])
@pytest.mark.parametrize("day", NOT_DATES)
def test_a_day_off_the_calendar_is_refused_before_sending(
    offline: Component, key: str, field: str, day: str
) -> None:
    with pytest.raises(InputError) as caught:
        offline.run(key, _inputs(key, **{field: day}), TEST_CONNECTION)
    [problem] = [p for p in caught.value.errors if p.key == field]
    assert MESSAGE in problem.message
    assert "must run forward" not in str(caught.value)


# No deadline: each example loads the specs, which a busy machine (or the mutation harness's
# fresh spec cache) can slow past hypothesis's 200 ms without anything being wrong.
@settings(deadline=None)
@given(st.dates())
def test_every_calendar_day_is_accepted(day: dt.date) -> None:
    op = load_specs().actions["downloadData"]
    text = str(day)
    values = validate_inputs(op, _inputs("downloadData", from_date=text, to_date=text))
    assert values["from_date"] == values["to_date"] == text


@pytest.mark.parametrize("day", ["2026-02-30", "12/01/2026"])
def test_the_streamed_export_checks_dates_when_called(offline: Component, day: str) -> None:
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        offline.iter("downloadData", _inputs("downloadData", from_date=day), TEST_CONNECTION)


@pytest.mark.parametrize("output", [False, True])
def test_the_command_line_exits_2_with_nothing_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: bool
) -> None:
    argv = ["run", "downloadData", "-i", "project_id=1", "-i", "from_date=2026-02-30"]
    argv += ["-i", "to_date=2026-03-01", "--base-url", "http://127.0.0.1:9"]  # nobody listens
    if output:
        argv += ["--output", str(tmp_path / "events.jsonl")]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert f"From Date (`from_date`): '2026-02-30' {MESSAGE} 2024-01-01" in error
    assert "could not reach" not in error
    assert not list(tmp_path.iterdir())


def test_an_engine_task_checks_dates_before_sending(offline: Component) -> None:
    # The engines run actions through the same component, with their Region's defaults.
    bad = _inputs("downloadData", to_date="2026-13-01")
    inputs = with_defaults(offline, "downloadData", bad, {"dataAndDomain": "data-eu"})
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        offline.run("downloadData", inputs, TEST_CONNECTION)
