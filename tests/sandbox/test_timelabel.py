"""Times on the live view: ISO 8601 UTC, and the epoch value with its own unit."""

from __future__ import annotations

from connector.sandbox.timelabel import event_time, label

SECONDS = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_an_event_time_in_seconds_is_labelled_seconds() -> None:
    assert event_time({"time": SECONDS}) == (
        '<time datetime="2026-01-01T00:00:00Z" title="1767225600 (epoch s)">'
        "2026-01-01T00:00:00Z</time>"
    )


def test_an_event_time_in_milliseconds_is_labelled_milliseconds() -> None:
    ms = SECONDS * 1000 + 250
    assert event_time({"time": ms}) == (
        '<time datetime="2026-01-01T00:00:00.250Z" title="1767225600250 (epoch ms)">'
        "2026-01-01T00:00:00.250Z</time>"
    )


def test_fractional_seconds_keep_their_milliseconds() -> None:
    assert ">2026-01-01T00:00:00.500Z<" in event_time({"time": SECONDS + 0.5})
    assert "(epoch s)" in event_time({"time": SECONDS + 0.5})


def test_missing_odd_or_impossible_times_say_so() -> None:
    for properties in ({}, {"time": "soon"}, {"time": True}, None):
        assert event_time(properties) == '<span class="note">none</span>'
    assert label(1e300, raw="<1e300>", unit="ms") == "&lt;1e300&gt; (epoch ms, out of range)"
    assert label(SECONDS * 1000).endswith(
        'title="1767225600000 (epoch ms)">2026-01-01T00:00:00.000Z</time>'
    )
