"""importEvents through a budget store: the second run starts where the first ended."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from connector import load_component

CONNECTION = {"username": "sa-user", "password": "sa-secret-4242", "projectToken": "tok-77aa"}
PROJECT = "918273"
ROOT = Path(__file__).resolve().parents[4]


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.throttled = 0
        self.events = 0


@contextmanager
def capped_server(
    cap: int, latency: float = 0.05, retry_after: str | None = "0"
) -> Iterator[tuple[str, Counts]]:
    """An /import serving `cap` requests at once, 429 (with `retry_after`, if any) beyond."""
    counts = Counts()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with counts.lock:
                over = counts.active >= cap
                counts.throttled += over
                counts.active += not over
                counts.peak = max(counts.peak, counts.active)
            if over:
                waited = {"Retry-After": retry_after} if retry_after is not None else {}
                self._answer(429, b'{"error":"too many"}', waited)
                return
            time.sleep(latency)
            count = gzip.decompress(body).count(b'{"event":')
            with counts.lock:
                counts.active -= 1
                counts.events += count
            answer = b'{"code":200,"num_records_imported":%d,"status":"OK"}' % count
            self._answer(200, answer, {"Content-Type": "application/json"})

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", counts
    finally:
        server.shutdown()
        server.server_close()


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {"event": "e", "properties": {"time": 1_700_000_000, "distinct_id": f"u{n}", "n": n}}
        for n in range(count)
    ]


def _overlay(folder: Path) -> Path:
    """importEvents with 50 events a request, so that a small job makes many requests."""
    text = (ROOT / "specs" / "actions" / "importEvents.yaml").read_text(encoding="utf-8")
    assert "max_items: 2000" in text
    (folder / "actions").mkdir(parents=True)
    (folder / "actions" / "importEvents.yaml").write_text(
        text.replace("max_items: 2000", "max_items: 50"), encoding="utf-8"
    )
    return folder


def _run(url: str, budgets: str, overlay: Path, workers: int | None = None) -> dict[str, Any]:
    component = load_component(base_url=url, budgets=budgets, spec_paths=[overlay])
    inputs = {"events": _events(60 * 50), "project_id": PROJECT}
    data: dict[str, Any] = component.run("importEvents", inputs, CONNECTION, workers=workers)
    return data["data"]  # type: ignore[no-any-return]


def test_the_second_run_starts_where_the_first_ended_and_the_store_holds_no_clear_text(
    tmp_path: Path,
) -> None:
    overlay = _overlay(tmp_path / "specs")
    budgets = f"sqlite:///{tmp_path / 'budgets.sqlite3'}"
    with capped_server(cap=3) as (url, counts):
        first = _run(url, budgets, overlay)
        throttled_first, counts.throttled = counts.throttled, 0
        second = _run(url, budgets, overlay)
    assert first["records_imported"] == second["records_imported"] == 3000
    # The first run met the cap from 16 down; the second starts at it and only probes above
    # it, ever more rarely (20 windows of 3 here: up to 4 or 5 probes).
    decisions = second["concurrency_decisions"]
    assert counts.throttled <= 5 and 3 * counts.throttled < throttled_first, decisions
    # Near the cap: a window of 4 in flight can be answered fine by a server serving 3 at once
    # (the client counts a request from its slot to its answer, the server only while serving).
    assert decisions[0] in {f"16 -> {n}: where the last run ended" for n in (2, 3, 4)}
    kept = b"".join(p.read_bytes() for p in tmp_path.rglob("budgets.sqlite3*") if p.is_file())
    names = " ".join(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    kept += names.encode()  # the slot files' names too
    assert b"concurrency " in kept  # the note is there...
    for clear in (PROJECT, "127.0.0.1", "sa-secret-4242", "sa-user", "tok-77aa"):
        assert clear.encode() not in kept  # ...as digests only


def test_a_pinned_number_of_workers_neither_reads_nor_writes_the_kept_limit(
    tmp_path: Path,
) -> None:
    overlay = _overlay(tmp_path / "specs")
    budgets = f"sqlite:///{tmp_path / 'budgets.sqlite3'}"
    with capped_server(cap=3) as (url, _):
        assert _run(url, budgets, overlay, workers=2)["records_imported"] == 3000
    assert not (tmp_path / "budgets.sqlite3").exists()


def test_a_throttle_without_retry_after_is_retried_as_the_lowered_limit_allows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overlay = _overlay(tmp_path / "specs")
    with capped_server(cap=3, retry_after=None) as (url, counts):
        assert _run(url, "memory", overlay)["records_imported"] == 3000
    retries = [r.getMessage() for r in caplog.records if "HTTP 429: retry" in r.getMessage()]
    assert counts.throttled and len(retries) == counts.throttled
    # A request's first retry is not after a backoff of 1 to 2 s: the halved limit paces it
    # (the cap meets 16 in flight at first: 13 or more throttled answers). A request throttled
    # a third time backs off, so it cannot spend its attempts within a second.
    first = [line for line in retries if "retry 2/" in line]
    later = [line for line in retries if "retry 2/" not in line and "retry 3/" not in line]
    paced = [line for line in first if "paces the retry" in line]
    assert len(paced) >= 10 and len(first) - len(paced) <= 2, first
    assert all("(backoff)" in line for line in later), later
