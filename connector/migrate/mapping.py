"""A record mapping declared in YAML, applied: another tool's export record in, ours out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..core.paths import dotted, lookup, put
from ..core.values import is_missing, show
from ..errors import MappingError
from .timefmt import to_millis

__all__ = ["MappingError", "RecordMapping", "digest_id", "put"]


def digest_id(values: Iterable[Any]) -> str:
    """A 32-character hexadecimal digest of `values` (the same values, the same digest)."""
    data = orjson.dumps(list(values), option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(data).hexdigest()[:32]


def _first(record: Any, paths: list[tuple[str, ...]]) -> tuple[Any, str]:
    for keys in paths:
        value = record if keys == (".",) else lookup(record, keys)
        if not is_missing(value) and value != "":
            return value, ".".join(keys)
    return None, ".".join(paths[0]) if paths else ""


def _paths(given: Any) -> list[tuple[str, ...]]:
    return [dotted(p) for p in ([given] if isinstance(given, str) else list(given or []))]


@dataclass(frozen=True)
class _Field:
    target: tuple[str, ...]
    sources: list[tuple[str, ...]]
    spec: Mapping[str, Any]
    fit: re.Pattern[str] | None

    def value(self, record: Any) -> Any:
        value, where = _first(record, self.sources)
        spec = self.spec
        if value is None:
            if "digest" in spec:
                return digest_id(lookup(record, dotted(p)) for p in spec["digest"])
            return spec.get("value")
        try:
            if spec.get("json") and isinstance(value, str | bytes):
                value = orjson.loads(value)
            if "time" in spec:
                value = to_millis(value, spec["time"])
            if spec.get("text") and not isinstance(value, str):
                value = (
                    orjson.dumps(value).decode()
                    if isinstance(value, dict | list)
                    else str(
                        value
                        if not isinstance(value, float) or not value.is_integer()
                        else int(value)
                    )
                )
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise MappingError(where, str(exc)) from None
        if self.fit is not None and not (isinstance(value, str) and self.fit.fullmatch(value)):
            value = digest_id([value])
        return value


@dataclass(frozen=True)
class RecordMapping:
    """One mapping spec (specs/mappings/KEY.yaml), checked, ready to apply to records."""

    key: str
    label: str
    makes: str
    source: str = ""
    format: str = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    _fields: tuple[_Field, ...] = ()
    _keep: tuple[tuple[tuple[str, ...], tuple[Any, ...]], ...] = ()
    _spread: tuple[Mapping[str, Any], ...] = ()
    _pairs: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], source: str = "") -> RecordMapping:
        """The mapping of checked spec data (see mapping.schema.yaml)."""
        fields = tuple(
            _Field(
                dotted(target),
                _paths(spec.get("from")),
                spec,
                re.compile(spec["fit"]) if spec.get("fit") else None,
            )
            for target, spec in data["fields"].items()
        )
        keep = tuple((dotted(k["path"]), tuple(k["values"])) for k in data.get("keep") or [])
        return cls(
            key=data["key"],
            label=data["label"],
            makes=data["makes"],
            source=source,
            format=data.get("format", "auto"),
            columns=dict(data.get("columns") or {}),
            notes=data.get("notes", ""),
            _fields=fields,
            _keep=keep,
            _spread=tuple(data.get("spread") or []),
            _pairs=tuple(data.get("pairs") or []),
        )

    def apply(self, record: Any) -> dict[str, Any] | None:
        """The mapped record, or None when a `keep` rule leaves it out.

        Raises:
            MappingError: a field's value is not what the mapping expects (names the field).
        """
        if not isinstance(record, Mapping):
            raise MappingError(".", f"expected an object, got {show(record)}")
        for keys, values in self._keep:
            if lookup(record, keys) not in values:
                return None
        out: dict[str, Any] = {}
        for spread in self._spread:
            self._spread_one(record, spread, out)
        for pairs in self._pairs:
            self._pairs_one(record, pairs, out)
        for item in self._fields:
            value = item.value(record)
            if value is not None:
                put(out, item.target, value)
        return out

    def _spread_one(
        self, record: Mapping[str, Any], spec: Mapping[str, Any], out: dict[str, Any]
    ) -> None:
        source = record if spec["from"] == "." else lookup(record, dotted(spec["from"]))
        if spec.get("json") and isinstance(source, str):
            try:
                source = orjson.loads(source)
            except orjson.JSONDecodeError as exc:
                raise MappingError(spec["from"], f"not valid JSON: {exc.msg}") from None
        if not isinstance(source, Mapping):
            return
        skip, prefix, into = (
            set(spec.get("except") or ()),
            spec.get("prefix", ""),
            dotted(spec["into"]),
        )
        for name, value in source.items():
            if name not in skip and value is not None:
                put(out, (*into, prefix + name), value)

    def _pairs_one(
        self, record: Mapping[str, Any], spec: Mapping[str, Any], out: dict[str, Any]
    ) -> None:
        items = lookup(record, dotted(spec["from"]))
        if not isinstance(items, list):
            return
        key, values, into = dotted(spec["key"]), _paths(spec["value"]), dotted(spec["into"])
        for item in items:
            name = lookup(item, key)
            value, _ = _first(item, values)
            if isinstance(name, str) and value is not None:
                put(out, (*into, name), value)

    def map_all(self, records: Iterable[Any], stats: dict[str, int] | None = None) -> Iterator[Any]:
        """Each record mapped, those left out by `keep` skipped (counted in `stats["skipped"]`).

        Raises:
            MappingError: naming the record's index and field: `[12].event_time`.
        """
        stats = stats if stats is not None else {}
        stats.setdefault("mapped", 0)
        stats.setdefault("skipped", 0)
        for index, record in enumerate(records):
            try:
                mapped = self.apply(record)
            except MappingError as exc:
                raise MappingError(f"[{index}].{exc.path}", str(exc).split(": ", 1)[1]) from None
            if mapped is None:
                stats["skipped"] += 1
                continue
            stats["mapped"] += 1
            yield mapped
