"""The sandbox's HTTP server (127.0.0.1, one thread per connection) and the `Sandbox` handle."""

from __future__ import annotations

import gzip
import secrets
import socket
import struct
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import page
from .faults import Decision, Faults
from .reply import Call, Reply, error, json_reply
from .routes import dispatch, style_of
from .store import Store, now_ms

MAX_BODY = 64 * 1024 * 1024  # refuse to read more (Mixpanel's own limit is 10 MB uncompressed)
QUIET_PATHS = ("/", "/favicon.ico")


def _date_range(query: str) -> tuple[str, str] | None:
    """An export's from_date and to_date (the log keeps nothing else of the query)."""
    params = dict(parse_qsl(query))
    if "from_date" not in params:
        return None
    return params["from_date"], params.get("to_date", "")


class Handler(BaseHTTPRequestHandler):
    """Parses one request, applies the injected faults, dispatches and logs it."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: requests are logged in the store, not on stderr."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        """Handle GET."""
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        """Handle POST."""
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802 - stdlib naming
        """Handle PUT."""
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802 - stdlib naming
        """Handle DELETE."""
        self._handle()

    def _handle(self) -> None:
        sandbox = self.server.sandbox
        started = now_ms()
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(error(413, f"request exceeds max limit of {MAX_BODY} bytes"))
            self.close_connection = True
            return
        raw = self.rfile.read(length) if length else b""
        decision = sandbox.faults.decide() if path not in QUIET_PATHS else Decision()
        if decision.delay_s:
            time.sleep(decision.delay_s)
        status = self._answer(sandbox, decision, path, split.query, raw)
        sandbox.store.log_request(
            {
                "method": self.command,
                "path": path,
                "range": _date_range(split.query),
                "status": status,
                "started": started,
                "finished": now_ms(),
                "fault": decision.label,
            }
        )

    def _answer(
        self, sandbox: Sandbox, decision: Decision, path: str, query: str, raw: bytes
    ) -> int:
        if decision.reset == "before":
            self._reset()
            return 0
        if decision.status is not None:
            headers = {"Retry-After": str(decision.retry_after_s)} if decision.retry_after_s else {}
            message = (
                "Project exceeded rate limits. Please retry the request with exponential backoff."
                if decision.status == 429
                else "injected server error"
            )
            reply = error(decision.status, message, style=style_of(path), path=path)
            reply.headers.update(headers)
            self._send(reply)
            return decision.status
        reply = self._reply(sandbox, path, query, raw)
        if decision.reset == "after":
            self._reset(reply)
            return 0
        self._send(reply)
        return reply.status

    def _reply(self, sandbox: Sandbox, path: str, query: str, raw: bytes) -> Reply:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = _decode(raw, headers.get("content-encoding", ""))
        except (OSError, zlib.error, EOFError):
            return error(400, "the body is not valid gzip", style=style_of(path), path=path)
        params = dict(parse_qsl(query, keep_blank_values=True))
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            params = {**form, **params}
        if path == "/":
            return page.render(sandbox)
        call = Call(self.command, path, params, headers, body, sandbox)
        try:
            return dispatch(call)
        except Exception as exc:  # a sandbox bug: answer 500 and keep serving
            trace = traceback.format_exc(limit=-3)
            sandbox.errors.append(f"{self.command} {path}: {exc!r}\n{trace}")
            return json_reply(
                500, {"error": f"sandbox error: {type(exc).__name__}", "status": "error"}
            )

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _reset(self, reply: Reply | None = None) -> None:
        """Drop the connection (TCP RST), after part of the answer when there is one."""
        if reply is not None:
            head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body) + 64}\r\n\r\n"
            self.wfile.write(head.encode() + reply.body[: len(reply.body) // 2])
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def finish(self) -> None:
        """Tolerate sockets that a reset already closed."""
        try:
            super().finish()
        except OSError:
            pass


def _decode(raw: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding == "gzip" or raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    return raw


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections dropped by clients or by injected resets are not errors."""


class Sandbox:
    """A local stand-in for Mixpanel; use as a context manager (see the README's sandbox section).

    `base_url`, `connection`, `project_id` and `store` are valid once started.
    """

    def __init__(
        self,
        db: str = ":memory:",
        port: int = 0,
        seed: int | None = None,
        fail_rate: float = 0.0,
        rate_limit: float | None = None,
        reset_rate: float = 0.0,
        latency_ms: int = 0,
        *,
        host: str = "127.0.0.1",
        throttle_rate: float = 0.0,
        username: str | None = None,
        password: str | None = None,
        project_token: str | None = None,
        project_id: str | None = None,
        engage_page_size: int = 1000,
    ) -> None:
        self.faults = Faults(
            fail_rate=fail_rate,
            rate_limit=rate_limit,
            reset_rate=reset_rate,
            latency_ms=latency_ms,
            throttle_rate=throttle_rate,
            seed=seed,
        )
        self.db, self.host, self.port = db, host, port
        self.store = Store(db)
        self.username = self._credential(
            "username", username, lambda: "sandbox-sa." + secrets.token_hex(3)
        )
        self.password = self._credential("password", password, lambda: secrets.token_hex(16))
        self.project_token = self._credential(
            "project_token", project_token, lambda: secrets.token_hex(16)
        )
        self.project_id = self._credential(
            "project_id", project_id, lambda: str(1_000_000 + secrets.randbelow(8_999_999))
        )
        self.engage_page_size = engage_page_size
        self.sessions: dict[str, list[str]] = {}  # engage query results by session_id
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _credential(self, key: str, given: str | None, make: Any) -> str:
        value = given or self.store.meta(key) or make()
        if value != self.store.meta(key):
            self.store.set_meta(key, value)
        return str(value)

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"<Sandbox {where} project {self.project_id} db={self.db!r}>"

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` of the running server."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager or start()")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def connection(self) -> dict[str, str]:
        """The connection fields that authenticate against this sandbox."""
        return {
            "username": self.username,
            "password": self.password,
            "projectToken": self.project_token,
        }

    def start(self) -> Sandbox:
        """Listen and serve in a background thread."""
        if self._server is None:
            self._server = _Server((self.host, self.port), Handler)
            self._server.sandbox = self
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="mixpanel-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
