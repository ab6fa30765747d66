"""Batched actions end to end over loopback HTTP: a generator of 1,000,000 events in flat memory."""

from __future__ import annotations

import gzip
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connector import load_component

CONNECTION = {"username": "u", "password": "p-secret", "projectToken": "tok-123456"}


class _Counting(BaseHTTPRequestHandler):
    """Answers /import like Mixpanel, counting events without parsing them."""

    protocol_version = "HTTP/1.1"
    received = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        count = body.count(b'{"event":')
        with _Counting.lock:
            _Counting.received += count
        answer = b'{"code":200,"num_records_imported":%d,"status":"OK"}' % count
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _events(count: int) -> Iterator[dict[str, Any]]:
    # Each with its own $insert_id: hashing ids is test_records' business, streaming is this one's.
    for n in range(count):
        props = {"time": 1618716477 + n, "distinct_id": f"u{n % 977}", "$insert_id": f"i{n}"}
        yield {"event": "e", "properties": props}


def test_a_million_generated_events_import_in_flat_memory() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        component = load_component(base_url=f"http://127.0.0.1:{server.server_address[1]}")
        tracemalloc.start()
        try:
            result = component.run(
                "importEvents", {"events": _events(1_000_000), "project_id": "1"}, CONNECTION
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        component.transport.session.close()
    finally:
        server.shutdown()
        server.server_close()
    data = result["data"]
    assert data["records_imported"] == data["records_sent"] == 1_000_000
    assert _Counting.received == 1_000_000
    assert data["requests"] == 500 and "failed_records" not in data
    print(f"tracemalloc peak: {peak / 1e6:.1f} MB")
    assert peak < 50_000_000, f"peak {peak / 1e6:.1f} MB"
