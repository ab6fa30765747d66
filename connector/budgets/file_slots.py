"""Concurrency slots as exclusive OS file locks, which free themselves when a holder dies."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO, Any

from ..errors import BudgetStoreError
from .memory import RateLimit

__all__ = ["FileSlots"]


def _locker() -> Any:
    """portalocker, imported on the first slot where `fcntl` is missing (Windows).

    On POSIX the slots take `flock` themselves, as portalocker would: importing portalocker
    costs 60-200 ms (it imports the redis client when installed), paid before a run's first
    request.
    """
    import portalocker

    return portalocker


try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class FileSlots:
    """One lock file per slot of a limit and key, under `folder`; a slot is held by its lock.

    The lock is exclusive (portalocker: ``flock`` on POSIX, ``LockFileEx`` on Windows), so
    every process on the host sees it, and the operating system drops it with its holder.
    """

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.url = url  # the store's, for messages

    def files(self, limit: RateLimit, key: str) -> list[Path]:
        """The slot files of `limit` for `key` (none without a concurrency limit)."""
        if limit.max_concurrent is None:
            return []
        digest = hashlib.sha256(f"{limit.name}\0{key}".encode()).hexdigest()[:16]
        folder = self.folder / f"{limit.name}-{digest}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BudgetStoreError(self.url, f"cannot create {folder}: {exc}") from None
        return [folder / f"{n}.lock" for n in range(limit.max_concurrent)]

    def lock_one(self, files: list[Path]) -> IO[str] | None:
        """Lock the first free slot file and return it open, or None if all are held."""
        if fcntl is not None:
            return self._flock_one(files)
        portalocker = _locker()
        flags = portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
        for path in files:
            handle = path.open("a", encoding="utf-8")
            try:
                portalocker.lock(handle, flags)
            except portalocker.LockException:
                handle.close()
                continue
            return handle
        return None

    def _flock_one(self, files: list[Path]) -> IO[str] | None:
        for path in files:
            handle = path.open("a", encoding="utf-8")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            return handle
        return None

    def unlock(self, handle: IO[str]) -> None:
        """Give a locked slot file back (closing it drops the lock too)."""
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        else:
            _locker().unlock(handle)
        handle.close()

    def held(self, limit: RateLimit, key: str) -> int:
        """Slot files some process holds locked."""
        held = 0
        for path in self.files(limit, key):
            handle = self.lock_one([path])
            if handle is None:
                held += 1
            else:
                self.unlock(handle)
        return held
