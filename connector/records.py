"""Prepares each record of a batch as its spec declares: fill values, check it, encode it."""

from __future__ import annotations

import functools
import hashlib
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from .fastcheck import SchemaCheck
from .inputs import short_message
from .spec import OperationSpec
from .templates import Part, render_value
from .values import is_missing

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
_ID_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS

Path = tuple[str, ...]


def dotted(path: str) -> Path:
    """Split a dotted path (`properties.$insert_id`) into its keys."""
    return tuple(path.split("."))


def lookup(record: Any, keys: Path) -> Any:
    """The value at `keys` in nested mappings, or None."""
    node = record
    for key in keys:
        if type(node) is not dict and not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def content_id(values: list[Any], length: int = 36) -> str:
    """A deterministic id of `values`: blake2b of their canonical JSON, hex (uuid-shaped at 36)."""
    digest = hashlib.blake2b(orjson.dumps(values, option=_ID_OPTIONS), digest_size=16).hexdigest()
    if length >= 36:
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
    return digest[:length]


def encode(value: Any) -> bytes:
    """Compact JSON bytes, as requests carry them (orjson; keys that are not text become text)."""
    return orjson.dumps(value, option=_JSON_OPTIONS)


@dataclass(frozen=True)
class Refusal:
    """A record that was not sent: its index in the caller's input, its id, field and reason."""

    index: int
    record_id: Any
    field: str
    message: str

    def to_dict(self, id_key: str) -> dict[str, Any]:
        """The failed-record entry of a batch result."""
        entry: dict[str, Any] = {"index": self.index}
        if id_key and not is_missing(self.record_id):
            entry[id_key] = self.record_id
        entry.update(field=self.field, message=self.message)
        return entry


@dataclass(frozen=True)
class _Fill:
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


def _without(value: Any, keys: Path) -> Any:
    """`value` with the entry at `keys` left out (a copy only when it is there)."""
    if (type(value) is not dict and not isinstance(value, Mapping)) or keys[0] not in value:
        return value
    if len(keys) == 1:
        return {k: v for k, v in value.items() if k != keys[0]}
    return {**value, keys[0]: _without(value[keys[0]], keys[1:])}


def _too_deep(value: Any, allowed: int) -> bool:
    """True when objects or arrays nest more than `allowed` levels inside `value`'s values."""
    children = value.values() if isinstance(value, dict) else value
    for child in children:
        if type(child) is dict or type(child) is list:
            if allowed == 0 or _too_deep(child, allowed - 1):
                return True
    return False


class RecordPlan:
    """What the spec's `batch:` says to do with each record, resolved for one call."""

    def __init__(
        self, op: OperationSpec, values: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> None:
        batch = op.batch
        spec = op.input(batch["input"])
        self.action = op.key
        self.key = spec.key
        self.label = spec.label
        self.item = str(batch["item"])
        self.check = _checks(op, spec.key)
        self.max_item_bytes: int = batch.get("max_item_bytes") or sys.maxsize
        depth = batch.get("max_depth")
        self.depth: tuple[Path, int] | None = (
            (dotted(depth["path"]), int(depth["depth"])) if depth else None
        )
        # Brackets a record may hold without any nesting below depth.path: one per level on the way
        self.brackets = len(self.depth[0]) + 1 if self.depth else 0
        self.fast = self.check.fast
        context = {**values, "connection": dict(connection)}
        self.fills: list[_Fill] = []
        self.id_keys: Path = ()
        for n, fill in enumerate(batch.get("fill") or ()):
            keys = dotted(fill["path"])
            kind = fill.get("generate", "value")
            if kind == "value":
                where = f"batch.fill[{n}]"
                value = render_value(fill["value"], context, action=op.key, field=where)
                if is_missing(value):
                    continue
                self.fills.append(_Fill(keys, kind, value))
            elif kind == "content_id":
                self.id_keys = keys
                ignore = tuple(dotted(p) for p in fill.get("ignore") or ()) + (keys,)
                sources = tuple(dotted(p) for p in fill["from"])
                self.fills.append(_Fill(keys, kind, None, sources, ignore, fill.get("length", 36)))
            else:
                self.fills.append(_Fill(keys, kind))
        self.id_key = self.id_keys[-1] if self.id_keys else ""
        self.filled = _filled_check(tuple(fill.keys for fill in self.fills))

    def record_id(self, record: Any) -> Any:
        """The record's id (such as `$insert_id`), when the plan fills one."""
        return lookup(record, self.id_keys) if self.id_keys else None

    def _fill(self, record: Any) -> Any:
        owned: set[Path] = set()
        for fill in self.fills:
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
                        part = _without(part, keys)
                    parts.append(part)
                value = content_id(parts, fill.length)
            record = _put(record, fill.keys, value, owned)
        return record

    def fill_all(self, records: list[Any]) -> list[Any]:
        """`fill` for each record; one compiled check first, as usually nothing is missing."""
        if not self.fills or (self.filled is not None and _accepts(self.filled, records)):
            return records
        return [self.fill(record) for record in records]

    def fill(self, record: Any) -> Any:
        """The record with the declared values filled in (a copy when anything was filled)."""
        if self.fills and (type(record) is dict or isinstance(record, Mapping)):
            try:
                return self._fill(record)
            except (TypeError, orjson.JSONEncodeError):
                return record  # prepare() refuses it, saying why
        return record

    def encode_all(self, records: list[Any]) -> list[Part] | None:
        """The JSON of filled `records` when all of them pass at once, else None.

        Returned as parts to join with commas, each within the per-record byte limit (so no
        record can exceed it); None means "check and encode them one by one".
        """
        if not self.check.all_valid(records):
            return None
        try:
            parts = self._parts(records)
        except (TypeError, orjson.JSONEncodeError):
            return None
        if parts is None:
            return None
        if self.depth is not None:
            if sum(_part_brackets(p) for p in parts) > len(records) * self.brackets:
                return None  # some record may nest too deeply: check each one
        return parts

    def _parts(self, records: list[Any]) -> list[Part] | None:
        whole = orjson.dumps(records, option=_JSON_OPTIONS)
        if len(whole) - 2 <= self.max_item_bytes:
            return [memoryview(whole)[1:-1]]  # the array's inside, not a copy of it
        if len(records) == 1:
            return None  # this one is too big: prepare() says so
        half = len(records) // 2
        left, right = self._parts(records[:half]), self._parts(records[half:])
        return None if left is None or right is None else left + right

    def prepare(self, record: Any, index: int) -> tuple[Any, bytes] | Refusal:
        """The record as it will be sent and its JSON, or why it is refused."""
        # The happy path is written for speed: it runs once per record of every batch.
        if self.fills and (type(record) is dict or isinstance(record, Mapping)):
            try:
                record = self._fill(record)
            except (TypeError, orjson.JSONEncodeError) as exc:
                return Refusal(index, None, "", f"cannot be written as JSON: {exc}")
        try:
            valid = self.fast is not None and self.fast.is_valid(record)
        except (ValueError, TypeError, OverflowError):
            valid = False  # a value the compiled check cannot read: jsonschema decides
        if not valid and not self.check.is_valid(record):
            error = next(iter(self.check.errors(record)))
            field = ".".join(str(p) for p in error.absolute_path)
            described = None
            if error.validator in ("not", "pattern", "minimum") and isinstance(error.schema, dict):
                described = error.schema.get("description")  # the spec's words for the rule
            message = f"{_show(error.instance)} {described}" if described else short_message(error)
            return Refusal(index, self.record_id(record), field, message)
        try:
            data = orjson.dumps(record, option=_JSON_OPTIONS)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return Refusal(index, self.record_id(record), "", f"cannot be written as JSON: {exc}")
        # Too deep needs more brackets than the record's own levels allow: count them in C first.
        if self.depth is not None and _brackets(data) > self.brackets:
            keys, allowed = self.depth
            container = lookup(record, keys)
            if type(container) in (dict, list) and _too_deep(container, allowed):
                where = ".".join(keys)
                message = f"nests objects or arrays more than {allowed} levels deep below {where}"
                return Refusal(index, self.record_id(record), where, message)
        if len(data) > self.max_item_bytes:
            message = (
                f"is {len(data):,} bytes of JSON; at most {self.max_item_bytes:,} bytes are "
                f"allowed per {self.item}"
            )
            return Refusal(index, self.record_id(record), "", message)
        return record, data

    def where(self, index: int, field: str) -> str:
        """Point into the input by path, as messages do: `Events[12047].properties.time`."""
        return f"{self.label}[{index}]" + (f".{field}" if field else "")


@functools.lru_cache(maxsize=64)
def _filled_check(paths: tuple[Path, ...]) -> Any:
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


def _accepts(validator: Any, value: Any) -> bool:
    try:
        return bool(validator.is_valid(value))
    except (ValueError, TypeError, OverflowError):
        return False


_CHECKS: dict[tuple[int, str], tuple[OperationSpec, SchemaCheck]] = {}


def _checks(op: OperationSpec, key: str) -> SchemaCheck:
    """The compiled check of one batch input's records, built once per loaded spec."""
    cached = _CHECKS.get((id(op), key))
    if cached is None or cached[0] is not op:
        cached = (op, SchemaCheck(op.input(key).schema.get("items") or {}))
        _CHECKS[(id(op), key)] = cached
    return cached[1]


def _brackets(data: bytes) -> int:
    """How many objects and arrays open in `data` (JSON text).

    `in` finds a byte with memchr, far faster than count's byte-by-byte loop, and most records
    hold no array at all: then only the braces need counting.
    """
    return data.count(b"{") + (data.count(b"[") if b"[" in data else 0)


def _part_brackets(part: Part) -> int:
    """`_brackets` of a part; a view of an array's inside counts its array less the `[`."""
    if type(part) is memoryview and type(part.obj) is bytes:
        whole = part.obj
        arrays = whole.count(b"[") - 1 if whole.find(b"[", 1) != -1 else 0
        return whole.count(b"{") + arrays
    return _brackets(bytes(part))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _put(record: Any, keys: Path, value: Any, owned: set[Path]) -> Any:
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
