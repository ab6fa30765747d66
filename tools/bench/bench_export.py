"""Export benchmark: 1,000,000 events by `downloadData --output` vs a minimal requests loop.

A loopback export server answers every day with gzip JSON lines; each client runs in its own
process; the section reports each client's peak RSS and the throughput ratio. Run alone
(`python tools/bench/bench_export.py`) or through `tools/bench/run.py`; prints one Markdown
section. Options: --events N, --rounds N, --days N, and --tree PATH to run the connector of
another checkout too (its own row, alternating with the others in the same rounds: a before and
after on the same server and load). Besides wall time, each row gives the client's CPU time
(user + system, from os.wait4), which a shared machine's load moves far less.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.loopback import RawServer  # noqa: E402

FIRST_DAY = "2024-03-01"

# The hand-written loop a user would write without the connector: requests' iter_lines
# (with a 64 KiB read size, kinder than its 512-byte default), json.loads per line, and the
# line written back to the file.
MINIMAL_LOOP = """
import json, sys, requests
from datetime import date, timedelta
url, first, days, path = sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
count = 0
with requests.Session() as session, open(path, "wb") as out:
    for n in range(days):
        day = (first + timedelta(days=n)).isoformat()
        params = {"project_id": "1", "from_date": day, "to_date": day}
        with session.get(url + "/api/2.0/export", params=params, auth=("u.x", "pw"),
                         stream=True, timeout=60) as response:
            response.raise_for_status()
            for line in response.iter_lines(chunk_size=65536):
                if line:
                    json.loads(line)
                    out.write(line + b"\\n")
                    count += 1
print(count)
"""


def _event(rng: random.Random, day: str, n: int) -> dict[str, Any]:
    """A realistic raw-export event, about 400 bytes, with nested values."""
    return {
        "event": rng.choice(["Page View", "Sign Up", "Purchase", "Add To Cart", "Search"]),
        "properties": {
            "time": 1709251200 + n % 86400,
            "distinct_id": f"user-{rng.randrange(50_000):05d}",
            "$insert_id": f"{day}-{n:09d}-{rng.getrandbits(32):08x}",
            "mp_processing_time_ms": 1709251200000 + n,
            "$browser": rng.choice(["Chrome", "Safari", "Firefox"]),
            "$os": rng.choice(["Windows", "Mac OS X", "iOS", "Android"]),
            "$city": rng.choice(["Berlin", "Paris", "Lagos", "Lima", "Osaka"]),
            "$current_url": f"https://example.com/p/{rng.randrange(1000)}",
            "utm_source": rng.choice(["google", "newsletter", None]),
            "price": round(rng.random() * 100, 2),
            "items": [{"sku": f"SKU-{rng.randrange(999)}", "qty": rng.randrange(1, 4)}],
            "is_trial": rng.random() < 0.2,
        },
    }


def _bodies(events: int, days: int) -> tuple[list[str], bytes, int]:
    """The days asked for, and one day's gzip body (served for every day) and its line count."""
    per_day = -(-events // days)
    rng = random.Random(8)
    block = [json.dumps(_event(rng, FIRST_DAY, n), separators=(",", ":")) for n in range(2000)]
    lines = "\n".join(block[n % len(block)] for n in range(per_day)) + "\n"
    start = time.strptime(FIRST_DAY, "%Y-%m-%d")
    day_list = [
        time.strftime("%Y-%m-%d", time.gmtime(time.mktime(start) + 86400 * n + 43200))
        for n in range(days)
    ]
    return day_list, gzip.compress(lines.encode(), compresslevel=6), per_day


_EMPTY = gzip.compress(b"")


class ExportServer(RawServer):
    """Answers GET /api/2.0/export on 127.0.0.1 with a gzip JSON-lines body.

    `body` is one body for every request, or a body per `from_date` (an empty one for others).
    """

    def __init__(self, body: bytes | dict[str, bytes], latency: float = 0.0) -> None:
        self.body = body
        self.latency = latency  # seconds before each answer's first byte
        self.days: list[str] = []
        super().__init__()

    def answer(self, conn: socket.socket, head: bytes) -> None:
        """The body of the request's `from_date`, gzip-compressed, framed by Content-Length."""
        target = urlsplit(head.split(b" ", 2)[1].decode())
        day = parse_qs(target.query).get("from_date", ["?"])[0]
        self.days.append(day)
        body = self.body if isinstance(self.body, bytes) else self.body.get(day, _EMPTY)
        if self.latency:
            time.sleep(self.latency)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Encoding: gzip\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        conn.sendall(body)


def _serve_forever(events: int, days: int) -> None:
    """The server process: print the URL and the facts, serve until stdin closes."""
    day_list, body, per_day = _bodies(events, days)
    server = ExportServer(body)
    print(json.dumps({"url": server.url, "days": day_list, "per_day": per_day, "gz": len(body)}))
    sys.stdout.flush()
    sys.stdin.read()
    server.close()


def _measure(
    command: list[str], env: dict[str, str], cwd: str | None = None
) -> tuple[float, float, str, float]:
    """Run a client; return its wall time (s), peak RSS (MB), standard output, CPU time (s)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env, cwd=cwd)
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"client failed ({child.returncode}): {errors.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def main() -> int:
    """Run the rounds and print the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=3, help="at most 3: the per-second budget")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", help="another checkout whose connector runs too (own row)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve_forever(args.events, args.days)
        return 0
    # The server runs in its own process, so this one stays small: a child's peak RSS counts
    # the pages it shares with its parent between fork and exec.
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", f"--events={args.events}", f"--days={args.days}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    facts = json.loads(server.stdout.readline())
    url, days, events = facts["url"], facts["days"], facts["per_day"] * len(facts["days"])
    env = {
        **os.environ,
        "MIXPANEL_USERNAME": "bench.sa",
        "MIXPANEL_PASSWORD": "bench-secret",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("MIXPANEL_BASE_URL", None)
    results: dict[str, list[tuple[float, float, float]]] = {"connector": [], "minimal": []}
    roots = {"connector": str(ROOT), "minimal": str(ROOT)}
    if args.tree:
        results["tree"], roots["tree"] = [], str(Path(args.tree).resolve())
    try:
        with tempfile.TemporaryDirectory() as scratch:
            target = str(Path(scratch) / "events.jsonl")
            connector = [
                sys.executable,
                "-m",
                "connector.cli",
                "run",
                "downloadData",
                "-i",
                f"from_date={days[0]}",
                "-i",
                f"to_date={days[-1]}",
                "-i",
                "project_id=1",
                # One request per day, as the minimal loop makes and the server answers.
                "-i",
                "daysPerRequest=1",
                "--base-url",
                url,
                "--output",
                target,
            ]
            clients = {
                "connector": connector,
                "tree": connector,
                "minimal": [
                    sys.executable,
                    "-c",
                    MINIMAL_LOOP,
                    url,
                    days[0],
                    str(len(days)),
                    target,
                ],
            }
            for round_number in range(args.rounds):
                order = list(results)
                for name in order if round_number % 2 == 0 else reversed(order):
                    # each client from its own checkout (`-m` looks in the working folder first)
                    elapsed, rss, out, cpu = _measure(
                        clients[name], {**env, "PYTHONPATH": roots[name]}, cwd=roots[name]
                    )
                    written = sum(1 for _ in open(target, "rb"))
                    counted = int(out) if name == "minimal" else json.loads(out)["events"]
                    if written != events or counted != events:
                        raise SystemExit(f"{name} wrote {written} lines, reported {counted}")
                    results[name].append((elapsed, rss, cpu))
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    _report(results, events, len(days), facts["gz"], args.rounds, roots.get("tree"))
    return 0


def _report(
    results: dict[str, list[tuple[float, float, float]]],
    events: int,
    days: int,
    gz: int,
    rounds: int,
    tree: str | None,
) -> None:
    def median(name: str, index: int) -> float:
        return statistics.median(r[index] for r in results[name])

    rate = {name: events / median(name, 0) for name in results}
    ratio = rate["connector"] / rate["minimal"]
    print("## Export: downloadData --output (streamed JSON lines)\n")
    print(
        f"{events:,} events over {days} day(s), served gzip-compressed ({gz / 1e6:.1f} MB on the "
        f"wire per day) by a loopback server; each client is its own process; {rounds} "
        "alternating rounds; medians.\n"
    )
    print("| client | wall s | events/s | peak RSS MB | vs minimal loop | CPU s | CPU vs minimal |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    labels = {
        "connector": "`mixpanel-connector run downloadData --output`",
        "tree": f"the same, from `{tree}`",
        "minimal": "minimal loop: requests iter_lines + json.loads + write",
    }
    for name in results:
        print(
            f"| {labels[name]} | {median(name, 0):.2f} | {rate[name]:,.0f} | "
            f"{median(name, 1):.1f} | {rate[name] / rate['minimal']:.2f}x | "
            f"{median(name, 2):.2f} | {median('minimal', 2) / median(name, 2):.2f}x |"
        )
    verdict = "met" if ratio >= 0.8 else "NOT met"
    rss = median("connector", 1)
    print(
        f"\nTargets: throughput >= 0.8x the minimal loop: {ratio:.2f}x ({verdict}); peak RSS "
        f"< 100 MB: {rss:.1f} MB ({'met' if rss < 100 else 'NOT met'}). Every run's file is "
        "checked to hold every event. Peak RSS is the child's ru_maxrss (os.wait4); wall time "
        "includes interpreter start-up and imports for both clients.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
