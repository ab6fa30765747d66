"""Cold start against the number of specs: load_component() on a warm cache, shipped vs 5x more.

Two copies of the shipped spec folder, one with EXTRA more actions (copies of Create Alias under
new keys), each loaded in fresh processes that alternate after warm-up runs (which fill the
spec cache); the time is load_component() alone (imports excluded), median per folder, and
their ratio: about 1.0 when the start does not grow with the number of specs.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
WARMUP = 2
EXTRA = 400
TARGET = 1.15
# Specs younger than this are keyed by their content (connector.catalog.cache.SETTLED_NS).
SETTLE_S = 3.5

LOAD = """
import sys, time
from pathlib import Path
from connector import load_component
from connector.catalog import load
load.specs_root = lambda: Path(sys.argv[1])
started = time.perf_counter()
component = load_component()
print(time.perf_counter() - started, len(component.spec.actions))
"""


def _folder(parent: Path, name: str, extra: int) -> Path:
    folder = parent / name
    shutil.copytree(ROOT / "specs", folder)
    text = (folder / "actions" / "createAlias.yaml").read_text(encoding="utf-8")
    for index in range(extra):
        copy = text.replace("key: createAlias", f"key: createAlias{index}", 1)
        (folder / "actions" / f"createAlias{index}.yaml").write_text(copy, encoding="utf-8")
    return folder


def _time(folder: Path, env: dict[str, str]) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(folder)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    seconds, count = done.stdout.split()
    return float(seconds), int(count)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-spec-count-") as temp:
        parent = Path(temp)
        env = {**os.environ, "MIXPANEL_CONNECTOR_CACHE": str(parent / "cache")}
        env.pop("MIXPANEL_CONNECTOR_SPECS", None)
        folders = [_folder(parent, "shipped", 0), _folder(parent, "more", EXTRA)]
        time.sleep(SETTLE_S)
        for _ in range(WARMUP):
            for folder in folders:
                _time(folder, env)
        times: list[list[float]] = [[], []]
        counts = [0, 0]
        for _ in range(ROUNDS):
            for index, folder in enumerate(folders):
                seconds, counts[index] = _time(folder, env)
                times[index].append(seconds)
    medians = [statistics.median(t) * 1000 for t in times]
    ratio = medians[1] / medians[0]
    print("## Cold start against the number of specs: `load_component()`, warm spec cache\n")
    print("| Spec folder | Actions | Median (ms) | Min (ms) | Ratio |")
    print("|---|---:|---:|---:|---:|")
    names = ("shipped", "shipped + copies")
    for name, count, median, runs in zip(names, counts, medians, times, strict=True):
        fastest = min(runs) * 1000
        print(f"| {name} | {count} | {median:.1f} | {fastest:.1f} | {median / medians[0]:.2f} |")
    print()
    print(
        f"{ROUNDS} alternating rounds after {WARMUP} warm-up rounds each, fresh processes, "
        f"imports excluded, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs. "
        f"Target: ratio <= {TARGET} ({'met' if ratio <= TARGET else 'NOT met'})."
    )
    print(
        json.dumps(
            {
                "shipped_ms": round(medians[0], 1),
                "more_ms": round(medians[1], 1),
                "ratio": round(ratio, 2),
            }
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
