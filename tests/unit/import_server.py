"""A loopback /import for bulk tests: answers like Mixpanel, counts events, may keep bodies."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    # Room for a batched action's 16 connections at once (the default backlog of 5 resets some).
    request_queue_size = 64


class Received:
    """What the server got: the event count, and each body parsed when `keep` is on."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.events = 0
        self.bodies: list[list[Any]] = []
        self.lock = threading.Lock()


@contextmanager
def import_server(keep: bool = True) -> Iterator[tuple[str, Received]]:
    """Serve /import on 127.0.0.1 for the block; yield its base URL and what it received."""
    received = Received(keep)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            count = body.count(b'{"event":')  # counts without parsing, so 1M events stay cheap
            with received.lock:
                received.events += count
                if received.keep:
                    received.bodies.append(json.loads(body))
            answer = b'{"code":200,"num_records_imported":%d,"status":"OK"}' % count
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = _Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
