"""Where a sync's state lives: a file, `sqlite:///PATH`, `redis://`, `memory`, or an engine's own.

The URLs are the budget stores' (connector.budgets): `sqlite:///state.db` is relative to the
working directory, `sqlite:////var/lib/state.db` absolute; `redis://HOST:PORT/DB` (`rediss://`
for TLS, `?prefix=` to change the key prefix, `sync` by default); a plain path or `file:///PATH`
is a file of its own. Several syncs may share a SQLite database or a Redis server: each has a
slot named by the sync and a digest of its inputs. An engine keeps the state in its own
storage (a Dagster cursor, an Airflow Variable, a Prefect block) through `CallbackStore`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..budgets.storeurl import mask_url
from ..errors import StateError
from ..files.safe import remove_quietly, write_atomic
from .state import MAX_STATE_BYTES

__all__ = ["LOCK_WAIT_S", "CallbackStore", "StateStore", "open_state"]

#: How long a run waits for another run of the same sync (same state) to finish.
LOCK_WAIT_S = 600.0
_SQLITE = "sqlite:///"
_MEMORY: dict[str, bytes] = {}
_memory_lock = threading.Lock()
_memory_runs: dict[str, threading.Lock] = {}


def _busy(where: str, waited: float) -> StateError:
    return StateError(
        where, f"another run of this sync still holds it after {waited:g} s; run one at a time"
    )


@contextlib.contextmanager
def _file_lock(path: Path, where: str, wait_s: float) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created beside the state), waiting up to `wait_s`."""
    import portalocker  # only when a run needs it

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with portalocker.Lock(str(path), mode="a", timeout=wait_s, check_interval=0.2):
            yield
    except portalocker.LockException:
        raise _busy(where, wait_s) from None


class StateStore(Protocol):
    """Reads and replaces one sync's state document."""

    @property
    def where(self) -> str:
        """Where the state is, as messages show it (secrets masked)."""

    def load(self) -> bytes | None:
        """The document, None before the first run."""

    def save(self, document: bytes) -> None:
        """Replace the document (atomically)."""

    def locked(self, wait_s: float) -> contextlib.AbstractContextManager[None]:
        """Hold the sync's lock for a run, so two runs never deliver the same record."""


@dataclass
class CallbackStore:
    """A state kept by the caller (an engine's cursor, Variable or block)."""

    where: str
    read: Callable[[], bytes | str | None]
    write: Callable[[bytes], None]

    def load(self) -> bytes | None:
        """The caller's document."""
        found = self.read()
        return found.encode() if isinstance(found, str) else found

    def save(self, document: bytes) -> None:
        """Hand the document to the caller."""
        self.write(document)

    def locked(self, wait_s: float) -> contextlib.AbstractContextManager[None]:
        """No lock: the engine runs one evaluation at a time (a sensor, a task)."""
        return contextlib.nullcontext()


@dataclass
class FileStore:
    """A file of its own, replaced atomically, read without following a link."""

    path: Path

    @property
    def where(self) -> str:
        """The file's path."""
        return str(self.path)

    def load(self) -> bytes | None:
        """The file's bytes (at most MAX_STATE_BYTES + 1 are read)."""
        import os

        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(self.where, f"cannot be read: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as file:
            return file.read(MAX_STATE_BYTES + 1)

    def save(self, document: bytes) -> None:
        """Replace the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, document)

    def remove(self) -> None:
        """Forget the state."""
        remove_quietly(self.path)

    def locked(self, wait_s: float) -> contextlib.AbstractContextManager[None]:
        """An exclusive lock on `PATH.lock`."""
        return _file_lock(self.path.with_name(self.path.name + ".lock"), self.where, wait_s)


@dataclass
class MemoryStore:
    """This process only (tests, one-off scripts)."""

    slot: str
    where: str = "memory"

    def load(self) -> bytes | None:
        """The slot's document."""
        with _memory_lock:
            return _MEMORY.get(self.slot)

    def save(self, document: bytes) -> None:
        """Replace the slot's document."""
        with _memory_lock:
            _MEMORY[self.slot] = document

    @contextlib.contextmanager
    def locked(self, wait_s: float) -> Iterator[None]:
        """The slot's lock in this process."""
        with _memory_lock:
            lock = _memory_runs.setdefault(self.slot, threading.Lock())
        if not lock.acquire(timeout=wait_s):
            raise _busy(self.where, wait_s)
        try:
            yield
        finally:
            lock.release()


@dataclass
class SQLiteStore:
    """A row per sync in a `sync_state` table; written in one transaction."""

    path: Path
    slot: str
    where: str

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS sync_state (slot TEXT PRIMARY KEY, body BLOB)")
        return db

    def load(self) -> bytes | None:
        """The slot's document."""
        db = self._open()
        try:
            row = db.execute(
                "SELECT substr(body, 1, ?) FROM sync_state WHERE slot = ?",
                (MAX_STATE_BYTES + 1, self.slot),
            ).fetchone()
        finally:
            db.close()
        return bytes(row[0]) if row else None

    def save(self, document: bytes) -> None:
        """Replace the slot's document."""
        db = self._open()
        try:
            db.execute(
                "INSERT INTO sync_state (slot, body) VALUES (?, ?) ON CONFLICT(slot) "
                "DO UPDATE SET body = excluded.body",
                (self.slot, document),
            )
        finally:
            db.close()

    def locked(self, wait_s: float) -> contextlib.AbstractContextManager[None]:
        """An exclusive lock on a file beside the database, one per slot."""
        lock = self.path.with_name(f"{self.path.name}.{self.slot}.lock")
        return _file_lock(lock, self.where, wait_s)


@dataclass
class RedisStore:
    """A key per sync (`PREFIX:SLOT`) on a Redis server."""

    url: str
    slot: str
    where: str

    def _client(self) -> Any:
        import redis

        parts = urlsplit(self.url)
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        self._prefix = options.pop("prefix", "sync")
        clean = urlunsplit(parts._replace(query=urlencode(options)))
        return redis.Redis.from_url(clean, socket_timeout=30)

    def load(self) -> bytes | None:
        """The slot's document (refused unread when too large)."""
        client = self._client()
        key = f"{self._prefix}:{self.slot}"
        if int(client.strlen(key)) > MAX_STATE_BYTES:
            return b"\0" * (MAX_STATE_BYTES + 1)
        found = client.get(key)
        return bytes(found) if found is not None else None

    def save(self, document: bytes) -> None:
        """Replace the slot's document."""
        self._client().set(f"{self._prefix}:{self.slot}", document)

    @contextlib.contextmanager
    def locked(self, wait_s: float) -> Iterator[None]:
        """A lease (`PREFIX:SLOT:run`, an hour at most) taken with SET NX, freed when done."""
        client, token = self._client(), uuid.uuid4().hex
        key = f"{self._prefix}:{self.slot}:run"
        deadline = time.monotonic() + wait_s
        while not client.set(key, token, nx=True, px=3_600_000):
            if time.monotonic() >= deadline:
                raise _busy(self.where, wait_s)
            time.sleep(0.2)
        try:
            yield
        finally:
            if client.get(key) == token.encode():
                client.delete(key)


def open_state(url: str | Path, slot: str) -> StateStore:
    """The store at `url` (a path, `file:///`, `sqlite:///`, `redis://`, `memory`).

    `slot` names the sync within a shared store (SQLite, Redis, memory).

    Raises:
        StateError: `url` names no known kind of store.
    """
    text = str(url).strip()
    masked = mask_url(text)
    scheme = urlsplit(text).scheme if "://" in text else ""
    if text == "memory":
        return MemoryStore(slot)
    if scheme == "sqlite" and text.startswith(_SQLITE) and len(text) > len(_SQLITE):
        path = Path(text[len(_SQLITE) :]).expanduser()
        return SQLiteStore(path, slot, f"{masked}#{slot}")
    if scheme in ("redis", "rediss"):
        return RedisStore(text, slot, f"{masked}#{slot}")
    if scheme == "file":
        return FileStore(Path(urlsplit(text).path))
    if scheme or not text:
        raise StateError(
            masked or "(empty)",
            "expected a file path, file:///PATH, sqlite:///PATH, redis://HOST:PORT/DB or memory",
        )
    return FileStore(Path(text).expanduser())
