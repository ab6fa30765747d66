"""One run at a time per output file or import checkpoint: a lock file that names its holder.

`held(path, job)` takes an exclusive, non-blocking lock (portalocker: `flock` on POSIX,
`LockFileEx` on Windows) on `path` and writes who holds it (process id, host, since when, the
job). A second run gets a StateError naming the first. The lock goes with the process that
holds it, so a killed run never leaves a stale lock; the file is removed when the run ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import portalocker

from ..errors import StateError

__all__ = ["held"]

_FLAGS = portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: Tries when the lock file is removed and made again between our open and our lock.
_TRIES = 20
_HOLDER_BYTES = 4096


@contextlib.contextmanager
def held(path: Path, job: str) -> Iterator[None]:
    """Hold the lock at `path` for the block; `job` says what this run does (no secrets).

    Raises:
        StateError: another run holds it (named: process, host, start, job), or the lock
            file cannot be made (a link, a folder that cannot be written).
    """
    handle = _take(path, job)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while held: a run waiting on the old file sees it went, retries
        with contextlib.suppress(OSError, portalocker.LockException):
            portalocker.unlock(handle)
        handle.close()


def _take(path: Path, job: str) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(_TRIES):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except OSError as exc:
            raise StateError(str(path), f"the lock file cannot be made: {exc.strerror}") from None
        handle = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            portalocker.lock(handle, _FLAGS)
        except portalocker.LockException:
            holder = _holder(handle)
            handle.close()
            raise StateError(
                str(path),
                f"another run is writing the same output or checkpoint ({holder}); wait for "
                "it to finish, or stop it, then run again",
            ) from None
        if _same_file(handle, path):
            handle.seek(0)
            handle.truncate()
            owner = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "job": job,
            }
            handle.write(json.dumps(owner))
            handle.flush()
            return handle
        handle.close()  # the file we locked was removed by the run that just ended
    raise StateError(str(path), "the lock file keeps being replaced; try again")


def _same_file(handle: IO[str], path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path, follow_symlinks=False))
    except OSError:
        return False


def _holder(handle: IO[str]) -> str:
    """Who holds the lock, as its file says."""
    try:
        handle.seek(0)
        data = json.loads(handle.read(_HOLDER_BYTES) or "{}")
        parts = [
            f"process {int(data['pid'])} on {str(data['host'])[:100]}",
            f"since {str(data['since'])[:40]}",
            str(data.get("job", ""))[:300],
        ]
        return ", ".join(p for p in parts if p)
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that has not said who it is yet"
