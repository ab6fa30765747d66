"""Copy benchmark: `copy` of 1,000,000 events vs its two halves, export alone and import alone.

A loopback export server (its own process) answers each day with gzip JSON lines, every event
with its own `$insert_id`; the loopback sink (tools/bench/sink.py, its own process) takes the
imports and checks that every event arrives exactly once. Each client is its own process:
`run downloadData --output` (export alone), `run importEvents --input-file` of that file
(import alone) and `copy` from the server to the sink. Reports each client's wall time, rate and
peak RSS, and the copy's rate against the slower half. Run alone
(`python tools/bench/bench_copy.py [--events N] [--days N] [--rounds N] [--latency S]`) or
through run.py. `--latency` makes both servers wait before each answer, as over a WAN. With
`--base DIR` (another checkout, e.g. a clone of the commit before a change), its `copy` joins
the same rounds as `copy@base`, alternating with this one, and a before/after line follows.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from bench_export import ExportServer  # noqa: E402
from sink import Sink  # noqa: E402

FIRST_DAY = "2024-03-01"
DAY_S = 86_400
FIRST_S = 1_709_251_200  # 2024-03-01T00:00:00Z
TARGET_RATIO = 0.8
TARGET_RSS_MB = 150.0


def day_body(day: int, per_day: int) -> bytes:
    """One day's gzip JSON lines: realistic events, each with its own $insert_id."""
    rng = random.Random(day)
    lines = []
    for n in range(per_day):
        event = {
            "event": rng.choice(["Page View", "Sign Up", "Purchase", "Add To Cart", "Search"]),
            "properties": {
                "time": FIRST_S + day * DAY_S + n % DAY_S,
                "distinct_id": f"user-{rng.randrange(50_000):05d}",
                "$insert_id": f"d{day}-{n:08d}",
                "mp_processing_time_ms": (FIRST_S + day * DAY_S) * 1000 + n,
                "$browser": rng.choice(["Chrome", "Safari", "Firefox"]),
                "$city": rng.choice(["Berlin", "Paris", "Lagos", "Lima", "Osaka"]),
                "$current_url": f"https://example.com/p/{rng.randrange(1000)}",
                "price": round(rng.random() * 100, 2),
                "items": [{"sku": f"SKU-{rng.randrange(999)}", "qty": rng.randrange(1, 4)}],
            },
        }
        lines.append(json.dumps(event, separators=(",", ":")))
    return gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6)


def serve_forever(events: int, days: int, latency: float) -> None:
    """The server process: print the URL and the days, serve until stdin closes."""
    per_day = -(-events // days)
    names = [time.strftime("%Y-%m-%d", time.gmtime(FIRST_S + d * DAY_S)) for d in range(days)]
    bodies = {name: day_body(d, per_day) for d, name in enumerate(names)}
    server = ExportServer(bodies, latency=latency)
    print(json.dumps({"url": server.url, "days": names, "events": per_day * days}), flush=True)
    sys.stdin.read()


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a client; its wall time (s), peak RSS (MB, the child's own) and standard output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"client failed: {errors.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, text


def cli(*argv: str) -> list[str]:
    """`mixpanel-connector ARGV` in this interpreter."""
    return [sys.executable, "-m", "connector.cli", *argv]


def main() -> int:
    """Run the rounds and print the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before each answer (both servers)"
    )
    parser.add_argument("--base", help="another checkout whose copy joins the rounds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever(args.events, args.days, args.latency)
        return 0
    server = subprocess.Popen(
        [
            *(sys.executable, __file__, "--serve", f"--events={args.events}"),
            *(f"--days={args.days}", f"--latency={args.latency}"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    facts = json.loads(server.stdout.readline())
    results: dict[str, list[tuple[float, float]]] = {"export": [], "import": [], "copy": []}
    if args.base:
        results["copy@base"] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MIXPANEL_CONNECTOR_BUDGETS": "memory"}
    try:
        with Sink(latency=args.latency) as sink, tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            connection = folder / "connection.json"
            secrets = {"username": "bench.sa", "password": "bench-secret", "projectToken": "t"}
            connection.write_text(json.dumps(secrets))
            env.update(MIXPANEL_USERNAME="bench.sa", MIXPANEL_PASSWORD="bench-secret")
            exported = folder / "events.jsonl"
            first, last = facts["days"][0], facts["days"][-1]
            dates = ("-i", f"from_date={first}", "-i", f"to_date={last}", "-i", "project_id=1")
            clients = {
                "export": cli(
                    "run", "downloadData", *dates, "-i", "daysPerRequest=1",
                    "--base-url", facts["url"], "--output", str(exported), "-q",
                ),
                "import": cli(
                    "run", "importEvents", "--input-file", f"events={exported}",
                    "-i", "project_id=2", "--base-url", sink, "-q",
                ),
                "copy": cli(
                    "copy", "--from-date", first, "--to-date", last, "--quiet",
                    "--source-connection", str(connection), "--source-project-id", "1",
                    "--source-base-url", facts["url"], "--source-input", "daysPerRequest=1",
                    "--target-connection", str(connection), "--target-project-id", "2",
                    "--target-base-url", sink, "--target-region", "eu",
                    "--state", str(folder / "copy-state.json"),
                ),
            }  # fmt: skip
            envs = {name: env for name in results}
            if args.base:
                clients["copy@base"] = clients["copy"]
                envs["copy@base"] = {**env, "PYTHONPATH": str(Path(args.base).resolve())}
            for turn in range(args.rounds):
                names = ["export", "import", "copy", "copy@base"][: len(results)]
                if turn % 2:  # alternate which copy goes first
                    names[2:] = reversed(names[2:])
                for name in names:
                    requests.post(f"{sink}/reset", timeout=10)
                    elapsed, rss, _ = measure(clients[name], envs[name])
                    if name != "export":
                        stats = requests.get(f"{sink}/stats", timeout=10).json()
                        if stats["records"] != facts["events"] or stats["duplicates"]:
                            raise SystemExit(f"{name}: the sink got {stats}")
                    results[name].append((elapsed, rss))
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    report(results, facts["events"], len(facts["days"]), args.rounds, args.latency)
    return 0


def report(
    results: dict[str, list[tuple[float, float]]],
    events: int,
    days: int,
    rounds: int,
    latency: float = 0.0,
) -> None:
    """The Markdown section."""

    def median(name: str, index: int) -> float:
        return statistics.median(r[index] for r in results[name])

    rate = {name: events / median(name, 0) for name in results}
    slower = min(rate["export"], rate["import"])
    ratio = rate["copy"] / slower
    print("## Copy between projects: `copy` vs its halves\n")
    print(
        f"{events:,} events over {days} day(s) (one window each), exported gzip-compressed by a "
        "loopback server and imported into the loopback sink, which checks each arrives once; "
        f"each client its own process; {rounds} round(s); medians"
        + (f"; each server answers after {latency:g} s" if latency else "")
        + ".\n"
    )
    print("| client | wall s | events/s | peak RSS MB | vs slower half |")
    print("|---|---:|---:|---:|---:|")
    for name in results:
        print(
            f"| {name} | {median(name, 0):.1f} | {rate[name]:,.0f} | {median(name, 1):.1f} "
            f"| {rate[name] / slower:.2f}x |"
        )
    per_round = [
        max(export[0], imported[0]) / copied[0]
        for export, imported, copied in zip(
            results["export"], results["import"], results["copy"], strict=True
        )
    ]
    print(
        "\nPer round, copy vs that round's slower half: "
        + ", ".join(f"{r:.2f}x" for r in per_round)
    )
    if "copy@base" in results:
        before, after = median("copy@base", 0), median("copy", 0)
        pairs = zip(results["copy"], results["copy@base"], strict=True)
        rounds_ratio = [b[0] / a[0] for a, b in pairs]
        print(
            f"\nBefore (`copy@base`) {before:.2f} s, after {after:.2f} s: {before / after:.2f}x "
            "faster; per round " + ", ".join(f"{r:.2f}x" for r in rounds_ratio)
        )
    rss = median("copy", 1)
    print(
        f"\nTargets: copy >= {TARGET_RATIO}x the slower half: {ratio:.2f}x "
        f"({'met' if ratio >= TARGET_RATIO else 'not met'}); peak RSS < {TARGET_RSS_MB:.0f} MB: "
        f"{rss:.1f} MB ({'met' if rss < TARGET_RSS_MB else 'not met'}).\n"
    )


if __name__ == "__main__":
    sys.exit(main())
