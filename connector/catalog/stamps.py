"""What each cached operation was checked from: its files' stat data and content digests.

A start looks only at the spec folders and at the files every operation shares
(connector.catalog.cache.quick_key), so it costs the same with ten specs or a thousand. An
operation's own files (its file in each layer that has one) are looked at when the operation is
first used: the same stat data, recorded once the file had settled, or else the same content,
or the specs are checked again. An edit in place, which leaves its folder's times alone, is so
never served stale.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from typing import Any

from .layers import Layer

#: One file an operation was checked from: its layer's index, its path in that layer, its stat
#: data (size, times, inode, device), its content's SHA-256, and whether it had settled.
Stamp = tuple[int, str, int, int, int, int, int, str, bool]

_FOLDERS = {"action": "actions", "data_source": "data_sources"}


def operation_files(layers: Sequence[Layer], kind: str, key: str) -> list[tuple[int, str]]:
    """Every layer's file for the operation (a key is its file's name), by layer index."""
    folder, name = _FOLDERS[kind], f"{key}.yaml"
    return [
        (index, f"{folder}/{name}")
        for index, layer in enumerate(layers)
        if any(found == name for found, _ in layer.named(folder))
    ]


def _stat_row(path: str) -> tuple[int, int, int, int, int]:
    info = os.stat(path)
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def stamp(
    layers: Sequence[Layer], files: list[tuple[int, str]], settled_ns: int
) -> list[Stamp] | None:
    """Stamps of `files` now; None when one cannot be read (the entry is then not written)."""
    stamps: list[Stamp] = []
    now = time.time_ns()
    for index, name in files:
        path = os.path.join(layers[index].root, name)
        try:
            size, mtime, ctime, ino, dev = _stat_row(path)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return None
        settled = now - max(mtime, ctime) > settled_ns
        stamps.append((index, name, size, mtime, ctime, ino, dev, digest, settled))
    return stamps


def unchanged(roots: Sequence[str], stamps: Any) -> bool:
    """Whether every stamped file is as it was: the same settled stat data, or content."""
    if not isinstance(stamps, list | tuple):
        return False
    try:
        for index, name, *stat, digest, settled in stamps:
            path = os.path.join(roots[index], name)
            if settled and tuple(stat) == _stat_row(path):
                continue
            with open(path, "rb") as handle:
                if hashlib.sha256(handle.read()).hexdigest() != digest:
                    return False
    except (OSError, ValueError, TypeError, IndexError):
        return False
    return True


def taken(layers: Sequence[Layer], settled_ns: int) -> dict[tuple[int, str], Stamp] | None:
    """Stamps of every operation file of every layer, taken before the specs are checked."""
    files = [
        (index, f"{folder}/{name}")
        for index, layer in enumerate(layers)
        for folder in _FOLDERS.values()
        for name, _ in layer.named(folder)
    ]
    stamps = stamp(layers, files, settled_ns)
    return None if stamps is None else {(s[0], s[1]): s for s in stamps}


def per_operation(
    layers: Sequence[Layer], resolved: dict[str, Any], before: dict[tuple[int, str], Stamp]
) -> dict[tuple[str, str], list[Stamp]] | None:
    """Each checked operation's stamps; None when one of its files changed while checking."""
    found: dict[tuple[str, str], list[Stamp]] = {}
    for entry in resolved["operations"]:
        kind, key = entry["kind"], entry["data"]["key"]
        rows = [before.get(file) for file in operation_files(layers, kind, key)]
        try:
            if not rows or any(
                row is None
                or tuple(row[2:7]) != _stat_row(os.path.join(layers[row[0]].root, row[1]))
                for row in rows
            ):
                return None
        except OSError:
            return None
        found[kind, key] = [row for row in rows if row is not None]
    return found
