"""Each shipped vendor mapping turns its sample export into the documented events."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from connector import InputError, SpecError
from connector.migrate.convert import convert_file, open_mapped
from connector.migrate.specs import load_mappings
from tests.conftest import ROOT

SAMPLES = ROOT / "examples" / "mappings"


def digest(*values: Any) -> str:
    """The derived id, computed here independently: sha256 of the compact JSON list, 32 chars."""
    text = json.dumps(list(values), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _mapped(key: str, sample: str | None = None) -> list[dict[str, Any]]:
    with open_mapped(str(SAMPLES / f"{sample or key}.jsonl"), key) as records:
        return list(records)


def test_every_vendor_named_in_the_docs_has_a_mapping_and_a_sample() -> None:
    mappings = load_mappings()
    assert {"amplitude", "segment", "segment-identify", "posthog", "heap", "ga4"} <= set(mappings)
    for key, mapping in mappings.items():
        assert mapping.label and mapping.notes, key
        assert (SAMPLES / f"{key.removesuffix('-identify')}.jsonl").is_file(), key


def test_amplitude() -> None:
    first, second, third = _mapped("amplitude")
    assert first == {
        "event": "Song Played",
        "properties": {
            "time": 1714564800250,  # 2024-05-01 12:00:00.250 UTC
            "distinct_id": "user-0001",
            "$insert_id": "5f0c6a2e-4d1b-4c55-9f3e-1a2b3c4d5e6f",
            "$device_id": "dev-7f3a",
            "$user_id": "user-0001",
            "$os": "ios",
            "$os_version": "17.4",
            "$model": "iPhone15,2",
            "$manufacturer": "Apple",
            "$carrier": "Orange",
            "$city": "Lyon",
            "$region": "Auvergne-Rhone-Alpes",
            "country": "France",
            "$app_version_string": "3.2.1",
            "ip": "203.0.113.7",
            "platform": "iOS",
            "language": "French",
            "session_id": 1714564800000,
            "amplitude_id": 123456789,
            "genre": "jazz",
            "duration_s": 215,
        },
    }
    # No user id: the device is the user; an $insert_id Mixpanel refuses becomes its digest.
    assert second["properties"]["distinct_id"] == "dev-9c1d"
    assert "$user_id" not in second["properties"]
    bad_id = "amp insert id with spaces that Mixpanel refuses"
    assert second["properties"]["$insert_id"] == digest(bad_id)
    assert second["properties"]["time"] == 1714565130000
    # Neither $insert_id nor uuid: a digest of the device, the time and the name.
    assert third["properties"]["$insert_id"] == digest(
        "dev-1111", "2024-05-02 00:00:00.000000", "Logged Out"
    )
    assert third["properties"]["reason"] == "timeout"


def test_segment_tracks_and_pages_but_not_identify_calls() -> None:
    track, page = _mapped("segment")
    message_id = "ajs-next-1714564800000-9c2f0b7a-1e2d-4c3b-8a9f-0d1e2f3a4b5c"  # > 36 chars
    assert track == {
        "event": "Order Completed",
        "properties": {
            "time": 1714564800500,
            "distinct_id": "u-42",
            "$insert_id": digest(message_id),
            "$device_id": "anon-aaa",
            "$user_id": "u-42",
            "ip": "198.51.100.4",
            "mp_lib": "analytics.js",
            "$lib_version": "4.1.0",
            "$os": "Mac OS X",
            "$os_version": "14.4",
            "$current_url": "https://shop.example/checkout",
            "$referrer": "https://search.example/",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "spring",
            "segment_type": "track",
            "order_id": "o-1",
            "revenue": 42.5,
            "currency": "EUR",
        },
    }
    assert page["event"] == "Pricing"
    assert page["properties"]["distinct_id"] == "anon-bbb"
    assert page["properties"]["$insert_id"] == "msg-2"
    assert page["properties"]["time"] == 1714557660000  # 12:01 at +02:00 is 10:01 UTC
    assert page["properties"]["path"] == "/pricing"


def test_segment_identify_calls_are_profile_updates() -> None:
    assert _mapped("segment-identify", "segment") == [
        {
            "$distinct_id": "u-42",
            "$ip": "198.51.100.4",
            "$set": {"email": "ada@example.com", "plan": "pro"},
        }
    ]


def test_posthog() -> None:
    pageview, signup = _mapped("posthog")
    assert pageview == {
        "event": "$pageview",
        "properties": {
            "time": 1714564800123,
            "distinct_id": "ph-user-1",
            "$insert_id": "018f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6b",
            "posthog_person_id": "018f0000-0000-0000-0000-000000000001",
            "$current_url": "https://app.example/home",
            "$browser": "Firefox",
            "$os": "Linux",
            "$lib": "web",
        },
    }
    assert "posthog_person_id" not in signup["properties"]  # null person: left out
    assert signup["properties"]["time"] == 1714570200000


def test_posthog_parquet_export_with_properties_as_json_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(line) for line in (SAMPLES / "posthog.jsonl").read_text().splitlines()]
    for row in rows:
        row["properties"] = json.dumps(row["properties"])
        row["person_properties"] = json.dumps(row["person_properties"])
    path = tmp_path / "posthog-export.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    with open_mapped(str(path), "posthog") as records:
        assert list(records) == _mapped("posthog")


def test_heap() -> None:
    click, pageview = _mapped("heap")
    assert click == {
        "event": "checkout_click",
        "properties": {
            "time": 1714564800123,
            "distinct_id": "4567890123456789",
            "$insert_id": "8123456789012345",
            "$city": "Berlin",
            "$region": "Berlin",
            "$browser": "Chrome",
            "$referrer": "https://news.example/",
            "session_id": 1111111111111111,
            "library": "web",
            "platform": "Mac OS X",
            "device_type": "Desktop",
            "country": "Germany",
            "path": "/checkout",
            "landing_page": "shop.example/",
            "title": "Checkout",
        },
    }
    assert pageview["event"] == "pageviews"  # no event_table_name: event_name
    assert pageview["properties"]["$insert_id"] == "8123456789012346"


def test_ga4() -> None:
    view, purchase = _mapped("ga4")
    assert view == {
        "event": "page_view",
        "properties": {
            "time": 1714564800123,  # microseconds, rounded to milliseconds
            "distinct_id": "1234567890.1714560000",
            "$insert_id": digest("1234567890.1714560000", 1714564800123456, "page_view", 3),
            "$device_id": "1234567890.1714560000",
            "$os": "Windows",
            "$os_version": "Windows 11",
            "$browser": "Edge",
            "device_category": "desktop",
            "language": "en-us",
            "country": "Japan",
            "$region": "Tokyo",
            "$city": "Tokyo",
            "utm_source": "google",
            "utm_medium": "organic",
            "utm_campaign": "(organic)",
            "platform": "WEB",
            "page_location": "https://site.example/blog",
            "ga_session_id": 1714560000,
            "engagement_time_msec": 1500,
            "score": 0.75,
        },
    }
    assert purchase["properties"]["distinct_id"] == "customer-77"
    assert purchase["properties"]["value"] == 19.99
    assert purchase["properties"]["currency"] == "JPY"


def test_a_bad_field_names_the_record_and_field(tmp_path: Path) -> None:
    path = tmp_path / "amp.jsonl"
    path.write_text(
        '{"event_type": "a", "user_id": "u", "event_time": "2024-05-01 12:00:00.0"}\n'
        '{"event_type": "b", "user_id": "u", "event_time": "yesterday"}\n'
    )
    with pytest.raises(InputError, match=r"records\[1\]\.event_time.*expected a time like"):
        with open_mapped(str(path), "amplitude") as records:
            list(records)


def test_an_overlay_adds_and_replaces_mappings(tmp_path: Path) -> None:
    folder = tmp_path / "overlay" / "mappings"
    folder.mkdir(parents=True)
    (folder / "amplitude.yaml").write_text(
        "key: amplitude\nlabel: Ours\nmakes: events\nfields:\n  event: {from: kind}\n"
    )
    (folder / "inhouse.yaml").write_text(
        "key: inhouse\nlabel: In-house\nmakes: events\nfields:\n"
        "  event: {from: what}\n  properties.time: {from: at, time: unix_s}\n"
    )
    mappings = load_mappings([tmp_path / "overlay"])
    assert mappings["amplitude"].label == "Ours"
    assert mappings["inhouse"].apply({"what": "x", "at": "1700000000"}) == {
        "event": "x",
        "properties": {"time": 1700000000000},
    }
    assert "ga4" in mappings


def test_a_mapping_against_its_schema_is_refused_with_the_field(tmp_path: Path) -> None:
    folder = tmp_path / "overlay" / "mappings"
    folder.mkdir(parents=True)
    (folder / "bad.yaml").write_text(
        "key: bad\nlabel: Bad\nmakes: events\nfields:\n  event: {form: kind}\n"
    )
    with pytest.raises(SpecError, match=r"bad\.yaml: fields/event: Additional properties"):
        load_mappings([tmp_path / "overlay"])


def test_convert_writes_json_lines_and_counts(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl.gz"
    summary = convert_file(str(SAMPLES / "segment.jsonl"), "segment", str(out))
    assert summary["written"] == 2 and summary["skipped"] == 1
    import gzip

    lines = gzip.decompress(out.read_bytes()).decode().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["Order Completed", "Pricing"]
