"""Transforms: filters by name and date, time offset, renames, drops, flattening, nulls, tags."""

from __future__ import annotations

from typing import Any

import pytest

from connector import InputError
from connector.migrate.specs import load_layout
from connector.migrate.timefmt import to_millis
from connector.migrate.transforms import Transforms

EVENTS = load_layout().events
DAY = 86_400


def _event(name: str = "a", time: float = 1_714_521_600, **props: Any) -> dict[str, Any]:
    return {"event": name, "properties": {"time": time, "distinct_id": "u", **props}}


def _apply(spec: dict[str, Any], events: list[dict[str, Any]]) -> list[Any]:
    return list(Transforms.checked(spec, EVENTS).apply_all(events))


def test_keep_and_block_by_name() -> None:
    events = [_event("a"), _event("b"), _event("c")]
    assert [e["event"] for e in _apply({"keep_events": ["a", "b"]}, events)] == ["a", "b"]
    assert [e["event"] for e in _apply({"block_events": ["b"]}, events)] == ["a", "c"]


def test_dates_are_inclusive_utc_days_in_seconds_and_milliseconds() -> None:
    start = 1_714_521_600  # 2024-05-01T00:00:00Z
    events = [
        _event("before", start - 1),
        _event("first", start),
        _event("last", start + 2 * DAY - 1),
        _event("after", start + 2 * DAY),
        _event("millis", (start + DAY) * 1000),
    ]
    kept = _apply({"from_date": "2024-05-01", "to_date": "2024-05-02"}, events)
    assert [e["event"] for e in kept] == ["first", "last", "millis"]


def test_time_offset_in_seconds_or_milliseconds_and_the_source_untouched() -> None:
    seconds, millis = _event(time=1_714_521_600), _event(time=1_714_521_600_250)
    out = _apply({"time_offset_hours": -5}, [seconds, millis])
    assert out[0]["properties"]["time"] == 1_714_521_600 - 5 * 3600
    assert out[1]["properties"]["time"] == 1_714_521_600_250 - 5 * 3600 * 1000
    assert seconds["properties"]["time"] == 1_714_521_600  # copies, never changed in place


def test_rename_drop_flatten_nulls_and_tags_in_order() -> None:
    event = _event(old=1, secret="x", nested={"a": {"b": 2}, "c": None}, gone=None)
    (out,) = _apply(
        {
            "rename": {"old": "new"},
            "drop": ["secret"],
            "flatten": True,
            "drop_nulls": True,
            "tags": {"source": "copy", "new": "tag wins"},
        },
        [event],
    )
    assert out["properties"] == {
        "time": 1_714_521_600,
        "distinct_id": "u",
        "new": "tag wins",
        "nested.a.b": 2,
        "source": "copy",
    }
    assert event["properties"]["old"] == 1


@pytest.mark.parametrize(
    "spec",
    [
        {"drop": ["secret"]},
        {"time_offset_hours": 1.5, "rename": {"old": "new"}, "tags": {"t": 1}},
        {"flatten": True, "drop_nulls": True},
    ],
)
def test_owned_events_are_changed_in_place_to_the_same_result(spec: dict[str, Any]) -> None:
    def made() -> dict[str, Any]:
        return _event(old=1, secret="x", nested={"a": {"b": 2}, "c": None}, gone=None)

    transforms = Transforms.checked(spec, EVENTS)
    copied, source = transforms.apply(made()), made()
    owned = transforms.apply(source, owned=True)
    assert owned == copied
    assert owned is source and owned["properties"] is source["properties"]
    assert owned != made()  # it did change something


def test_bad_transforms_are_refused_naming_the_entry() -> None:
    with pytest.raises(InputError, match=r"time_offset_hours.*greater than the maximum of 48"):
        Transforms.checked({"time_offset_hours": 100}, EVENTS)
    with pytest.raises(InputError, match=r"from_date.*is not a 'date'"):
        Transforms.checked({"from_date": "2024-13-01"}, EVENTS)
    with pytest.raises(InputError, match=r"Additional properties.*'renam'"):
        Transforms.checked({"renam": {}}, EVENTS)


@pytest.mark.parametrize(
    ("value", "fmt", "millis"),
    [
        (1714564800, "unix_s", 1714564800000),
        ("1714564800.5", "unix_s", 1714564800500),
        (1714564800123, "unix_ms", 1714564800123),
        (1714564800123456, "unix_us", 1714564800123),
        ("2024-05-01T12:00:00Z", "iso8601", 1714564800000),
        ("2024-05-01 14:00:00.250+02:00", "iso8601", 1714564800250),
        ("2024-05-01 12:00:00", "iso8601", 1714564800000),
        ("01/05/2024 12:00", "%d/%m/%Y %H:%M", 1714564800000),
    ],
)
def test_time_formats(value: Any, fmt: str, millis: int) -> None:
    assert to_millis(value, fmt) == millis


@pytest.mark.parametrize(
    ("value", "fmt"), [("soon", "iso8601"), (True, "unix_s"), ("x", "unix_ms")]
)
def test_a_time_not_in_its_format_is_a_value_error(value: Any, fmt: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        to_millis(value, fmt)
