"""The `sandbox` plugin: the `mixpanel-connector sandbox` command and the embedded sandbox."""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .addresses import is_loopback
from .server import MAX_BODY_MEMORY, Sandbox
from .tls import TRUST_VARIABLES, TLSUnavailable

DB_ENV = "MIXPANEL_CONNECTOR_SANDBOX_DB"
APP_NAME = "mixpanel-connector"
#: The command's line in `mixpanel-connector --help`.
SUMMARY = (
    "serve a local stand-in for Mixpanel (ingestion, identity, query, export, pipelines) with "
    "a live view, for trying actions and testing workflows without a real project"
)
NOTE = "This result came from the local Mixpanel sandbox, not from Mixpanel."
REMOTE_WARNING = (
    "warning: the sandbox listens on {host}: anyone who can reach this machine can send it "
    "requests, and with the credentials below read everything it holds. It is a test server, "
    "not built to face a network."
)

_lock = threading.Lock()
_embedded: dict[str, Embedded] = {}


def default_db() -> Path:
    """The embedded sandbox's state file: $MIXPANEL_CONNECTOR_SANDBOX_DB or the user data dir."""
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "sandbox.sqlite3"


@dataclass
class Embedded:
    """An in-process sandbox that a component sends every request to."""

    sandbox: Sandbox

    @property
    def base_url(self) -> str:
        """Where the component sends requests."""
        return self.sandbox.base_url

    @property
    def note(self) -> dict[str, Any]:
        """What each result carries so nobody mistakes it for Mixpanel's answer."""
        sb = self.sandbox
        return {"note": NOTE, "base_url": sb.base_url, "project_id": sb.project_id, "db": sb.db}

    def adapt(
        self, input_keys: Sequence[str], inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Use the sandbox's own credentials, and its project id when none was given."""
        values = dict(inputs)
        if "project_id" in input_keys and values.get("project_id") in (None, ""):
            values["project_id"] = self.sandbox.project_id
        return values, dict(self.sandbox.connection)


def embed(db: str | os.PathLike[str] | None = None) -> Embedded:
    """Start (once per process and state file) the embedded sandbox and return it."""
    path = Path(db) if db is not None else default_db()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _lock:
        if key not in _embedded:
            sandbox = Sandbox(db=key).start()
            atexit.register(sandbox.stop)
            _embedded[key] = Embedded(sandbox)
        return _embedded[key]


def stop_embedded() -> None:
    """Stop every embedded sandbox of this process (tests; otherwise they stop at exit)."""
    with _lock:
        for embedded in _embedded.values():
            embedded.sandbox.stop()
        _embedded.clear()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixpanel-connector sandbox",
        description="Serve a local stand-in for Mixpanel (ingestion, identity, query, export, "
        "pipelines) until interrupted.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (127.0.0.1); one that is not this machine's own (0.0.0.0, a "
        "network address) needs --allow-remote",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other machines can reach (prints a warning)",
    )
    parser.add_argument("--db", help="SQLite file for the state (default: in memory)")
    parser.add_argument(
        "--reset",
        action="store_true",
        help=f"empty the state file (--db, else the embedded one: {default_db()})",
    )
    parser.add_argument("--username", help="service account username (default: generated)")
    parser.add_argument("--password", help="service account secret (default: generated)")
    parser.add_argument("--project-token", help="project token (default: generated)")
    parser.add_argument("--project-id", help="project id (default: generated)")
    parser.add_argument("--project-secret", help="project API secret (default: generated)")
    parser.add_argument(
        "--fail-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="answer 500/502/503 to this share of requests",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        metavar="N",
        help="allow N requests per second, then answer 429 with Retry-After",
    )
    parser.add_argument(
        "--reset-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="drop the connection mid-response for this share of requests",
    )
    parser.add_argument("--latency", type=int, default=0, metavar="MS", help="delay every answer")
    parser.add_argument("--seed", type=int, help="make the injected faults reproducible")
    parser.add_argument(
        "--max-body-memory",
        type=int,
        default=MAX_BODY_MEMORY // 2**20,
        metavar="MB",
        help="memory all request bodies in flight may hold together; beyond it 503 with "
        "Retry-After (default: %(default)s)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a certificate from a CA made at start (needs the [sandbox] extra)",
    )
    parser.add_argument(
        "--tls-dir",
        metavar="DIR",
        help="folder for the CA file ca.pem (default: beside --db, else a temporary folder)",
    )
    return parser


def _trust_lines(ca_path: Path) -> list[str]:
    """How to make clients trust the CA, one shell line each."""
    return [
        f"CA certificate: {ca_path}",
        *(f"export {name}={ca_path}" for name in TRUST_VARIABLES),
    ]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    """`mixpanel-connector sandbox ...`; returns the exit code."""
    args = _parser().parse_args(list(argv))
    if args.reset:
        path = Path(args.db) if args.db else default_db()
        if path.exists():
            sandbox = Sandbox(db=str(path))
            sandbox.store.reset()
            sandbox.store.close()
        print(f"Emptied the sandbox state in {path}.")
        return 0
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C: a temporary CA folder goes
    try:
        sandbox = Sandbox(
            db=args.db or ":memory:",
            port=args.port,
            host=args.host,
            allow_remote=args.allow_remote,
            seed=args.seed,
            fail_rate=args.fail_rate,
            rate_limit=args.rate_limit,
            reset_rate=args.reset_rate,
            latency_ms=args.latency,
            username=args.username,
            password=args.password,
            project_token=args.project_token,
            project_id=args.project_id,
            project_secret=args.project_secret,
            tls=args.tls,
            tls_dir=args.tls_dir,
            max_body_memory=args.max_body_memory * 2**20,
        )
    except ValueError as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 2
    try:  # from here an interrupt at any moment stops the sandbox cleanly
        try:
            sandbox.start()
        except (OSError, TLSUnavailable) as exc:
            print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
            return 2
        _announce(sandbox, args.host)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def _announce(sandbox: Sandbox, host: str) -> None:
    """Print the URL, the credentials, the CA file (with --tls) and a warning for remote hosts."""
    if not is_loopback(host):
        print(REMOTE_WARNING.format(host=host), file=sys.stderr)
    print(sandbox.base_url)
    print(f"username: {sandbox.username}")
    print(f"password: {sandbox.password}")
    print(f"project token: {sandbox.project_token}")
    print(f"project id: {sandbox.project_id}")
    print(f"project secret: {sandbox.project_secret}")
    print(f"oauth token: {sandbox.oauth_token}")
    if sandbox.ca_path is not None:
        print("\n".join(_trust_lines(sandbox.ca_path)))
    print(f"Live view: {sandbox.base_url}/  (Ctrl-C to stop)", flush=True)
