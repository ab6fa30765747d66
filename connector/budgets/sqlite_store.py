"""Budgets in a SQLite file shared by every process on a host; slots are OS file locks.

The rate windows are rows of the times calls count from (see ``shared.LATE_S``). Each
check-and-record runs in one ``BEGIN IMMEDIATE`` transaction (one writer at a time across
processes) and reads the clock inside it, so grants are recorded in the order they happen, on
one clock. A concurrency slot is an exclusive lock on
one of ``max_concurrent`` files (portalocker: ``flock`` on POSIX, ``LockFileEx`` on Windows);
the operating system drops it when its holder exits or is killed, so a dead process never keeps
a slot.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from ..errors import BudgetStoreError
from .file_slots import FileSlots
from .memory import RateLimit, rate_windows, window_horizon, window_wait
from .shared import LATE_S, Verdict, counts_from

__all__ = ["SQLiteStore"]

log = logging.getLogger("connector.budgets")
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
    budget TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL, token TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS grants_by_key ON grants (budget, key, at);
CREATE TABLE IF NOT EXISTS notes (name TEXT PRIMARY KEY, value TEXT NOT NULL, until REAL NOT NULL);
"""


#: How long a store keeps retrying when SQLite answers "database is locked" at once (it does so,
#: without waiting out the busy timeout, while another process sets up WAL or recovers it).
BUSY_RETRY_S = 60.0


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _retrying_busy(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` again, after a short pause, for as long as SQLite says it is busy."""
    deadline = time.monotonic() + BUSY_RETRY_S
    pause = 0.005
    while True:
        try:
            return attempt()
        except sqlite3.Error as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _identity(path: Path) -> tuple[int, int] | None:
    """The device and inode of `path` (None when it is gone): which file the name means now."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class SQLiteStore:
    """The ``Store`` of ``sqlite:///PATH`` URLs."""

    def __init__(self, path: Path, url: str) -> None:
        """Open (creating if needed) the database at ``path`` and its slot folder beside it.

        Args:
            path: The database file.
            url: The URL it was named by, for messages.

        Raises:
            BudgetStoreError: If the file cannot be created or opened.
        """
        self.url = url
        self._path = path
        self._slots = FileSlots(path.with_name(path.name + ".slots"), url)
        self._lock = threading.Lock()
        self._held: dict[str, IO[str] | None] = {}  # token -> its locked slot file
        self._db, self._identity = self._open()

    def _open(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        """Connect to the database file (creating it and its table if needed) and identify it."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                str(self._path), timeout=60.0, isolation_level=None, check_same_thread=False
            )
            _retrying_busy(lambda: db.execute("PRAGMA journal_mode=WAL"))
            # Safe against a process dying mid-commit; only an OS crash can lose the last
            # grants, which a rate budget can afford (and it saves an fsync per call).
            db.execute("PRAGMA synchronous=NORMAL")
            _retrying_busy(lambda: db.executescript(_SCHEMA))
        except (OSError, sqlite3.Error) as exc:
            raise BudgetStoreError(self.url, f"{type(exc).__name__}: {exc}") from None
        return db, _identity(self._path)

    def _reopen_if_replaced(self) -> None:
        """Reopen the file when it was deleted or replaced since it was opened (inode changed).

        Otherwise this process would keep counting in the old file while new processes count
        in a new one, and the budget would split in two.
        """
        if _identity(self._path) == self._identity:
            return
        log.warning("%s was deleted or replaced; reopening it", self.url)
        old = self._db
        self._db, self._identity = self._open()
        old.close()

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.url}>"

    # --- rate windows -------------------------------------------------------------------------

    def _transaction(self, work: Callable[[float], T]) -> T:
        """Run ``work(now)`` in one IMMEDIATE transaction, reading the clock once it is ours."""

        def attempt() -> T:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(time.time())
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return result

        with self._lock:
            self._reopen_if_replaced()
            try:
                return _retrying_busy(attempt)
            except sqlite3.Error as exc:
                raise BudgetStoreError(self.url, f"{type(exc).__name__}: {exc}") from None

    def _windows(self, limit: RateLimit, key: str, token: str | None) -> tuple[float, str]:
        """Drop expired calls and compute the wait; when it is 0, record ``token``'s call."""
        if not rate_windows(limit):
            return 0.0, ""
        where = (limit.name, key)

        def work(now: float) -> tuple[float, str]:
            horizon = now - window_horizon(limit)
            self._db.execute(
                "DELETE FROM grants WHERE budget = ? AND key = ? AND at <= ?", (*where, horizon)
            )
            rows = self._db.execute("SELECT at FROM grants WHERE budget = ? AND key = ?", where)
            wait, window = window_wait(limit, counts_from([at for (at,) in rows], now), now)
            if token is not None and wait <= 0.0:
                self._db.execute(
                    "INSERT INTO grants VALUES (?, ?, ?, ?)", (*where, now + LATE_S, token)
                )
            return wait, window

        return self._transaction(work)

    def _completed(self, limit: RateLimit, key: str, token: str) -> None:
        """The call has its answer: from now on it counts from now."""
        if not rate_windows(limit):
            return

        def work(now: float) -> None:
            self._db.execute(
                "UPDATE grants SET at = MIN(at, ?) WHERE budget = ? AND key = ? AND token = ?",
                (now, limit.name, key, token),
            )

        self._transaction(work)

    # --- notes (what servers advertised) --------------------------------------------------------

    def read_note(self, name: str) -> str | None:
        """The note kept under ``name``, unless it expired."""

        def work(now: float) -> str | None:
            found = self._db.execute(
                "SELECT value FROM notes WHERE name = ? AND until > ?", (name, now)
            ).fetchone()
            return None if found is None else str(found[0])

        return self._transaction(work)

    def write_note(self, name: str, value: str, ttl_s: float) -> None:
        """Keep ``value`` under ``name`` for ``ttl_s`` seconds, for every sharing process."""

        def work(now: float) -> None:
            self._db.execute("DELETE FROM notes WHERE until <= ?", (now,))
            self._db.execute(
                "INSERT OR REPLACE INTO notes VALUES (?, ?, ?)", (name, value, now + ttl_s)
            )

        self._transaction(work)

    # --- concurrency slots --------------------------------------------------------------------

    def _take_slot(self, limit: RateLimit, key: str) -> str | None:
        """A token for a new call, holding a slot if the limit has any; None if all are held."""
        files = self._slots.files(limit, key)
        handle = self._slots.lock_one(files) if files else None
        if files and handle is None:
            return None
        token = uuid.uuid4().hex
        with self._lock:
            self._held[token] = handle
        return token

    def _free_slot(self, token: str) -> None:
        with self._lock:
            handle = self._held.pop(token, None)
        if handle is not None:
            self._slots.unlock(handle)

    def release(self, limit: RateLimit, key: str, token: str) -> None:
        """Date the call's completion, then unlock its slot file (closing drops the lock)."""
        try:
            self._completed(limit, key, token)
        except BudgetStoreError as exc:
            # The call still counts from LATE_S after its grant: later, never earlier.
            log.warning("%s", exc)
        finally:
            self._free_slot(token)

    # --- the Store API ------------------------------------------------------------------------

    def try_acquire(self, limit: RateLimit, key: str) -> Verdict:
        """Take a slot, then record the call if the windows admit it (else give the slot back)."""
        token = self._take_slot(limit, key)
        if token is None:
            wait, window = self._windows(limit, key, None)
            return Verdict(None, wait, window) if wait > 0.0 else Verdict(None, 0.0, "concurrency")
        try:
            wait, window = self._windows(limit, key, token)
        except BaseException:
            self._free_slot(token)
            raise
        if wait > 0.0:
            self._free_slot(token)
            return Verdict(None, wait, window)
        return Verdict(token)

    def seconds_until_free(self, limit: RateLimit, key: str) -> float:
        """Seconds until the rate windows admit another call (0 if now)."""
        return self._windows(limit, key, None)[0]

    def in_flight(self, limit: RateLimit, key: str) -> int:
        """Slot files some process holds locked."""
        return self._slots.held(limit, key)
