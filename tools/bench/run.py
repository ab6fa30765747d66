"""Runs every tools/bench/bench_*.py in its own process, in turn, and writes RESULTS.md.

Each benchmark prints one Markdown section (`## Title`, a table of medians and ratios against
baselines measured in the same run, notes) and exits 0. `python tools/bench/run.py [NAME ...]`
runs all of them (or those whose file name contains a NAME) and writes tools/bench/RESULTS.md
with the machine's CPU count, Python version and date, followed by the sections.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def _header() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "# Benchmark results\n\n"
        f"- Date: {now}\n"
        f"- CPUs: {os.cpu_count()}\n"
        f"- Python: {platform.python_version()} ({platform.python_implementation()})\n"
        f"- Platform: {platform.platform()}\n\n"
        "Written by `python tools/bench/run.py`; every figure is a median, and every ratio is "
        "against a baseline measured in the same run on the same machine.\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; return non-zero when any of them failed."""
    wanted = list(sys.argv[1:] if argv is None else argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if any(w in s.name for w in wanted)]
    sections, failed = [], []
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parents[1]
        )
        took = time.monotonic() - start
        if done.returncode != 0:
            failed.append(script.name)
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            sections.append(
                f"## {script.name} FAILED (exit {done.returncode})\n\n```\n{tail}\n```\n"
            )
        else:
            sections.append(done.stdout.strip() + f"\n\n_{script.name}: {took:.0f} s._\n")
        print(sections[-1], flush=True)
    RESULTS.write_text(_header() + "\n" + "\n".join(sections), encoding="utf-8")
    print(f"wrote {RESULTS}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
