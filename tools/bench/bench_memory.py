"""Memory of a long import: 1,000,000 events from a generator, peak traced by tracemalloc.

The client runs in its own process with tracemalloc on from the call's start, and sends
with importEvents' defaults (up to 16 requests in flight) to the loopback sink
(tools/bench/sink.py), which checks that every event arrives exactly once. The generator makes
each event as it is asked for, so what stays in memory is what the connector holds: the
requests in flight, the batches queued for them and the one being built.
`python tools/bench/bench_memory.py [--events N]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_import import CONNECTION, make_event  # noqa: E402
from sink import Sink  # noqa: E402

TARGET_MB = 50.0


def generate(count: int) -> Iterator[dict[str, Any]]:
    """The events of bench_import.make_events, made one at a time."""
    return (make_event(n) for n in range(count))


def client_main(url: str, count: int) -> None:
    """Import `count` generated events with tracemalloc on; print the peak as JSON."""
    from connector import load_component

    component = load_component(base_url=url)
    tracemalloc.start()  # after loading, as the test suite's million-event test measures it
    start = time.perf_counter()
    data = component.run(
        "importEvents", {"events": generate(count), "project_id": "1"}, CONNECTION
    )["data"]
    seconds = time.perf_counter() - start
    assert data["records_imported"] == count, data
    peak = tracemalloc.get_traced_memory()[1]
    print(
        json.dumps({"peak_mb": peak / 1e6, "seconds": seconds, "concurrency": data["concurrency"]})
    )


def main(argv: list[str] | None = None) -> int:
    """Run the client once against the sink; print a Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        client_main(args.url, args.events)
        return 0
    with Sink() as url:
        command = [sys.executable, __file__, "--client", "--url", url, "--events", str(args.events)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit("client failed")
        run = json.loads(done.stdout.strip().splitlines()[-1])
        stats = requests.get(f"{url}/stats", timeout=30).json()
    count = args.events
    if (stats["records"], stats["unique_ids"], stats["duplicates"]) != (count, count, 0):
        raise SystemExit(f"not exactly once: {stats}")
    verdict = "met" if run["peak_mb"] < TARGET_MB else "MISSED"
    print("## Memory of a long import\n")
    print("| measure | value | target |\n|---|---:|---:|")
    print(
        f"| peak traced memory, {count:,} events from a generator (importEvents defaults, "
        f"{run['concurrency']} in flight at the end) | {run['peak_mb']:.1f} MB | "
        f"< {TARGET_MB:.0f} MB {verdict} |"
    )
    print(
        f"\ntracemalloc from the call's start (the component loaded, as in the test suite; the "
        f"first call's lazy imports are in it); {run['seconds']:.1f} s under tracing; the sink "
        "checked that every event arrived exactly once."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
