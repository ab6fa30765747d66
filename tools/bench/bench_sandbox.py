"""Sandbox ingestion speed: /import into the sandbox against same-run baselines.

Rows (medians over interleaved rounds, ratio to the baseline measured in the same process):
  - store: `ingest_events` (validate + store 2,000-event batches) vs decoding the same JSON
    and one plain `executemany` of the rows into an equivalent SQLite table;
  - HTTP: POSTing the batches to the sandbox's /import with 4 threads vs the same posts to a
    stdlib server that only reads and decodes each body;
  - HTTP, small: 2,000 GETs of an unknown path (a 404 in Mixpanel's shape) with 4 threads on
    keep-alive connections vs the same GETs to the stdlib server: the server's own cost.
`python tools/bench/bench_sandbox.py [--events N] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_prepare import _interleaved  # noqa: E402  (this folder: run as a script)

SMALL = 2000

from connector.sandbox import Sandbox, Store  # noqa: E402
from connector.sandbox.models.events import ingest_events  # noqa: E402


def _bodies(count: int) -> list[bytes]:
    start = int(time.time()) - 86_400
    events = [
        {
            "event": f"E{i % 7}",
            "properties": {
                "distinct_id": f"u{i % 997}",
                "time": start + i % 80_000,
                "$insert_id": f"ev-{i}",
                "plan": "pro",
            },
        }
        for i in range(count)
    ]
    return [json.dumps(events[i : i + 2000]).encode() for i in range(0, count, 2000)]


def _store_ours(bodies: list[bytes]) -> None:
    store = Store()
    for body in bodies:
        ingest_events(store.events, store.identities, json.loads(body), kind="import", token=None)
    store.close()


def _store_base(bodies: list[bytes]) -> None:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE e (event, distinct_id, time, insert_id, received, body)")
    for body in bodies:
        rows = [
            (
                e["event"],
                e["properties"]["distinct_id"],
                e["properties"]["time"],
                e["properties"]["$insert_id"],
                0,
                json.dumps(e),
            )
            for e in json.loads(body)
        ]
        db.execute("BEGIN")
        db.executemany("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    db.close()


class _Decode(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits for a delayed ACK (40 ms)

    def do_POST(self) -> None:  # noqa: N802
        json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = b'{"code":200,"status":"OK"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:  # noqa: N802
        answer = b'{"error":"unknown path","status":"error"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


def _poster(url: str, auth: tuple[str, str], bodies: list[bytes]) -> Callable[[], None]:
    local = threading.local()

    def post(body: bytes) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        answer = local.session.post(
            url, data=body, auth=auth, timeout=60, headers={"Content-Type": "application/json"}
        )
        answer.raise_for_status()

    def run() -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(post, bodies))

    return run


def _getter(url: str, count: int) -> Callable[[], None]:
    local = threading.local()

    def get(_: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        assert local.session.get(url, timeout=60).status_code == 404

    def run() -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(get, range(count)))

    return run


def main(argv: list[str] | None = None) -> int:
    """Print the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    bodies = _bodies(args.events)
    rows = [
        (
            "store: validate + insert",
            *_interleaved(lambda: _store_ours(bodies), lambda: _store_base(bodies), args.rounds),
        )
    ]
    plain = ThreadingHTTPServer(("127.0.0.1", 0), _Decode)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    with Sandbox() as sb:
        url = f"{sb.base_url}/import?strict=1&project_id={sb.project_id}"
        ours = _poster(url, (sb.username, sb.password), bodies)
        base = _poster(f"http://127.0.0.1:{plain.server_address[1]}/import", ("u", "p"), bodies)
        rows.append(("HTTP: /import, 4 threads", *_interleaved(ours, base, args.rounds)))
        plain_url = f"http://127.0.0.1:{plain.server_address[1]}/nope"
        small = _getter(f"{sb.base_url}/nope", SMALL), _getter(plain_url, SMALL)
        rows.append(("HTTP: 2,000 small GETs, 4 threads", *_interleaved(*small, args.rounds)))
    plain.shutdown()
    plain.server_close()
    print("## Sandbox ingestion\n")
    rounds = f"median of {args.rounds} interleaved rounds"
    print(f"{args.events:,} events in 2,000-event batches, {rounds}.\n")
    print("| what | sandbox (s) | baseline (s) | ratio | sandbox events (or requests)/s |")
    print("|---|---|---|---|---|")
    for name, mine, theirs in rows:
        rate = f"{(SMALL if 'small' in name else args.events) / mine:,.0f}"
        print(f"| {name} | {mine:.3f} | {theirs:.3f} | {mine / theirs:.2f} | {rate} |")
    print(
        "\nBaselines: decode + one plain executemany into SQLite; a stdlib server that only "
        "decodes the body. The ratio is the price of Mixpanel's validation, the dedup key "
        "columns and the request log."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
