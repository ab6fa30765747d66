"""Benchmarks one budget grant + release in each store against the in-process budget.

Prints a Markdown section: the median cost of `acquire` + `release` for a Query-API-shaped limit
(60 per hour, 5 concurrent) in memory (the baseline, measured in the same run), in a SQLite file
and in a real redis-server on loopback (when one is installed), with the ratio to the baseline
and, for scale, a loopback HTTP GET. `python tools/bench/bench_budgets.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import http.server
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connector.budgets import open_budgets  # noqa: E402
from connector.budgets.memory import BudgetRegistry, RateLimit, Registry  # noqa: E402

LIMIT = RateLimit("query", per_hour=60, per_second=None, max_concurrent=5)


def _grant_and_release(registry: Registry) -> Callable[[int], None]:
    budget = registry.budget(LIMIT)

    def once(n: int) -> None:
        # 50 calls per key, so each check sees a realistic window (at most 60 in the hour).
        budget.acquire(f"p{n // 50}", max_wait_s=0).release()

    return once


def _median_s(func: Callable[[int], None], rounds: int) -> float:
    func(-1)  # warm up (open the store, load the scripts)
    times = []
    for n in range(rounds):
        start = time.perf_counter()
        func(n)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def _redis() -> Iterator[str | None]:
    server = shutil.which("redis-server")
    if server is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0?prefix=bench"
    finally:
        process.terminate()
        process.wait(10)


def _loopback_get(rounds: int) -> float:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with requests.Session() as session:
        median = _median_s(lambda n: session.get(url).raise_for_status(), rounds)
    server.shutdown()
    return median


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown section of medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, _redis() as redis_url:
        stores: list[tuple[str, Registry | None]] = [
            ("memory (baseline)", BudgetRegistry()),
            ("sqlite:/// (one host)", open_budgets(f"sqlite:///{Path(folder) / 'b.sqlite3'}")),
            ("redis:// (all hosts)", open_budgets(redis_url) if redis_url else None),
        ]
        base = _median_s(_grant_and_release(BudgetRegistry()), args.repeat)
        http_s = _loopback_get(args.repeat)
        print("## Shared rate budgets\n")
        print("| store | grant + release (median) | ratio to memory | share of a loopback GET |")
        print("|---|---:|---:|---:|")
        for name, registry in stores:
            if registry is None:
                print(f"| {name} | not measured: no redis-server installed | - | - |")
                continue
            median = _median_s(_grant_and_release(registry), args.repeat)
            print(
                f"| {name} | {median * 1e6:.0f} µs | {median / base:.1f}x "
                f"| {median / http_s:.2f}x |"
            )
        print(f"| loopback HTTP GET (requests.Session) | {http_s * 1e6:.0f} µs | - | 1.00x |")
    print(
        f"\n{args.repeat} rounds each, one thread. Each call does one grant and one release; the "
        "SQLite store takes an OS file lock per slot and runs two IMMEDIATE transactions, the "
        "Redis store runs two Lua scripts. Against Mixpanel a query takes 100s of ms, so the "
        "shared stores' cost is noise there.\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
