"""A loopback Mixpanel sink for benchmarks: accepts /import, /track, /engage and /api/2.0/export.

It answers as Mixpanel does (JSON or form bodies, gzip or not), counts every record and checks
exactly-once delivery by `$insert_id`. Run it in its own process so it never shares a GIL with
the client being measured:

    python tools/bench/sink.py [--port 0]        # prints the port on the first line of stdout

`GET /stats` returns the counts as JSON (`GET /profiles`: each profile's last `$set` to arrive;
`GET /timeline`: each ingestion request's arrival, answer and status, as Unix times);
`POST /reset` clears them. `GET /api/2.0/export?n=N` streams N JSON-lines events (for export
benchmarks). Or from Python: `with Sink() as url:`.

A real network hides nothing of this on loopback, so two options model Mixpanel's side of it:
`--latency SECONDS` answers every ingestion request that long after it arrived (Mixpanel takes
hundreds of milliseconds per /import), and `--cap N` serves at most N ingestion requests at once
and answers 429 to any beyond (throttled requests are counted apart and store nothing).
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

EXPORT_LINE = (
    b'{"event":"Played","properties":{"time":1618716477,"distinct_id":"user-%d",'
    b'"$insert_id":"id-%d","plan":"pro","country":"DE","price":9.99}}\n'
)


class Counts:
    """What the sink received, guarded by a lock (the server is threaded)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.requests = 0
        self.records = 0
        self.bytes = 0
        self.without_id = 0
        self.ids: set[str] = set()
        self.duplicates = 0
        self.by_path: dict[str, int] = {}
        self.profiles: dict[Any, Any] = {}
        self.throttled = 0
        self.active = 0
        self.peak_active = 0
        self.timeline: list[tuple[float, float, int]] = []  # (arrived, answered, status)

    def enter(self, cap: int | None) -> bool:
        """Start serving one ingestion request; False (counted) when `cap` are being served."""
        with self.lock:
            if cap is not None and self.active >= cap:
                self.throttled += 1
                return False
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
            return True

    def leave(self) -> None:
        """One ingestion request was answered."""
        with self.lock:
            self.active -= 1

    def add(self, path: str, records: list[Any], size: int) -> None:
        """Count one request's records and their ids."""
        ids = []
        sets = []
        for record in records:
            if path == "/engage" and isinstance(record, dict) and "$set" in record:
                sets.append((record.get("$distinct_id"), record["$set"]))
                continue
            props = record.get("properties") if isinstance(record, dict) else None
            insert_id = props.get("$insert_id") if isinstance(props, dict) else None
            ids.append(insert_id)
        with self.lock:
            self.requests += 1
            self.records += len(records)
            self.bytes += size
            self.by_path[path] = self.by_path.get(path, 0) + len(records)
            self.profiles.update(sets)  # in the order they arrived: a late old value wins
            for insert_id in ids:
                if insert_id is None:
                    self.without_id += 1
                elif insert_id in self.ids:
                    self.duplicates += 1
                else:
                    self.ids.add(insert_id)

    def snapshot(self) -> dict[str, Any]:
        """The counts as JSON-ready data."""
        with self.lock:
            return {
                "requests": self.requests,
                "records": self.records,
                "unique_ids": len(self.ids),
                "duplicates": self.duplicates,
                "without_id": self.without_id,
                "bytes": self.bytes,
                "by_path": dict(self.by_path),
                "throttled": self.throttled,
                "peak_active": self.peak_active,
            }


COUNTS = Counts()
#: Seconds before each ingestion answer, and requests served at once (None: no cap).
SETTINGS: dict[str, Any] = {"latency": 0.0, "cap": None}


class Handler(BaseHTTPRequestHandler):
    """Answers like Mixpanel's ingestion endpoints, as fast as http.server allows."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        """Stay quiet: logging every request would cost more than answering it."""

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        """Stats, or an export stream."""
        parts = urlsplit(self.path)
        if parts.path == "/stats":
            self._answer(200, orjson.dumps(COUNTS.snapshot()))
        elif parts.path == "/timeline":  # each ingestion request: arrived, answered, status
            with COUNTS.lock:
                self._answer(200, orjson.dumps(COUNTS.timeline))
        elif parts.path == "/profiles":  # each profile's $set as it stands
            with COUNTS.lock:
                self._answer(200, orjson.dumps(COUNTS.profiles))
        elif parts.path == "/api/2.0/export":
            count = int(parse_qs(parts.query).get("n", ["1000"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, count, 1000):
                chunk = b"".join(
                    EXPORT_LINE % (n, n) for n in range(start, min(count, start + 1000))
                )
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._answer(404, b'{"error":"not found"}')

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        """Ingest a batch from any client: JSON or form, gzip or not."""
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if parts.path == "/reset":
            COUNTS.reset()
            self._answer(200, b"{}")
            return
        if parts.path not in ("/import", "/track", "/engage"):
            self._answer(404, b'{"error":"not found"}')
            return
        arrived = time.time()
        if not COUNTS.enter(SETTINGS["cap"]):
            self._answer(429, b'{"error":"too many requests at once","status":0}')
            COUNTS.timeline.append((arrived, time.time(), 429))
            return
        try:  # the request holds its place for the whole latency, as a busy server's would
            started = time.monotonic()
            self._ingest(parts.path, parts.query, raw)
            wait = SETTINGS["latency"] - (time.monotonic() - started)
            if wait > 0:
                time.sleep(wait)
        finally:
            COUNTS.leave()
        self._answer(*self._reply)
        COUNTS.timeline.append((arrived, time.time(), self._reply[0]))

    def _ingest(self, path: str, query: str, raw: bytes) -> None:
        """Decode and count one batch; the answer goes to `self._reply`."""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        form = "x-www-form-urlencoded" in self.headers.get("Content-Type", "")
        fields = parse_qs(raw.decode()) if form else {}
        data = fields["data"][0] if form else raw
        records = orjson.loads(data)
        records = records if isinstance(records, list) else [records]
        COUNTS.add(path, records, len(raw))
        verbose = form and fields.get("verbose", ["0"])[0] == "1"
        self._reply: tuple[int, bytes, str] = (200, b"1", "text/plain")
        if verbose or "verbose=1" in query:
            self._reply = (200, b'{"status":1,"error":null}', "application/json")
        elif path == "/import":
            body = {"code": 200, "num_records_imported": len(records), "status": "OK"}
            self._reply = (200, orjson.dumps(body), "application/json")


class Server(ThreadingHTTPServer):
    """The threaded server, with a backlog for all of a client's connections at once.

    The default backlog of 5 resets connections when 16 arrive together.
    """

    request_queue_size = 128
    daemon_threads = True


def serve(port: int = 0) -> ThreadingHTTPServer:
    """A started sink server on 127.0.0.1 (daemon threads)."""
    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Sink:
    """The sink in a child process: `with Sink(latency=0.3, cap=8) as url: ...`."""

    def __init__(self, *, latency: float = 0.0, cap: int | None = None) -> None:
        self.options = ["--latency", str(latency)] + (["--cap", str(cap)] if cap else [])

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *self.options],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        return f"http://127.0.0.1:{port}"

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.process.terminate()
        self.process.wait(10)


def main(argv: list[str] | None = None) -> int:
    """Serve until killed; print the port first."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per ingestion answer")
    parser.add_argument("--cap", type=int, default=None, help="ingestion requests served at once")
    args = parser.parse_args(argv)
    SETTINGS.update(latency=args.latency, cap=args.cap)
    server = Server(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
