"""The `Sandbox` handle: state, credentials and faults behind an HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from .addresses import is_loopback
from .faults import Faults
from .handle import respond
from .loop import EventServer
from .store import Store
from .tls import Certificates, make_certificates
from .urls import ROUTER, Router
from .wire import Outgoing, Request, WireError

MAX_BODY = 64 * 1024 * 1024  # refuse to read more (Mixpanel's own limit is 10 MB uncompressed)
#: What all request bodies in flight may hold together (beyond it: 503 with Retry-After).
MAX_BODY_MEMORY = 256 * 1024 * 1024


class Sandbox:
    """A local stand-in for Mixpanel; use as a context manager (see the README's sandbox section).

    `base_url`, `connection`, `project_id` and `store` are valid once started. With `tls=True`
    it serves https with a certificate from a CA made at start; `ca_path` is that CA's file
    (in `tls_dir`, else beside a `db` file, else in a temporary folder removed at stop).
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
        allow_remote: bool = False,
        throttle_rate: float = 0.0,
        username: str | None = None,
        password: str | None = None,
        project_token: str | None = None,
        project_id: str | None = None,
        project_secret: str | None = None,
        oauth_token: str | None = None,
        engage_page_size: int = 1000,
        workers: int = 16,
        idle_timeout_s: float = 30.0,
        read_timeout_s: float = 10.0,
        max_connections: int = 10_000,
        max_body_memory: int = MAX_BODY_MEMORY,
        tls: bool = False,
        tls_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"the sandbox listens only on this machine (127.0.0.1, ::1, localhost), not on "
                f"{host!r}, where others could reach its data and credentials; allow it with "
                "allow_remote=True (--allow-remote)"
            )
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
        self.project_secret = self._credential(
            "project_secret", project_secret, lambda: secrets.token_hex(16)
        )
        self.oauth_token = self._credential(
            "oauth_token", oauth_token, lambda: secrets.token_hex(24)
        )
        self.organization_id = self._credential(
            "organization_id", None, lambda: str(100_000 + secrets.randbelow(899_999))
        )
        self.workspace_id = self._credential(
            "workspace_id", None, lambda: str(1_000_000 + secrets.randbelow(8_999_999))
        )
        self.clock = clock  # what models read as "now" (stamps, time-derived states)
        self.router: Router = ROUTER
        self.engage_page_size = engage_page_size
        self.sessions: dict[str, list[str]] = {}  # engage query results by session_id
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.workers, self.max_connections = workers, max_connections
        self.idle_timeout_s, self.read_timeout_s = idle_timeout_s, read_timeout_s
        if max_body_memory <= 0:
            raise ValueError(f"max_body_memory must be positive, not {max_body_memory}")
        self.max_body_memory = max_body_memory
        self.tls, self.tls_dir = tls, tls_dir
        self.certificates: Certificates | None = None
        self._server: EventServer | None = None

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
        """`http://127.0.0.1:PORT` of the running server (https with `tls=True`)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager or start()")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self._server.server_address[1]}"

    @property
    def ca_path(self) -> Path | None:
        """The CA certificate file that clients trust to reach this sandbox over https."""
        return self.certificates.ca_path if self.certificates else None

    def _tls_folder(self) -> Path | None:
        if self.tls_dir is not None:
            return Path(self.tls_dir)
        if self.db != ":memory:":
            return Path(self.db).with_name(Path(self.db).name + ".tls")
        return None

    @property
    def connection(self) -> dict[str, str]:
        """The connection fields that authenticate against this sandbox."""
        return {
            "username": self.username,
            "password": self.password,
            "projectToken": self.project_token,
            "oauthToken": self.oauth_token,
        }

    def start(self) -> Sandbox:
        """Listen and serve in a background thread."""
        if self._server is None:
            if self.tls and self.certificates is None:
                self.certificates = make_certificates(self.host, self._tls_folder())
            try:
                self._server = self._listen()
            except BaseException:
                if self.certificates is not None:
                    self.certificates.cleanup()
                    self.certificates = None
                raise
            self._server.start()
        return self

    def _listen(self) -> EventServer:
        return EventServer(
            self.host,
            self.port,
            self._respond,
            max_body=MAX_BODY,
            max_body_memory=self.max_body_memory,
            workers=self.workers,
            idle_timeout_s=self.idle_timeout_s,
            read_timeout_s=self.read_timeout_s,
            max_connections=self.max_connections,
            tls=self.certificates.context if self.certificates else None,
        )

    def _respond(self, item: Request | WireError) -> Outgoing:
        return respond(self, self.router, item)

    @property
    def open_connections(self) -> int:
        """Client connections open right now (0 when stopped)."""
        return self._server.open_connections if self._server else 0

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log after entry `since` (its `id`), oldest first; secrets masked.

        Each entry: id, method, path, query and form keys, content_type, content_encoding,
        user_agent, auth (the kind of credential), bytes, status, started, finished,
        duration_ms, fault, range (an export's dates). Also `GET /_sandbox/requests?since=ID`.
        """
        return self.store.requests(since)

    @property
    def body_memory_held(self) -> int:
        """Bytes held right now for request bodies in flight (0 when stopped)."""
        return self._server.memory.held if self._server else 0

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.certificates is not None:
            self.certificates.cleanup()
            self.certificates = None
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
