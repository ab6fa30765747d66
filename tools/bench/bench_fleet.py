"""A fleet of processes importing into one project against a server that throttles.

A backfill split across engine workers runs as several processes sending to one project at
once. Mixpanel throttles per project, so together they must stay under its limit. Rows, over
several rounds, clients alternating, against tools/bench/sink.py in a process of its own that
answers each request after `--latency` seconds and serves `--cap` at once (429 beyond):
  - `fleet`: `--processes` processes, each importEvents with its defaults on its slice of the
    events, sharing one budget store (a SQLite file), started together; its time runs from
    the first process's start to the last one's end. `fleet (kept)`: the store an earlier
    fleet run of the same job wrote to (one untimed warm-up run, then each round's);
    `fleet (fresh)`: an empty store each round;
  - `loop`: one hand-written loop of pre-built gzip batches tuned by hand to `--cap` threads
    (it never meets a 429), sending every event.
The sink checks that every event arrives exactly once (by `$insert_id`) and counts the 429s.
With `--base DIR` (another checkout, e.g. a `git worktree` of the commit before a change), its
fleet joins the same rounds as `fleet (kept)@base` and `fleet (fresh)@base`.
`python tools/bench/bench_fleet.py [--events N] [--processes P] [--rounds R] [--cap N]
[--base DIR]`.
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
from sink import Sink  # noqa: E402
from timeline import describe  # noqa: E402


def client_main(name: str, url: str, path: str, threads: int, budgets: str) -> None:
    """Load the events and the client, say ready, wait for `go` on stdin, run, print times."""
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    if name == "loop":
        work: Any = prepare_loop(records)
    else:
        from connector import load_component

        component = load_component(base_url=url, budgets=budgets)
        waits = _timed_fleet_slots()
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    figures: dict[str, Any] = {}
    if name == "loop":
        run_loop(url, work, threads)
    else:
        inputs = {"events": records, "project_id": "1"}
        data = component.run("importEvents", inputs, CONNECTION)["data"]
        assert data["records_imported"] == len(records), data
        figures = {k: data.get(k) for k in ("concurrency", "requests_throttled")}
        figures["decisions"] = data.get("concurrency_decisions", [])
        waits.sort()
        figures["slot_wait_ms"] = [
            round(1000 * waits[int(q * (len(waits) - 1))], 1) for q in (0.5, 0.9, 1.0)
        ] + [round(1000 * sum(waits))]
    print(json.dumps({"start": start, "end": time.time(), **figures}), flush=True)


def _timed_fleet_slots() -> list[float]:
    """Seconds each request waited for its slots (local and the fleet's), noted as it goes."""
    from connector.modes.batched.fleet import FleetLimit

    waits: list[float] = []
    plain = FleetLimit.acquire_within

    def timed(self: FleetLimit, timeout: float | None) -> Any:
        began = time.perf_counter()
        slot = plain(self, timeout)
        waits.append(time.perf_counter() - began)
        return slot

    FleetLimit.acquire_within = timed  # type: ignore[method-assign]
    return waits


def _together(
    name: str, url: str, files: list[Path], threads: int, budgets: str, script: str = __file__
) -> tuple[float, float, float]:
    """Start one client per file, let them all go at once; seconds from first start to last end."""
    command = [sys.executable, script, "--client", name, "--url", url]
    procs = [
        subprocess.Popen(
            [*command, "--file", str(path), "--threads", str(threads), "--budgets", budgets],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for path in files
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"client {name} failed")
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  {name}: {results[-1]}", file=sys.stderr)
    start, end = min(r["start"] for r in results), max(r["end"] for r in results)
    return float(end - start), start, end


def main(argv: list[str] | None = None) -> int:
    """Run the fleet and the loop in turn; print a Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=240_000)
    parser.add_argument("--processes", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--cap", type=int, default=8)
    parser.add_argument("--base", help="another checkout whose fleet joins the rounds")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--budgets", default="memory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        client_main(args.client, args.url, args.file, args.threads, args.budgets)
        return 0
    names = ["fleet (kept)", "fleet (fresh)", "loop"]
    scripts = {"": __file__}
    if args.base:
        names += ["fleet (kept)@base", "fleet (fresh)@base"]
        scripts["base"] = str(Path(args.base) / "tools" / "bench" / "bench_fleet.py")
    seconds: dict[str, list[float]] = {name: [] for name in names}
    throttled: dict[str, list[int]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        events = make_events(args.events)
        whole = folder / "all.jsonl"
        whole.write_text("".join(json.dumps(e) + "\n" for e in events))
        slices = []
        for n in range(args.processes):
            part = folder / f"part-{n}.jsonl"
            part.write_text("".join(json.dumps(e) + "\n" for e in events[n :: args.processes]))
            slices.append(part)
        del events
        with Sink(latency=args.latency, cap=args.cap) as url:
            for which, script in scripts.items():  # the earlier run of each (not timed)
                kept = f"sqlite:///{folder / f'kept{which}.sqlite3'}"
                requests.post(f"{url}/reset", timeout=30)
                _together("fleet", url, slices, args.cap, kept, script)
                stats = requests.get(f"{url}/stats", timeout=30).json()
                print(f"warm-up {which}: {stats}", file=sys.stderr)
            for round_ in range(args.rounds):
                turn = round_ % len(names)
                order = names[turn:] + names[:turn]
                for name in order:
                    kind, _, which = name.partition("@")
                    requests.post(f"{url}/reset", timeout=30)
                    fresh = f"sqlite:///{folder / f'budgets-{round_}{which}.sqlite3'}"
                    kept = f"sqlite:///{folder / f'kept{which}.sqlite3'}"
                    budgets = kept if kind == "fleet (kept)" else fresh
                    files = [whole] if name == "loop" else slices
                    client = "loop" if name == "loop" else "fleet"
                    took, start, end = _together(
                        client, url, files, args.cap, budgets, scripts[which]
                    )
                    stats = requests.get(f"{url}/stats", timeout=30).json()
                    seen = requests.get(f"{url}/timeline", timeout=30).json()
                    print(f"  {describe(seen, start, end, args.cap)}", file=sys.stderr)
                    keys = ("records", "unique_ids", "duplicates", "without_id")
                    if tuple(stats[k] for k in keys) != (args.events, args.events, 0, 0):
                        raise SystemExit(f"{name}: not exactly once: {stats}")
                    seconds[name].append(took)
                    throttled[name].append(int(stats["throttled"]))
                    print(f"round {round_ + 1} {name}: {took:.2f} s {stats}", file=sys.stderr)
    loop = args.events / statistics.median(seconds["loop"])
    print(f"## A fleet of {args.processes} processes, one project, server serving {args.cap}\n")
    print(
        f"{args.events:,} events split across {args.processes} processes (importEvents "
        f"defaults, one SQLite budget store) against one loop tuned to {args.cap} threads; each "
        f"answer after {args.latency:g} s, 429 beyond {args.cap} at once; {args.rounds} rounds, "
        "clients alternating, medians.\n"
    )
    print("| client | events/s | ratio to the tuned loop | 429s answered |")
    print("|---|---:|---:|---:|")
    for name in names:
        rate = args.events / statistics.median(seconds[name])
        print(
            f"| {name} | {rate:,.0f} | {rate / loop:.2f}x | "
            f"{statistics.median(throttled[name]):.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
