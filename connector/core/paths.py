"""Dotted paths (`properties.$insert_id`) into nested mappings: split, read, set, write a copy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Path", "dotted", "lookup", "put", "records_at", "with_path"]

Path = tuple[str, ...]


def dotted(path: str) -> Path:
    """Split a dotted path (`properties.$insert_id`) into its keys."""
    return tuple(path.split("."))


def lookup(node: Any, keys: Path) -> Any:
    """The value at `keys` in nested mappings, or None."""
    for key in keys:
        if type(node) is not dict and not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def put(record: dict[str, Any], keys: Path, value: Any) -> None:
    """Set `value` at `keys` in `record`, in place, making the objects on the way."""
    node = record
    for name in keys[:-1]:
        inner = node.get(name)
        if not isinstance(inner, dict):
            inner = node[name] = {}
        node = inner
    node[keys[-1]] = value


def records_at(body: Any, path: str) -> list[Any]:
    """The list at dotted `path` in `body`; [] when it is missing or null."""
    node = lookup(body, dotted(path))
    return list(node) if isinstance(node, list | tuple) else []


def with_path(body: Any, path: str, value: Any) -> dict[str, Any]:
    """A copy of mapping `body` (else {}) with `value` at dotted `path`.

    The mappings on the way are copied, never changed.
    """
    result = dict(body) if isinstance(body, Mapping) else {}
    node = result
    *parents, last = dotted(path)
    for name in parents:
        node[name] = dict(node.get(name) or {})
        node = node[name]
    node[last] = value
    return result
