"""The spec cache's operations, each unpickled, trust-checked and built on first use.

A start that runs one action then costs the same with ten specs or a thousand: the entry holds
every operation as its own pickled blob after the index (connector.catalog.blobs), and only
those looked up are read back, after their files are found unchanged (connector.catalog.stamps).
An operation whose file changed, that fails its trust re-check (connector.catalog.widening) or
cannot be built makes every spec be checked again from the files, as a refused entry always did.
"""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

from . import stamps
from .blobs import Blobs, DataOnly
from .build import build_component, build_operation
from .spec import ComponentSpec, OperationSpec
from .widening import host_widening, operation_entry_widening

log = logging.getLogger("connector.specs")

#: What an operation that cannot be used from the cache is rebuilt from: the checked specs.
Recheck = Callable[[], dict[str, Any]]
_BROKEN = (KeyError, TypeError, ValueError, AttributeError, IndexError, pickle.UnpicklingError)


class LazyOperations(MutableMapping[str, OperationSpec]):
    """Operations by key, each made from what is stored for it when first looked up, then kept.

    Settable and deletable like the dict it stands for (callers may replace an operation).
    """

    def __init__(self, stored: dict[str, Any], make: Callable[[Any], OperationSpec]) -> None:
        self._stored = stored
        self._make = make
        self._built: dict[str, OperationSpec] = {}

    def __getitem__(self, key: str) -> OperationSpec:
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._make(self._stored[key])
        return built

    def __setitem__(self, key: str, value: OperationSpec) -> None:
        self._stored[key] = None
        self._built[key] = value

    def __delitem__(self, key: str) -> None:
        del self._stored[key]
        self._built.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __len__(self) -> int:
        return len(self._stored)

    def __contains__(self, key: object) -> bool:
        return key in self._stored

    def __repr__(self) -> str:
        return f"<{len(self)} operations: {', '.join(self._stored)}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles (and copies) as the plain dict of every operation."""
        return (dict, (dict(self.items()),))


def packed(
    resolved: dict[str, Any], files: dict[tuple[str, str], list[stamps.Stamp]] | None = None
) -> dict[str, Any]:
    """`resolved` as the cache stores it: each operation pickled on its own, beside its key.

    With `files`, each operation also carries the stamps of the files it was checked from.
    """
    operations = []
    for entry in resolved["operations"]:
        kind, key = entry["kind"], entry["data"]["key"]
        blob = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        stamped = {"files": files[kind, key]} if files is not None else {}
        operations.append({"kind": kind, "key": key, "blob": blob, **stamped})
    return {**resolved, "operations": operations}


def _names(stored: Any) -> tuple[str, str]:
    """The kind and key of a stored operation: a record, packed, or as check_layers made it."""
    if isinstance(stored, tuple):
        return stored[0], stored[1]
    return stored["kind"], stored["data"]["key"] if "data" in stored else stored["key"]


def _unpacked(stored: Any, blobs: Blobs | None) -> tuple[dict[str, Any], Any]:
    """One stored operation as check_layers made it, and the stamps of its files (or None)."""
    if isinstance(stored, tuple):  # after the index: read and checked against its SHA-256 now
        if blobs is None or not all(isinstance(part, str) for part in stored[:2]):
            raise ValueError("an operation record of the wrong shape")
        files, blob = blobs.fetch(stored)
    elif "blob" in stored:
        files, blob = stored.get("files"), stored["blob"]
    else:
        return stored, stored.get("files")
    entry = DataOnly(io.BytesIO(blob)).load()
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
        raise ValueError("not an operation")
    if (entry.get("kind"), entry["data"].get("key")) != _names(stored):
        raise ValueError("an operation stored under another key")
    return entry, files


class _Fallback:
    """The specs checked again from the files, once, when a cached operation is refused."""

    def __init__(self, recheck: Recheck) -> None:
        self._recheck = recheck
        self._fresh: dict[tuple[str, str], dict[str, Any]] | None = None

    def entry(self, kind: str, key: str) -> dict[str, Any]:
        if self._fresh is None:
            resolved = self._recheck()
            self._fresh = {(e["kind"], e["data"]["key"]): e for e in resolved["operations"]}
        return self._fresh[kind, key]


def cached_component(
    cached: dict[str, Any],
    declared_hosts: set[str],
    secrets: list[str],
    *,
    allow_trust_widening: bool,
    recheck: Recheck,
    roots: Sequence[str] = (),
) -> ComponentSpec | None:
    """The component from a cache entry, its operations built lazily; None if it is refused.

    Refused: trusted hosts no component file declares, or a component part that cannot be
    built. Each operation is re-checked against the trust rules when first looked up (unless
    the caller opted in to widening); one that fails, or cannot be built, is taken from
    `recheck()` (which checks every spec again and rewrites the entry).
    """
    hosts = list(cached["component"].get("trusted_hosts") or ())
    found = host_widening(hosts, declared_hosts)
    if found:
        log.warning("the spec cache entry widens trust (%s); checking the specs again", found[0])
        return None
    fallback = _Fallback(recheck)
    reads = cached["component"].get("reads") or {}
    blobs = cached.get("blobs")
    if blobs is not None and not isinstance(blobs, Blobs):
        return None

    def make(stored: Any) -> OperationSpec:
        kind, key = _names(stored)
        try:
            entry, files = _unpacked(stored, blobs)
            if roots and not stamps.unchanged(roots, files):
                log.info("%s changed since it was cached; checking the specs again", key)
                return build_operation(fallback.entry(kind, key), reads)
            widened = (
                [] if allow_trust_widening else operation_entry_widening(entry, hosts, secrets)
            )
            if not widened:
                return build_operation(entry, reads)
            log.warning(
                "the spec cache entry widens trust (%s); checking the specs again", widened[0]
            )
        except _BROKEN:
            pass  # an operation of the wrong shape: check again
        return build_operation(fallback.entry(kind, key), reads)

    tables: dict[str, dict[str, Any]] = {"action": {}, "data_source": {}}
    for stored in cached["operations"]:
        if type(stored) is tuple:  # a record: its kind and key first (the common case)
            tables[stored[0]][stored[1]] = stored
        else:
            kind, key = _names(stored)
            tables[kind][key] = stored
    try:
        return build_component(
            cached,
            operations=(
                LazyOperations(dict(sorted(tables["action"].items())), make),
                LazyOperations(dict(sorted(tables["data_source"].items())), make),
            ),
        )
    except _BROKEN:
        return None
