"""The values a batch's records get where they lack them: constants, times, content ids."""

from __future__ import annotations

import functools
import hashlib
import operator
import time
from collections.abc import Callable, Mapping
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
    "fill_general",
    "fill_ids",
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

    @functools.cached_property
    def flat(self) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
        """(source key, keys left out of it) when every source and left-out path is one key."""
        if any(len(s) != 1 for s in self.sources) or any(
            len(k) != 1 for ks in self.left_out for k in ks
        ):
            return None
        return tuple(
            (s[0], tuple(k[0] for k in ks))
            for s, ks in zip(self.sources, self.left_out, strict=True)
        )

    @functools.cached_property
    def chunked(self) -> tuple[Callable[[Any], Any], frozenset[str]] | None:
        """For `fill_ids`: what reads a record's sources, and the keys its parent must lack.

        Only for a content id two keys deep, every source one key, nothing left out but
        from the id's parent (importEvents' and trackEvents' `$insert_id`).
        """
        flat = self.flat
        if self.kind != "content_id" or len(self.keys) != 2 or not flat:
            return None
        if any(dropped and key != self.keys[0] for key, dropped in flat):
            return None
        sources = tuple(key for key, _ in flat)
        pick = operator.itemgetter(*sources)
        read = pick if len(sources) > 1 else lambda record: (pick(record),)
        dropped = frozenset(k for key, ks in flat if key == self.keys[0] for k in ks)
        return read, dropped | {self.keys[1]}


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
    # Runs once per record lacking a value (e.g. every event without `$insert_id`): written for
    # speed (profiled: 6 us per event, 2 of them the digest), the rest in `fill_general`.
    if len(fills) == 1 and type(record) is dict:
        fill = fills[0]
        keys = fill.keys
        if len(keys) == 2 and fill.kind == "content_id":
            parent = record.get(keys[0])
            if type(parent) is dict:
                current = parent.get(keys[1])
                if current is not None and not (type(current) is str and current == ""):
                    return record
                value = content_id(_parts(record, fill), fill.length)
                return {**record, keys[0]: {**parent, keys[1]: value}}
    return fill_general(record, fills)


def fill_ids(
    records: list[Any],
    fill: Fill,
    other: Callable[[Any], Any],
    others: list[int] | None = None,
) -> list[Any]:
    """Each record filled by one `Fill.chunked` fill: `fill_record`'s ids for 2/3 of its CPU.

    The common record (a dict whose parent holds no id and no left-out key, with every source)
    is filled here: its canonical JSON, then the chunk's digests and their uuid shape at once,
    then a copy of the record and of the parent (`dict.copy`, a block copy). Any other record
    is `other`'s (`fill_record`, guarded), and its index goes to `others` when given.
    """
    chunked = fill.chunked
    assert chunked is not None
    read, lacked = chunked
    parent_key, id_key = fill.keys
    dumps, options, error = orjson.dumps, _ID_OPTIONS, orjson.JSONEncodeError
    filled: list[Any] = []
    keep = filled.append
    canonical: list[bytes] = []  # of the records at `where` in `filled`, their parents in `parents`
    where: list[int] = []
    parents: list[dict[str, Any]] = []
    for record in records:
        if (
            type(record) is dict
            and type(parent := record.get(parent_key)) is dict
            and lacked.isdisjoint(parent)  # else an id (kept or empty) or a key to leave out
        ):
            try:
                try:  # the same bytes as with _ID_OPTIONS while every key is a str, 20% sooner
                    canonical.append(dumps(read(record), option=orjson.OPT_SORT_KEYS))
                except error:  # a key of another type (or a value no option can encode)
                    canonical.append(dumps(read(record), option=options))
            except (KeyError, TypeError, error):  # no source, or unencodable
                pass
            else:
                where.append(len(filled))
                parents.append(parent)
                keep(record)
                continue
        if others is not None:
            others.append(len(filled))
        keep(other(record))
    for index, parent, value in zip(where, parents, _ids(canonical, fill.length), strict=True):
        own = parent.copy()
        own[id_key] = value
        record = filled[index].copy()
        record[parent_key] = own
        filled[index] = record
    return filled


_DIGEST = functools.partial(hashlib.blake2b, digest_size=16)
#: Where each of a digest's 32 hex digits goes in its 36-character uuid shape (8-4-4-4-12).
_UUID_AT = [i + (i >= 8) + (i >= 12) + (i >= 16) + (i >= 20) for i in range(32)]


def _ids(canonical: list[bytes], length: int) -> list[str]:
    """`content_id` of each canonical JSON: the digests hexed and dashed in one pass each."""
    hexed = b"".join(map(hashlib.blake2b.digest, map(_DIGEST, canonical))).hex()
    if length < 36:
        return [hexed[i : i + min(length, 32)] for i in range(0, len(hexed), 32)]
    shaped = bytearray(b"-" * (36 * len(canonical)))
    digits = hexed.encode()
    for digit, at in enumerate(_UUID_AT):  # each digit position of every id at once
        shaped[at::36] = digits[digit::32]
    text = shaped.decode()
    return [text[i : i + 36] for i in range(0, len(text), 36)]


def _parts(record: Any, fill: Fill) -> list[Any]:
    """The values a content id is made of: each source, its `ignore` paths left out."""
    flat = fill.flat
    if flat is not None and type(record) is dict:
        parts = []
        for key, dropped in flat:
            part = record.get(key)
            for one in dropped:
                if type(part) is dict:
                    if one in part:
                        part = {k: v for k, v in part.items() if k != one}
                else:
                    part = without(part, (one,))
            parts.append(part)
        return parts
    parts = []
    for source, left_out in zip(fill.sources, fill.left_out, strict=True):
        part = record.get(source[0]) if len(source) == 1 else lookup(record, source)
        for keys in left_out:
            part = without(part, keys)
        parts.append(part)
    return parts


def fill_general(record: Any, fills: list[Fill]) -> Any:
    """`fill_record` for any fills and any record (the fast path covers the common one)."""
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
            value = content_id(_parts(record, fill), fill.length)
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
