"""Delivered keys: 16-byte keyed digests by day, identical values alike, pruned by day."""

from __future__ import annotations

import datetime as dt

from connector.sync.seen import DIGEST_BYTES, SeenKeys, day_of

KEY = ["event", "properties.distinct_id", "properties.time", "properties.$insert_id"]


def _event(insert_id: str, time: int = 1768046400, who: str = "ann") -> dict[str, object]:
    props = {"distinct_id": who, "time": time, "$insert_id": insert_id, "mp_processing_time_ms": 1}
    return {"event": "Purchase", "properties": props}


def test_the_key_is_the_declared_fields_only() -> None:
    seen = SeenKeys(b"k" * 32, KEY, "properties.time")
    first, day = seen.identity(_event("a"))
    again = _event("a")
    again["properties"]["mp_processing_time_ms"] = 2  # type: ignore[index]
    assert seen.identity(again) == (first, dt.date(2026, 1, 10)) and day == dt.date(2026, 1, 10)
    assert len(first) == DIGEST_BYTES
    for other in (_event("b"), _event("a", time=1768046401), _event("a", who="bob")):
        assert seen.identity(other)[0] != first


def test_digests_depend_on_the_key() -> None:
    one = SeenKeys(b"k" * 32, KEY, "properties.time").identity(_event("a"))[0]
    two = SeenKeys(b"j" * 32, KEY, "properties.time").identity(_event("a"))[0]
    assert one != two


def test_prune_forgets_whole_days_before_the_horizon() -> None:
    seen = SeenKeys(b"k" * 32, KEY, "properties.time")
    for n in range(3):
        digest, day = seen.identity(_event("a", time=1768046400 + n * 86400))
        assert day is not None
        seen.add(digest, day)
    assert seen.prune(dt.date(2026, 1, 11)) == 1
    assert seen.days() == [dt.date(2026, 1, 11), dt.date(2026, 1, 12)] and len(seen) == 2
    restored = SeenKeys(b"k" * 32, KEY, "properties.time")
    restored.load(seen.to_json())
    assert len(restored) == 2 and seen.identity(_event("a", time=1768132800))[0] in restored


def test_day_of_reads_seconds_milliseconds_and_iso_text() -> None:
    assert day_of(1768046400) == day_of(1768046400000) == dt.date(2026, 1, 10)
    assert day_of("2026-01-10T23:59:59") == dt.date(2026, 1, 10)
    assert day_of(None) is None and day_of(True) is None and day_of("soon") is None
