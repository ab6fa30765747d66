"""Caches the checked, resolved specs on disk, keyed on the content of every file that shapes them.

The key covers every spec file loaded (shipped and overlays, with their place), the meta-schema,
the runtime's own source and the Python version, so an edited spec, a mutated copy or an upgrade
never reuses an old entry. The key can be computed by anyone who has the package, so an entry is
authenticated with an HMAC under the user's own random key (connector.core.localkey, 0600,
beside the state): an entry planted in a shared cache folder (a CI cache, a shared
$MIXPANEL_CONNECTOR_CACHE) by anyone who cannot read that key is refused. An entry holds only
plain data (read back by an unpickler that refuses every class except dates); anything
unreadable, unauthenticated or foreign is ignored and the specs are checked again from scratch
(and the loader re-checks an entry's trust, connector.catalog.widening.entry_widening).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.localkey import keyed_digest
from ..errors import StateError
from .blobs import Blobs, DataOnly, split, well_shaped
from .layers import Layer

__all__ = ["DataOnly", "cache_key", "quick_key", "read", "remember", "write"]

# A folder for the cache instead of the user cache directory; "off" disables the cache.
CACHE_ENV = "MIXPANEL_CONNECTOR_CACHE"
_APP = "mixpanel-connector"
_PACKAGE = Path(__file__).resolve().parents[1]
#: Subpackages that are not the runtime: plugins and engine adapters, loaded by name only.
OPTIONAL_PACKAGES = ("sandbox", "engines")
# Folders of the package that hold no runtime source (the specs and schemas are hashed apart).
_SKIPPED_AT_TOP = (*OPTIONAL_PACKAGES, "__pycache__", "specs", "schemas")
_KEEP = 8  # entries kept per cache folder; older ones are pruned when a new one is written
#: An entry is about 500 kB; a larger file than this is not read (nor one this big written).
MAX_ENTRY_BYTES = 8 << 20
# An entry's second line: its digest (64 hex digits), a space and the index's length.
_HEADER_BYTES = 96


def cache_dir() -> Path | None:
    """Where entries live: $MIXPANEL_CONNECTOR_CACHE, else the user cache dir; None when off."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir(_APP, appauthor=False))


def runtime_sources() -> list[str]:
    """Every runtime source file (the package and each subpackage but the optional ones).

    As paths relative to the package, `/`-separated and sorted; plain strings, since this runs
    at every start (it walks the folders with os.walk, which is several times faster here).
    """
    found = []
    top = str(_PACKAGE)
    for folder, subfolders, files in os.walk(top):
        skip = _SKIPPED_AT_TOP if folder == top else ("__pycache__",)
        subfolders[:] = [name for name in subfolders if name not in skip]
        where = os.path.relpath(folder, top).replace(os.sep, "/")
        prefix = "" if where == "." else where + "/"
        found += [prefix + name for name in files if name.endswith(".py")]
    return sorted(found)


def _code_files() -> list[str]:
    return [*runtime_sources(), "schemas/spec.schema.yaml"]


def cache_key(layers: Sequence[Layer]) -> str:
    """A digest of everything that decides what loading these layers produces."""
    digest = hashlib.sha256(sys.version.encode())
    for name in _code_files():
        digest.update(f"\0code\0{name}\0".encode())
        with open(os.path.join(_PACKAGE, name), "rb") as source:
            digest.update(source.read())
    for index, layer in enumerate(layers):
        digest.update(f"\0layer\0{index}\0{layer.source}\0{layer.overlay}\0".encode())
        for path in layer.files():
            digest.update(f"\0file\0{path.relative_to(layer.root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(layers: Sequence[Layer]) -> tuple[str, int]:
    """A stat-data digest of the runtime's files and the layers' shared files and folders.

    Also returns their newest time. No content is read.
    It does not grow with the number of specs: a spec file added, removed or renamed changes
    its folder's times, and one edited in place is caught when its operation is first used
    (connector.catalog.stamps).
    """
    rows: list[tuple[Any, ...]] = [(sys.version,)]
    paths = [os.path.join(_PACKAGE, name) for name in _code_files()]
    for index, layer in enumerate(layers):
        rows.append((index, layer.source, layer.overlay))
        paths += layer.stat_paths()
    newest = 0
    for path in paths:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            rows.append((path,))
            continue
        rows.append(
            (path, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
        )
        newest = max(newest, info.st_ctime_ns, info.st_mtime_ns)
    return hashlib.sha256(repr(rows).encode()).hexdigest(), newest


#: A file changed this recently may change again within its timestamp's resolution unseen.
SETTLED_NS = 3_000_000_000
INDEX_PURPOSE = "spec-cache-index"


def quick_key(layers: Sequence[Layer]) -> str:
    """`cache_key(layers)`, read from the cache's index when no folder's stat data changed.

    The index maps a digest of the runtime's files and each layer's shared files and folders
    (names, sizes, times, inodes, devices) to the content key, so an unchanged start reads no
    file's content. An index entry is authenticated like an entry, and written only once every
    file is older than SETTLED_NS (an edit within one timestamp tick of the last is then still
    seen, as a later edit changes the ctime).
    """
    folder = cache_dir()
    if folder is None:
        return cache_key(layers)
    try:
        fingerprint, newest = _fingerprint(layers)
    except OSError:
        return cache_key(layers)
    index = folder / f"keys-{fingerprint[:32]}"
    try:
        stored, key, digest = index.read_text(encoding="ascii").split("\n")
        expected = _index_digest(fingerprint, key)
        if stored == fingerprint and expected and hmac.compare_digest(digest, expected):
            return key
    except (OSError, ValueError, UnicodeError):
        pass
    key = cache_key(layers)
    _remember(folder, fingerprint, newest, key)
    return key


def remember(layers: Sequence[Layer]) -> str:
    """The content key of `layers` now, stored as what their fingerprint names.

    For when an operation's file changed in place (its folder's times did not): the next
    start then finds the new entry without reading any file's content.
    """
    key = cache_key(layers)
    folder = cache_dir()
    if folder is not None:
        try:
            fingerprint, newest = _fingerprint(layers)
        except OSError:
            return key
        _remember(folder, fingerprint, newest, key)
    return key


def _remember(folder: Path, fingerprint: str, newest: int, key: str) -> None:
    signed = _index_digest(fingerprint, key)
    if signed and time.time_ns() - newest > SETTLED_NS:
        try:
            _store(
                folder,
                folder / f"keys-{fingerprint[:32]}",
                f"{fingerprint}\n{key}\n{signed}".encode(),
                "keys-*",
            )
        except OSError:
            pass  # a read-only or missing cache folder: the content key each time


def _index_digest(fingerprint: str, key: str) -> str | None:
    try:
        return keyed_digest(INDEX_PURPOSE, fingerprint, key)
    except (StateError, OSError):
        return None


def _store(folder: Path, path: Path, blob: bytes, pattern: str) -> None:
    """Write `blob` to `path` atomically; keep the _KEEP newest files matching `pattern`."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".specs-", suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(blob)
    os.replace(temp, path)
    entries = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    for old in entries[:-_KEEP]:
        old.unlink(missing_ok=True)


#: The purpose an entry's digest is made for (a digest made for another use never matches).
PURPOSE = "spec-cache"


def entry_digest(key: str, payload: bytes) -> str | None:
    """The HMAC of an entry under the user's local key; None when that key cannot be used."""
    try:
        return keyed_digest(PURPOSE, key, payload)
    except (StateError, OSError):
        return None


def _entry_path(folder: Path, key: str) -> Path:
    return folder / f"specs-{key[:32]}.pickle"


def read(key: str) -> dict[str, Any] | None:
    """The resolved specs stored under `key`, or None (missing, unreadable, corrupted, foreign).

    Only the entry's index is read and authenticated: its operations' blobs stay in the file,
    reached through the `Blobs` under "blobs" (connector.catalog.blobs) when first looked up.
    """
    folder = cache_dir()
    if folder is None:
        return None
    path = _entry_path(folder, key)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_ENTRY_BYTES:
                return None
            stored_key = handle.readline(len(key) + 2)
            header = handle.readline(_HEADER_BYTES)
            digest, _, length = header.rstrip(b"\n").partition(b" ")
            wanted = int(length) if length.isdigit() else MAX_ENTRY_BYTES
            payload = handle.read(min(wanted, MAX_ENTRY_BYTES))
            start = handle.tell()
    except OSError:
        return None
    if stored_key != key.encode() + b"\n" or not header.endswith(b"\n"):
        return None
    if length and len(payload) != wanted:
        return None
    expected = entry_digest(key, payload)
    if expected is None or not hmac.compare_digest(digest, expected.encode()):
        return None
    try:
        data = DataOnly(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 - any failure means "no usable entry"
        return None
    if not well_shaped(data):
        return None
    entry: dict[str, Any] = data
    if length:
        entry["blobs"] = Blobs(str(path), start)
    return entry


def write(key: str, resolved: dict[str, Any]) -> None:
    """Store `resolved` under `key`; a read-only or missing cache folder is silently skipped.

    Packed operations (connector.catalog.lazy.packed) go after the index, which names each
    blob's place and SHA-256; the HMAC covers the key and the index.
    """
    folder = cache_dir()
    if folder is None:
        return
    try:
        index, blobs = split(resolved)
        payload = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
        digest = entry_digest(key, payload)
        if digest is None:  # no usable local key: no cache (the specs are checked each time)
            return
        head = f"{key}\n{digest} {len(payload)}\n".encode()
        if len(head) + len(payload) + len(blobs) > MAX_ENTRY_BYTES:
            return
        _store(folder, _entry_path(folder, key), head + payload + blobs, "specs-*.pickle")
    except (OSError, pickle.PicklingError, TypeError, ValueError):
        return
