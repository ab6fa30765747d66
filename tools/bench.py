"""Benchmarks spec loading and request preparation against hand-built baselines in the same run.

Prints medians over repeated runs and the ratio to a baseline measured in the same process, so
numbers from a noisy machine can be compared: `python tools/bench.py [--repeat N]`.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector import load_component  # noqa: E402
from connector.catalog import load_specs, specs_root  # noqa: E402

CONNECTION = {"username": "bench-user", "password": "bench-secret-123", "projectToken": "tok-1234"}
EVENTS = [
    {"event": "e", "properties": {"time": 1, "distinct_id": f"u{n}", "$insert_id": f"id-{n}"}}
    for n in range(2000)
]


def _median_s(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    """Run the benchmarks and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    component = load_component()
    op = component.spec.actions["importEvents"]
    inputs = {"events": EVENTS, "project_id": "1"}

    def connector_import() -> None:
        component._prepare(op, inputs, CONNECTION)

    rows = [
        (
            "load + check all specs",
            lambda: load_specs(),
            "parse the same YAML (libyaml)",
            _parse_yaml_only,
        ),
        (
            "prepare /import, 2000 events",
            connector_import,
            "requests.Request.prepare",
            _hand_built_import,
        ),
    ]
    print(f"{'measure':<30} {'median':>10} {'baseline':>10} {'ratio':>7}")
    for name, func, base_name, base in rows:
        base_s, ours_s = _median_s(base, args.repeat), _median_s(func, args.repeat)
        print(
            f"{name:<30} {ours_s * 1e3:>8.1f}ms {base_s * 1e3:>8.1f}ms {ours_s / base_s:>6.1f}x"
            f"   (baseline: {base_name})"
        )
    tracemalloc.start()
    connector_import()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    _hand_built_import()
    _, base_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{'peak memory, /import prepare':<30} {peak / 1e6:>8.1f}MB {base_peak / 1e6:>8.1f}MB "
        f"{peak / base_peak:>6.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
