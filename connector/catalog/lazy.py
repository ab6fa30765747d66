"""The spec cache's operations, each unpickled, trust-checked and built on first use.

A start that runs one action then costs the same with ten specs or a thousand: the entry holds
every operation as its own pickled blob, and only those looked up are read back. An operation
that fails its trust re-check (connector.catalog.widening) or cannot be built makes every spec
be checked again from the files, as a refused entry always did.
"""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from . import cache
from .blobs import Blobs
from .build import build_component, build_operation
from .spec import ComponentSpec, OperationSpec
from .widening import host_widening, operation_entry_widening

log = logging.getLogger("connector.specs")

#: What an operation that cannot be used from the cache is rebuilt from: the checked specs.
Recheck = Callable[[], dict[str, Any]]
_BROKEN = (KeyError, TypeError, ValueError, AttributeError, IndexError, pickle.UnpicklingError)


class LazyOperations(MutableMapping[str, OperationSpec]):
    """Operations by key, each made by its maker when first looked up, then kept.

    Settable and deletable like the dict it stands for (callers may replace an operation).
    """

    def __init__(self, makers: dict[str, Callable[[], OperationSpec]]) -> None:
        self._makers = makers
        self._built: dict[str, OperationSpec] = {}

    def __getitem__(self, key: str) -> OperationSpec:
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._makers[key]()
        return built

    def __setitem__(self, key: str, value: OperationSpec) -> None:
        self._makers[key] = lambda: value
        self._built[key] = value

    def __delitem__(self, key: str) -> None:
        del self._makers[key]
        self._built.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __contains__(self, key: object) -> bool:
        return key in self._makers

    def __repr__(self) -> str:
        return f"<{len(self)} operations: {', '.join(self._makers)}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles (and copies) as the plain dict of every operation."""
        return (dict, (dict(self.items()),))


def packed(resolved: dict[str, Any]) -> dict[str, Any]:
    """`resolved` as the cache stores it: each operation pickled on its own, beside its key."""
    operations = [
        {
            "kind": entry["kind"],
            "key": entry["data"]["key"],
            "blob": pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL),
        }
        for entry in resolved["operations"]
    ]
    return {**resolved, "operations": operations}


def _unpacked(stored: dict[str, Any], blobs: Blobs | None) -> dict[str, Any]:
    """One stored operation as check_layers made it (an entry may also hold it unpacked)."""
    if "blob" in stored:
        blob = stored["blob"]
    elif "sha256" in stored:  # after the index: read and checked against its SHA-256 now
        if blobs is None:
            raise ValueError("an operation stored after an index that has none")
        blob = blobs.fetch(stored["at"], stored["size"], stored["sha256"])
    else:
        return stored
    entry = cache.DataOnly(io.BytesIO(blob)).load()
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
        raise ValueError("not an operation")
    if (entry.get("kind"), entry["data"].get("key")) != (stored["kind"], stored["key"]):
        raise ValueError("an operation stored under another key")
    return entry


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

    def maker(stored: dict[str, Any], kind: str, key: str) -> Callable[[], OperationSpec]:
        def make() -> OperationSpec:
            try:
                entry = _unpacked(stored, blobs)
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

        return make

    tables: dict[str, dict[str, Callable[[], OperationSpec]]] = {"action": {}, "data_source": {}}
    for stored in cached["operations"]:
        key = stored["data"]["key"] if "data" in stored else stored["key"]
        tables[stored["kind"]][key] = maker(stored, stored["kind"], key)
    try:
        return build_component(
            cached,
            operations=(
                LazyOperations(dict(sorted(tables["action"].items()))),
                LazyOperations(dict(sorted(tables["data_source"].items()))),
            ),
        )
    except _BROKEN:
        return None
