"""One SQLite database shared by every model: the connection, its lock and write transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Database:
    """Thread-safe access to one SQLite database (`:memory:` or a file, WAL mode)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA synchronous=NORMAL")

    def create(self, schema: str) -> None:
        """Create the tables and indexes of `schema` (statements with IF NOT EXISTS)."""
        with self._lock:
            self._db.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one write transaction (rolled back if the block raises)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and return all rows."""
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run a read query and return the first column of the first row."""
        found = self.rows(sql, args)
        return found[0][0] if found else None

    def tables(self) -> set[str]:
        """The names of the tables that exist."""
        return {str(n) for (n,) in self.rows("SELECT name FROM sqlite_master WHERE type='table'")}

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
