"""Batched actions end to end over loopback HTTP: a generator of 1,000,000 events in flat memory."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from connector import load_component

SINK = Path(__file__).resolve().parents[4] / "tools" / "bench" / "sink.py"

CONNECTION = {"username": "u", "password": "p-secret", "projectToken": "tok-123456"}


def _events(count: int) -> Iterator[dict[str, Any]]:
    # Each with its own $insert_id: hashing ids is test_records' business, streaming is this one's.
    for n in range(count):
        props = {"time": 1618716477 + n, "distinct_id": f"u{n % 977}", "$insert_id": f"i{n}"}
        yield {"event": "e", "properties": props}


def test_a_million_generated_events_import_in_flat_memory() -> None:
    # The server runs in a process of its own, so the peak is the connector's alone (with 16
    # requests in flight, an in-process server's decoded bodies would count too).
    with subprocess.Popen([sys.executable, str(SINK)], stdout=subprocess.PIPE, text=True) as sink:
        try:
            assert sink.stdout is not None
            url = f"http://127.0.0.1:{int(sink.stdout.readline())}"
            component = load_component(base_url=url)
            tracemalloc.start()
            try:
                result = component.run(
                    "importEvents", {"events": _events(1_000_000), "project_id": "1"}, CONNECTION
                )
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            stats = requests.get(f"{url}/stats", timeout=30).json()
            component.transport.session.close()
        finally:
            sink.terminate()
    data = result["data"]
    assert data["records_imported"] == data["records_sent"] == 1_000_000
    assert (stats["records"], stats["unique_ids"], stats["duplicates"]) == (1_000_000,) * 2 + (0,)
    assert data["requests"] == 500 and "failed_records" not in data
    print(f"tracemalloc peak: {peak / 1e6:.1f} MB")
    assert peak < 50_000_000, f"peak {peak / 1e6:.1f} MB"
