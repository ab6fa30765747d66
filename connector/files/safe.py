"""Small, crash-safe file writes: no symlink followed, replaced atomically, synced before use."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["MAX_STATE_BYTES", "open_appending", "read_small", "remove_quietly", "write_atomic"]

#: A state or checkpoint file larger than this is not ours: it is refused, never parsed.
MAX_STATE_BYTES = 16 * 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a new file beside it, synced, then renamed over it.

    The temporary file is created exclusively and without following a symlink, so a link
    planted at its name cannot redirect the write; the rename replaces a link at `path`
    itself rather than writing through it.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def read_small(path: Path) -> bytes | None:
    """The bytes of `path`, or None when it does not exist.

    Raises:
        OSError: `path` is a symlink (ELOOP), cannot be read, or is larger than
            MAX_STATE_BYTES (EFBIG).
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        data = file.read(MAX_STATE_BYTES + 1)
    if len(data) > MAX_STATE_BYTES:
        raise OSError(27, f"larger than {MAX_STATE_BYTES} bytes", str(path))
    return data


def open_appending(path: Path, *, keep: int | None) -> int:
    """Open `path` for writing at its end, without following a symlink; return the descriptor.

    With `keep` set, the file is first cut back to its first `keep` bytes (what a crash may
    have left beyond them is dropped); with `keep` None it is emptied.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | _NOFOLLOW, 0o644)
    try:
        os.ftruncate(fd, keep or 0)
        os.lseek(fd, 0, os.SEEK_END)
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_quietly(path: Path) -> None:
    """Remove `path` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
