"""Short jobs over a slow network: runs that start where the last one ended, and runs that do not.

A job of a few dozen batches is over before an adaptive limit has found its level, and it
pays for every 429 on the way (each one a retry after a backoff of a second or more). Rows,
each client its own process, alternating over several rounds, against tools/bench/sink.py in a
process of its own answering each request after `--latency` seconds:
  - open server, and a server serving `--cap` at once (429 beyond);
  - `remembered`: importEvents with its defaults and a budget store (SQLite) that an earlier run
    of the same job wrote to (one untimed warm-up run before the rounds, then each round's run);
  - `fresh`: the same with an empty store each run (what every run did before the limit was
    kept between runs);
  - `loop`: a hand-written loop of pre-built gzip batches, 16 threads on the open server and
    tuned to `--cap` threads on the throttled one.
The sink checks that every event arrives exactly once (by `$insert_id`). Prints medians of
events/s, the ratios, and the median throttled answers and requests each run.
With `--base DIR` (another checkout, e.g. a `git worktree` of the commit before a change),
its `remembered` and `fresh` clients join the same rounds as `remembered@base` and
`fresh@base`, and a before/after table follows.
`python tools/bench/bench_short.py [--events N] [--rounds R] [--latency S] [--cap N] [--base DIR]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_import import CONNECTION, make_events, prepare_loop, run_loop  # noqa: E402
from bench_latency import check_events, median_rate  # noqa: E402
from sink import Sink  # noqa: E402
from timeline import describe  # noqa: E402


def client_main(name: str, url: str, path: str, threads: int, budgets: str) -> None:
    """Load the events and the client (not timed), run it, print its seconds as JSON."""
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    figures: dict[str, Any] = {}
    if name == "loop":
        work: Any = prepare_loop(records)
        wall, start = time.time(), time.perf_counter()
        run_loop(url, work, threads)
    else:
        from connector import load_component

        component = load_component(base_url=url, budgets=budgets)
        inputs = {"events": records, "project_id": "1"}
        wall, start = time.time(), time.perf_counter()
        data = component.run("importEvents", inputs, CONNECTION)["data"]
        assert data["records_imported"] == len(records), data
        figures = {k: data[k] for k in ("concurrency", "requests_throttled", "requests")}
    took = time.perf_counter() - start
    print(json.dumps({"seconds": took, "start": wall, "end": wall + took, **figures}))


def _client(
    name: str, url: str, path: Path, threads: int, budgets: str, script: str = __file__
) -> dict[str, Any]:
    command = [sys.executable, script, "--client", name, "--url", url, "--file", str(path)]
    command += ["--threads", str(threads), "--budgets", budgets]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"client {name} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _scenario(
    args: argparse.Namespace, folder: Path, events: Path, cap: int | None
) -> dict[str, list[dict[str, Any]]]:
    loop_threads = cap or 16
    clients = ["remembered", "fresh", "loop"]
    scripts = {"": __file__}
    if args.base:
        clients += ["remembered@base", "fresh@base"]
        scripts["base"] = str(Path(args.base) / "tools" / "bench" / "bench_short.py")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in clients}
    with Sink(latency=args.latency, cap=cap) as url:
        for which, script in scripts.items():  # the earlier run of each (not timed)
            kept = f"sqlite:///{folder / f'kept-{cap}{which}.sqlite3'}"
            _client("remembered", url, events, 0, kept, script)
        for round_ in range(args.rounds):
            turn = round_ % len(clients)
            order = clients[turn:] + clients[:turn]
            for name in order:
                kind, _, which = name.partition("@")
                fresh = f"sqlite:///{folder / f'fresh-{cap}-{round_}{which}.sqlite3'}"
                kept = f"sqlite:///{folder / f'kept-{cap}{which}.sqlite3'}"
                requests.post(f"{url}/reset", timeout=30)
                budgets = kept if kind == "remembered" else fresh
                run = _client(kind, url, events, loop_threads, budgets, scripts[which])
                check_events(url, args.events, name)
                runs[name].append(run)
                seen = requests.get(f"{url}/timeline", timeout=30).json()
                where = describe(seen, run["start"], run["end"], cap or 16)
                print(
                    f"cap {cap} round {round_ + 1} {name}: {run['seconds']:.3f} s "
                    f"{run.get('concurrency')} {where}",
                    file=sys.stderr,
                    flush=True,
                )
    return runs


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(run.get(key) or 0) for run in runs)


def main(argv: list[str] | None = None) -> int:
    """Run both servers; print a Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=120_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--cap", type=int, default=8)
    parser.add_argument("--base", help="another checkout whose clients join the rounds")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--budgets", default="memory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        client_main(args.client, args.url, args.file, args.threads, args.budgets)
        return 0
    rows, before = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        events = folder / "events.jsonl"
        events.write_text("".join(json.dumps(e) + "\n" for e in make_events(args.events)))
        for label, cap in (("open server", None), (f"serves {args.cap}, 429 beyond", args.cap)):
            runs = _scenario(args, folder, events, cap)
            n = args.events
            kept, fresh, loop = (median_rate(runs[k], n) for k in ("remembered", "fresh", "loop"))
            rows.append(
                f"| {label} | {kept:,.0f} | {fresh:,.0f} | {loop:,.0f} ({cap or 16} threads) | "
                f"{kept / loop:.2f}x | {fresh / loop:.2f}x | {kept / fresh:.2f}x | "
                f"{_median(runs['remembered'], 'requests_throttled'):.0f} / "
                f"{_median(runs['fresh'], 'requests_throttled'):.0f} |"
            )
            if args.base:
                was, was_fresh = (
                    median_rate(runs[k], n) for k in ("remembered@base", "fresh@base")
                )
                before.append(
                    f"| {label} | {was:,.0f} ({was / loop:.2f}x) | "
                    f"{kept:,.0f} ({kept / loop:.2f}x) "
                    f"| {was_fresh:,.0f} ({was_fresh / loop:.2f}x) | {fresh:,.0f} "
                    f"({fresh / loop:.2f}x) | {loop:,.0f} |"
                )
    print(f"## Short jobs ({args.events:,} events, each answer after {args.latency:g} s)\n")
    print(
        f"importEvents with its defaults, {args.rounds} rounds, clients alternating, each in its "
        "own process; `remembered` starts from the limit an earlier run kept in its budget "
        "store, `fresh` from an empty store. The sink checked every event arrived once.\n"
    )
    print(
        "| server | remembered events/s | fresh events/s | loop events/s | remembered/loop | "
        "fresh/loop | remembered/fresh | throttled answers (remembered / fresh) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    if before:
        print(
            f"\nBefore (`{args.base}`) and after, in the same rounds "
            "(events/s, ratio to the loop):\n"
        )
        print(
            "| server | remembered before | remembered after | fresh before | fresh after | loop |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
