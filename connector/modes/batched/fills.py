"""The values a batch's records get where they lack them: constants, times, content ids."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from ...catalog.spec import OperationSpec
from ...core.paths import Path, dotted, lookup
from ...core.templates import input_context, render_value
from ...core.values import is_missing

__all__ = [
    "NOW_FILLS",
    "Fill",
    "accepts",
    "content_id",
    "fill_record",
    "filled_check",
    "parse_fills",
    "put_copy",
    "without",
]

_ID_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS
#: Fills that take the time the record is prepared: never in a bulk job (RecordPlan.for_bulk).
NOW_FILLS = frozenset({"now_ms", "now_s"})


@dataclass(frozen=True)
class Fill:
    """One declared fill: where, of what kind, and what it needs."""

    keys: Path
    kind: str  # value | now_ms | now_s | content_id
    value: Any = None
    sources: tuple[Path, ...] = ()
    ignore: tuple[Path, ...] = ()
    length: int = 36

    @functools.cached_property
    def left_out(self) -> tuple[tuple[Path, ...], ...]:
        """For each source, the `ignore` paths inside it, relative to it (worked out once)."""
        return tuple(
            tuple(keys[len(src) :] for keys in self.ignore if keys[: len(src)] == src)
            for src in self.sources
        )


def content_id(values: list[Any], length: int = 36) -> str:
    """A deterministic id of `values`: blake2b of their canonical JSON, hex (uuid-shaped at 36)."""
    digest = hashlib.blake2b(orjson.dumps(values, option=_ID_OPTIONS), digest_size=16).hexdigest()
    if length >= 36:
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
    return digest[:length]


def without(value: Any, keys: Path) -> Any:
    """`value` with the entry at `keys` left out (a copy only when it is there)."""
    if (type(value) is not dict and not isinstance(value, Mapping)) or keys[0] not in value:
        return value
    if len(keys) == 1:
        return {k: v for k, v in value.items() if k != keys[0]}
    return {**value, keys[0]: without(value[keys[0]], keys[1:])}


def parse_fills(
    op: OperationSpec, values: Mapping[str, Any], connection: Mapping[str, Any]
) -> tuple[list[Fill], Path]:
    """The spec's `batch.fill` for one call, and the path of the id it fills (if any)."""
    context = input_context(values, connection)
    fills: list[Fill] = []
    id_keys: Path = ()
    for n, fill in enumerate(op.batch.get("fill") or ()):
        keys = dotted(fill["path"])
        kind = fill.get("generate", "value")
        if kind == "value":
            where = f"batch.fill[{n}]"
            value = render_value(fill["value"], context, action=op.key, field=where)
            if is_missing(value):
                continue
            fills.append(Fill(keys, kind, value))
        elif kind == "content_id":
            id_keys = keys
            ignore = tuple(dotted(p) for p in fill.get("ignore") or ()) + (keys,)
            sources = tuple(dotted(p) for p in fill["from"])
            fills.append(Fill(keys, kind, None, sources, ignore, fill.get("length", 36)))
        else:
            fills.append(Fill(keys, kind))
    return fills, id_keys


def fill_record(record: Any, fills: list[Fill]) -> Any:
    """`record` with each missing value filled in (a copy of what changes, never in place)."""
    owned: set[Path] = set()
    for fill in fills:
        if not is_missing(lookup(record, fill.keys)):
            continue
        if fill.kind == "value":
            value = fill.value
        elif fill.kind == "now_ms":
            value = int(time.time() * 1000)
        elif fill.kind == "now_s":
            value = int(time.time())
        else:
            parts = []
            for source, left_out in zip(fill.sources, fill.left_out, strict=True):
                part = lookup(record, source)
                for keys in left_out:
                    part = without(part, keys)
                parts.append(part)
            value = content_id(parts, fill.length)
        record = put_copy(record, fill.keys, value, owned)
    return record


@functools.lru_cache(maxsize=64)
def filled_check(paths: tuple[Path, ...]) -> Any:
    """A compiled check that every record of a list has a non-empty value at each path."""
    if not paths:
        return None
    schema: dict[str, Any] = {}
    for keys in paths:
        node = schema
        for key in keys:
            node.setdefault("type", "object")
            required = node.setdefault("required", [])
            if key not in required:
                required.append(key)
            node = node.setdefault("properties", {}).setdefault(key, {})
        node["not"] = {"enum": [None, ""]}
    return jsonschema_rs.Draft202012Validator({"type": "array", "items": schema})


def accepts(validator: Any, value: Any) -> bool:
    """Whether a compiled check accepts `value` (a value it cannot read: no)."""
    try:
        return bool(validator.is_valid(value))
    except (ValueError, TypeError, OverflowError):
        return False


def put_copy(record: Any, keys: Path, value: Any, owned: set[Path]) -> Any:
    """`record` with `value` at `keys`; containers on the way are copied once, never changed."""
    if () not in owned:
        record = dict(record)
        owned.add(())
    node = record
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if not isinstance(child, Mapping):
            return record  # nothing to fill into: the record's check says what is wrong
        prefix = keys[: depth + 1]
        if prefix not in owned:
            child = dict(child)
            owned.add(prefix)
        node[key] = child
        node = child
    node[keys[-1]] = value
    return record
