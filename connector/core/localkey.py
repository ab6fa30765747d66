"""A per-user random key, kept with 0600 permissions, for digests that a copied file cannot forge.

State files (import checkpoints, partial exports, cache entries) record which credential or
which content they belong to. A plain SHA-256 of a secret can be tested against guesses, and
one of public content can be recomputed by anyone; an HMAC under this key can be neither, by
anyone who cannot read the key file. The key is 32 random bytes in `local.key` in the user state
directory, created once, atomically (a complete file is linked into place, so two processes
starting at once agree on one key), readable by its owner only. `$MIXPANEL_CONNECTOR_LOCAL_KEY`
names another key file (tests use it to keep theirs in a temporary folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import threading
from pathlib import Path

from ..errors import StateError

__all__ = ["KEY_BYTES", "LOCAL_KEY_ENV", "key_path", "keyed_digest", "local_key"]

#: A path to the key file instead of `local.key` in the user state directory.
LOCAL_KEY_ENV = "MIXPANEL_CONNECTOR_LOCAL_KEY"
#: The key's length: as long as SHA-256's block needs to be unguessable.
KEY_BYTES = 32
_APP = "mixpanel-connector"
# No link followed; and a FIFO planted at the name cannot block the open.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def key_path() -> Path:
    """Where the key lives: `$MIXPANEL_CONNECTOR_LOCAL_KEY`, else the user state directory."""
    configured = os.environ.get(LOCAL_KEY_ENV, "")
    if configured:
        return Path(configured)
    import platformdirs  # only when first needed: it is not free to import

    return Path(platformdirs.user_state_dir(_APP, appauthor=False)) / "local.key"


def local_key(path: Path | None = None) -> bytes:
    """The key at `path` (default: `key_path()`), created on first use; cached per process.

    Raises:
        StateError: the file is a link or not a regular file, belongs to another user, is
            readable or writable by others, or is not KEY_BYTES long.
    """
    where = Path(path) if path is not None else key_path()
    with _lock:
        key = _keys.get(where)
        if key is None:
            key = _keys[where] = _read(where) or _create(where)
        return key


def keyed_digest(purpose: str, *parts: str | bytes, key: bytes | None = None) -> str:
    """HMAC-SHA256 (hex) of `parts` under the local key (or `key`), for one `purpose`.

    Each part is length-prefixed, so ("ab", "c") and ("a", "bc") differ; `purpose` separates
    the uses of one key ("credential", "spec-cache", ...), so a digest made for one is never
    valid for another.
    """
    mac = hmac.new(local_key() if key is None else key, digestmod=hashlib.sha256)
    for part in (purpose, *parts):
        data = part.encode() if isinstance(part, str) else part
        mac.update(len(data).to_bytes(8, "big"))
        mac.update(data)
    return mac.hexdigest()


def _read(path: Path) -> bytes | None:
    """The key in `path`, None when there is none yet."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symbolic link
        raise _unusable(path, exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _unusable(path, "not a regular file")
        owner = getattr(os, "geteuid", None)
        if owner is not None and info.st_uid != owner():
            raise _unusable(path, "it belongs to another user")
        if os.name == "posix" and info.st_mode & 0o077:
            mode = oct(info.st_mode & 0o777)
            raise _unusable(path, f"others may read or write it ({mode})")
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise _unusable(path, f"{len(key)} bytes, not {KEY_BYTES}")
    return key


def _create(path: Path) -> bytes:
    """Write a new key to a private file beside `path` and link it into place.

    The link fails when another process linked its key first; that key is then used. Either
    way `path` only ever holds a complete key.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, _CREATE_FLAGS, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    key = _read(path)
    if key is None:  # removed between the link and the read: very unlikely, never silent
        raise _unusable(path, "it disappeared as it was created")
    return key


def _unusable(path: Path, why: str) -> StateError:
    return StateError(
        str(path),
        f"the local key cannot be used: {why} (remove the file to have a new key made, or "
        f"point {LOCAL_KEY_ENV} at another file)",
    )
