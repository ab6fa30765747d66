"""What every engine's copy task is checked with: two sandboxes, events to copy, the result."""

from __future__ import annotations

from typing import Any

from connector.sandbox import Sandbox

FROM, TO = "2024-05-01", "2024-05-03"
START = 1_714_521_600  # 2024-05-01T00:00:00Z


def seed(source: Sandbox, count: int = 2500) -> None:
    """`count` events over the range's three days, and one outside it."""
    source.store.add_events(
        {
            "event": "Played" if n % 2 else "Paused",
            "properties": {
                "time": START + (n % 3) * 86_400 + n,
                "distinct_id": f"u{n % 40}",
                "$insert_id": f"cp-{n:06d}",
            },
        }
        for n in range(count + 1)
    )
    source.store.add_events(
        [
            {
                "event": "Played",
                "properties": {"time": START - 10, "distinct_id": "u", "$insert_id": "before"},
            }
        ]
    )


def check(source: Sandbox, target: Sandbox, summary: dict[str, Any], offset_h: float) -> None:
    """The target holds the source's events of the range, Played only, moved by `offset_h`."""
    wanted = {
        e["properties"]["$insert_id"]: e["properties"]["time"]
        for e, _ in source.store.raw_events(START, START + 3 * 86_400 - 1)
        if e["event"] == "Played"
    }
    got = {
        e["properties"]["$insert_id"]: e["properties"]["time"]
        for e, _ in target.store.raw_events(0, 2**31)
    }
    assert set(got) == set(wanted) and len(wanted) == 1250
    assert all(got[k] == t + int(offset_h * 3600) for k, t in wanted.items())
    assert summary["events"]["source"]["events_exported"] == 1250
    assert summary["events"]["target"]["events_imported"] == 1250
