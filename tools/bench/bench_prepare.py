"""Benchmarks spec loading and request preparation against hand-built baselines in the same run.

Prints a Markdown section: medians over interleaved rounds (ours, then the baseline, again and
again, so machine noise hits both) and the ratio to the baseline measured in the same process.
`python tools/bench/bench_prepare.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connector import load_component  # noqa: E402
from connector.catalog.load import check_specs, load_specs, specs_root  # noqa: E402

CONNECTION = {"username": "bench-user", "password": "bench-secret-123", "projectToken": "tok-1234"}
EVENTS = [
    {
        "event": "e",
        "properties": {"time": 1618716477 + n, "distinct_id": f"u{n}", "$insert_id": f"id-{n}"},
    }
    for n in range(2000)
]


def _interleaved(
    ours: Callable[[], object], base: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Median seconds of `ours` and `base`, run alternately `rounds` times each."""
    ours(), base()  # warm caches (compiled templates and validators) before timing
    mine, theirs = [], []
    for _ in range(rounds):
        for func, times in ((ours, mine), (base, theirs)):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
    return statistics.median(mine), statistics.median(theirs)


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml_only() -> None:
    for path in sorted(specs_root().rglob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER)


def _hand_built_import() -> None:
    requests.Request(
        "POST",
        "https://api.mixpanel.com/import",
        params={"strict": "1", "project_id": "1"},
        data=json.dumps(EVENTS, separators=(",", ":")).encode(),
        headers={"Content-Type": "application/json"},
        auth=("bench-user", "bench-secret-123"),
    ).prepare()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a Markdown section of medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args(argv)
    component = load_component()
    op = component.spec.actions["importEvents"]
    # Same body on both sides: the baseline sends plain JSON, so gzip is off here.
    inputs = {"events": EVENTS, "project_id": "1", "gzip": False}

    def connector_import() -> None:
        component.prepare(op, inputs, CONNECTION)

    rows = [
        (
            "load + check all specs (as `validate` does, no cache)",
            check_specs,
            "parse the same YAML (libyaml)",
            _parse_yaml_only,
            None,
        ),
        (
            "load the specs from the spec cache",
            load_specs,
            "parse the same YAML (libyaml)",
            _parse_yaml_only,
            None,
        ),
        (
            "prepare one /import of 2,000 events",
            connector_import,
            "`requests.Request.prepare` + `json.dumps`",
            _hand_built_import,
            3.0,
        ),
    ]
    print("## Preparing requests\n")
    print("| measure | ours (median) | baseline (median) | ratio | target | baseline is |")
    print("|---|---:|---:|---:|---:|---|")
    for name, func, base_name, base, target in rows:
        ours_s, base_s = _interleaved(func, base, args.repeat)
        ratio = ours_s / base_s
        goal = f"<= {target:.1f}x {'met' if ratio <= target else 'MISSED'}" if target else "-"
        print(
            f"| {name} | {ours_s * 1e3:.2f} ms | {base_s * 1e3:.2f} ms | {ratio:.2f}x | {goal} "
            f"| {base_name} |"
        )
    tracemalloc.start()
    connector_import()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    _hand_built_import()
    _, base_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"| peak memory, /import prepare | {peak / 1e6:.2f} MB | {base_peak / 1e6:.2f} MB "
        f"| {peak / base_peak:.2f}x | - | tracemalloc |"
    )
    print(
        f"\n{args.repeat} interleaved rounds per row. The 2,000 events are small (about 90 bytes),"
        " which is the hardest case for per-event work: each event is checked (jsonschema-rs,"
        " jsonschema only for refusals), given its fills and encoded with orjson."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
