"""Changes made to each event on its way: filters, a time offset, renames, drops, flattening, tags.

What they change is declared (transforms.schema.yaml); where an event's name, time and
properties are comes from the layout (specs/migrate.yaml), never from this code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..core.paths import dotted, lookup, put, with_path
from ..errors import InputError, InputProblem
from .specs import transforms_schema

__all__ = ["Transforms"]

_DAY_MS = 86_400_000


def _day_start_ms(day: str) -> int:
    moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=dt.UTC)
    return int(moment.timestamp()) * 1000


def _flat(prefix: str, value: Any, out: dict[str, Any], depth: int = 0) -> None:
    if isinstance(value, dict) and value and depth < 32:
        for name, inner in value.items():
            _flat(f"{prefix}.{name}", inner, out, depth + 1)
    else:
        out[prefix] = value


@dataclass
class Transforms:
    """Checked transforms (see transforms.schema.yaml) and the layout they apply through.

    `apply` gives the changed event or None when a filter leaves it out; `counts` tells how
    many were kept and left out. An event is copied before it is changed, unless the caller
    says it owns the events (`owned`: freshly parsed ones nobody else holds), which are then
    changed in place: a copy costs as much as the rest of the changes.
    """

    spec: Mapping[str, Any]
    events: Mapping[str, Any]
    counts: dict[str, int] = field(default_factory=lambda: {"kept": 0, "filtered": 0})

    @classmethod
    def checked(cls, spec: Mapping[str, Any] | None, events: Mapping[str, Any]) -> Transforms:
        """Transforms from a caller's mapping, checked; InputError names each bad entry."""
        spec = dict(spec or {})
        validator = jsonschema.Draft202012Validator(
            transforms_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        problems = [
            InputProblem(
                "/".join(str(p) for p in e.absolute_path) or "transforms", "transforms", e.message
            )
            for e in validator.iter_errors(spec)
        ]
        if problems:
            raise InputError("transforms", problems)
        return cls(spec, events)

    def __post_init__(self) -> None:
        spec, events = self.spec, self.events
        self._name = dotted(events["name"])
        self._props = dotted(events["properties"])
        self._time = dotted(events["time"])
        self._millis_above = int(events["millis_above"])
        self._keep = frozenset(spec["keep_events"]) if "keep_events" in spec else None
        self._block = frozenset(spec.get("block_events") or ())
        self._from = _day_start_ms(spec["from_date"]) if spec.get("from_date") else None
        self._to = _day_start_ms(spec["to_date"]) + _DAY_MS if spec.get("to_date") else None
        self._offset_s = float(spec.get("time_offset_hours") or 0) * 3600
        self._rename = tuple((spec.get("rename") or {}).items())
        self._drop = tuple(spec.get("drop") or ())
        self._flatten = bool(spec.get("flatten"))
        self._drop_nulls = bool(spec.get("drop_nulls"))
        self._tags = dict(spec.get("tags") or {})
        self._changes = any(
            spec.get(k) for k in ("rename", "drop", "flatten", "drop_nulls", "tags")
        ) or bool(self._offset_s)

    @property
    def active(self) -> bool:
        """Whether any transform is declared (else events pass unchanged)."""
        return bool(self.spec)

    def _millis(self, time: Any) -> int | None:
        if isinstance(time, bool) or not isinstance(time, int | float):
            return None
        return int(time if time > self._millis_above else time * 1000)

    def apply(self, event: Any, *, owned: bool = False) -> Any | None:
        """The changed event (a copy unless `owned`), or None when a filter leaves it out."""
        name = lookup(event, self._name)
        if (self._keep is not None and name not in self._keep) or name in self._block:
            return None
        time = lookup(event, self._time)
        if self._from is not None or self._to is not None:
            millis = self._millis(time)
            if millis is None or (self._from is not None and millis < self._from):
                return None
            if self._to is not None and millis >= self._to:
                return None
        if not self._changes or not isinstance(event, dict):
            return event
        if self._offset_s and isinstance(time, int | float) and not isinstance(time, bool):
            shifted = time + self._offset_s * (1000 if time > self._millis_above else 1)
            shifted = int(shifted) if float(shifted).is_integer() else shifted
            if owned:
                put(event, self._time, shifted)
            else:
                event = with_path(event, self.events["time"], shifted)  # copies on the way
        found = lookup(event, self._props)
        props = found if owned and type(found) is dict else dict(found or {})
        for old, new in self._rename:
            if old in props:
                props[new] = props.pop(old)
        for gone in self._drop:
            props.pop(gone, None)
        if self._flatten:
            flat: dict[str, Any] = {}
            for key, value in props.items():
                _flat(key, value, flat)
            props = flat
        if self._drop_nulls:
            props = {k: v for k, v in props.items() if v is not None}
        if self._tags:
            props.update(self._tags)
        if owned and props is found:
            return event
        if owned:
            put(event, self._props, props)
            return event
        return with_path(event, self.events["properties"], props)

    def apply_all(self, events: Iterable[Any], *, owned: bool = False) -> Iterator[Any]:
        """Each event changed (in place when `owned`), those a filter leaves out skipped."""
        counts = self.counts
        for event in events:
            changed = self.apply(event, owned=owned)
            if changed is None:
                counts["filtered"] += 1
                continue
            counts["kept"] += 1
            yield changed
