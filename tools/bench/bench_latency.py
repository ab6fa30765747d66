"""Imports and profile updates over a slow network: a sink that answers each request in 0.3 s.

Mixpanel takes hundreds of milliseconds to answer each /import; what decides a backfill then is
how many requests are in flight, not the CPU. Rows, each client its own process, alternating
over several rounds, all against tools/bench/sink.py in a process of its own:
  - open server (every request answered after the latency): importEvents with its defaults
    against a hand-written loop of 16 threads posting pre-built gzip batches;
  - throttled server (serves 8 at once, answers 429 beyond): importEvents with its defaults
    against the loop tuned by hand to 8 threads (it never meets a 429);
  - profile updates (updateMultipleProfiles, 2,000-update $set batches, several updates per
    profile) with the spec's defaults against one request at a time (`workers=1`, the
    previous default). The sink keeps each profile's last `$set` to arrive: every profile
    must end with its last value.
The sink checks that every event arrives exactly once (by `$insert_id`).
`python tools/bench/bench_latency.py [--events N] [--rounds R] [--latency S] [--cap N]`.
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


def make_updates(count: int, profiles: int) -> list[dict[str, Any]]:
    """`$set` updates, several per profile, each carrying its sequence number."""
    return [
        {"$distinct_id": f"user-{n % profiles:06d}", "$set": {"seq": n, "plan": "pro"}}
        for n in range(count)
    ]


def client_main(name: str, url: str, path: str, threads: int) -> None:
    """Load the records and the client (not timed), run it, print its seconds as JSON."""
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    figures: dict[str, Any] = {}
    if name == "loop":
        work: Any = prepare_loop(records)
        start = time.perf_counter()
        run_loop(url, work, threads)
    else:
        from connector import load_component

        component = load_component(base_url=url)
        action, key, workers = {
            "connector": ("importEvents", "events", None),
            "connector-4": ("importEvents", "events", 4),
            "profiles": ("updateMultipleProfiles", "propertiesToUpdate", None),
            "profiles-1": ("updateMultipleProfiles", "propertiesToUpdate", 1),
        }[name]
        inputs = {key: records, "project_id": "1"} if key == "events" else {key: records}
        start = time.perf_counter()
        data = component.run(action, inputs, CONNECTION, workers=workers)["data"]
        assert data["records_imported"] == len(records), data
        figures = {k: data[k] for k in ("concurrency", "requests_throttled")}
    print(json.dumps({"seconds": time.perf_counter() - start, **figures}))


def _client(name: str, url: str, path: Path, threads: int = 0) -> dict[str, Any]:
    command = [sys.executable, __file__, "--client", name, "--url", url, "--file", str(path)]
    command += ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"client {name} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def check_events(url: str, count: int, name: str) -> dict[str, Any]:
    """The sink's figures, once it holds each of `count` events exactly once (else exit)."""
    stats: dict[str, Any] = requests.get(f"{url}/stats", timeout=30).json()
    keys = ("records", "unique_ids", "duplicates", "without_id")
    if tuple(stats[k] for k in keys) != (count, count, 0, 0):
        raise SystemExit(f"client {name}: not exactly once: {stats}")
    return stats


def _check_profiles(url: str, updates: list[dict[str, Any]], name: str) -> None:
    landed = requests.get(f"{url}/profiles", timeout=30).json()
    last = {u["$distinct_id"]: u["$set"] for u in updates}
    if landed != last:
        wrong = sum(1 for k, v in last.items() if landed.get(k) != v)
        raise SystemExit(f"client {name}: {wrong} profile(s) do not end with their last value")


def _rounds(
    rounds: int, url: str, clients: list[tuple[str, int]], check: Any
) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in clients}
    for round_ in range(rounds):
        order = clients[round_ % len(clients) :] + clients[: round_ % len(clients)]
        for name, threads in order:
            requests.post(f"{url}/reset", timeout=30)
            run = _client(name, url, check.path, threads)
            run["stats"] = check(url, name)
            runs[name].append(run)
            print(f"round {round_ + 1} {name}: {run}", file=sys.stderr, flush=True)
    return runs


class _Events:
    def __init__(self, path: Path, count: int) -> None:
        self.path, self.count = path, count

    def __call__(self, url: str, name: str) -> dict[str, Any]:
        return check_events(url, self.count, name)


class _Profiles:
    def __init__(self, path: Path, updates: list[dict[str, Any]]) -> None:
        self.path, self.updates = path, updates

    def __call__(self, url: str, name: str) -> dict[str, Any]:
        _check_profiles(url, self.updates, name)
        stats: dict[str, Any] = requests.get(f"{url}/stats", timeout=30).json()
        return stats


def median_rate(runs: list[dict[str, Any]], count: int) -> float:
    """The median of `count` over each run's seconds: records per second."""
    return float(statistics.median(count / run["seconds"] for run in runs))


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(run.get(key) or run["stats"].get(key) or 0) for run in runs)


def main(argv: list[str] | None = None) -> int:
    """Run the three scenarios; print a Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--cap", type=int, default=8)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        client_main(args.client, args.url, args.file, args.threads)
        return 0
    events = make_events(args.events)
    updates = make_updates(args.updates, args.profiles)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        event_file, update_file = Path(tmp) / "events.jsonl", Path(tmp) / "updates.jsonl"
        event_file.write_text("".join(json.dumps(e) + "\n" for e in events))
        update_file.write_text("".join(json.dumps(u) + "\n" for u in updates))
        del events
        check = _Events(event_file, args.events)
        with Sink(latency=args.latency) as url:
            clients = [("connector", 0), ("connector-4", 0), ("loop", 16)]
            open_runs = _rounds(args.rounds, url, clients, check)
        with Sink(latency=args.latency, cap=args.cap) as url:
            clients = [("connector", 0), ("connector-4", 0), ("loop", args.cap)]
            capped = _rounds(args.rounds, url, clients, check)
        with Sink(latency=args.latency) as url:
            profile_check = _Profiles(update_file, updates)
            profile_runs = _rounds(
                args.rounds, url, [("profiles", 0), ("profiles-1", 0)], profile_check
            )
    n = args.events
    capped_label = f"serves {args.cap} at once, 429 beyond"
    for label, runs, loop_label, target in (
        ("open server", open_runs, "hand-written loop, 16 threads", 0.9),
        (capped_label, capped, f"loop tuned to {args.cap} threads", 0.9),
    ):
        ours, theirs = median_rate(runs["connector"], n), median_rate(runs["loop"], n)
        before = median_rate(runs["connector-4"], n)
        ratio = ours / theirs
        verdict = "met" if ratio >= target else "MISSED"
        rows.append(
            f"| {label} | {ours:,.0f} | {theirs:,.0f} ({loop_label}) | {ratio:.2f}x | "
            f">= {target}x {verdict} | {before:,.0f} ({before / theirs:.2f}x) | "
            f"{_median(runs['connector'], 'concurrency'):.0f} | "
            f"{_median(runs['connector'], 'requests_throttled'):.0f} |"
        )
    u = args.updates
    ours, before = (
        median_rate(profile_runs["profiles"], u),
        median_rate(profile_runs["profiles-1"], u),
    )
    ratio = ours / before
    print(f"## Over a slow network (each answer after {args.latency:g} s)\n")
    print(
        f"{n:,} events of about 330 bytes (2,000 per request, gzip) and {u:,} profile updates "
        f"({args.profiles:,} profiles, {u // args.profiles} `$set`s each), sink answering each "
        f"request after {args.latency} s; {args.rounds} rounds, clients alternating, each in its "
        "own process. The sink checked that every event arrived exactly once and that every "
        "profile ended with its last `$set`.\n"
    )
    print(
        "| server | importEvents (defaults) events/s | baseline events/s | ratio | target | "
        "workers=4 (the previous default) | concurrency at end | throttled answers |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(
        f"\n| profile updates | updates/s |\n|---|---:|\n"
        f"| updateMultipleProfiles, defaults (ordered lanes) | {ours:,.0f} |\n"
        f"| updateMultipleProfiles, workers=1 (one request at a time) | {before:,.0f} |\n"
        f"| ratio | {ratio:.2f}x (target >= 4x {'met' if ratio >= 4 else 'MISSED'}) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
