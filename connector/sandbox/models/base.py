"""The model layer's declarations: `Family`, its `Hooks`, the `Context` rules read, `ModelError`.

Models never build HTTP answers: a refusal is a `ModelError` that each API's responses module
turns into that API's error shape. `resources.py` stores every family generically.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Body = dict[str, Any]
ID_KINDS = ("int", "uuid", "given")
encode = json.JSONEncoder(separators=(",", ":")).encode


class ModelError(Exception):
    """A request the model refuses: the HTTP `status`, the message and the field it is about."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Context:
    """What rules read besides the body: the request's scope, the clock, the sandbox's identity."""

    scope: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time  # seconds since the epoch; tests pass their own
    project_id: str = ""
    organization_id: str = ""
    workspace_id: str = ""

    def now_ms(self) -> int:
        """The context's clock in milliseconds."""
        return int(self.clock() * 1000)


@dataclass(frozen=True)
class Hooks:
    """A family's special rules, all optional; each may raise `ModelError`.

    `on_create(body, ctx)` and `on_update(old, new, ctx)` return the body to store (`new` is the
    old body merged with the patch, or the replacement); `view(body, ctx)` returns what is
    answered, computed at read time (e.g. a job's status from the time elapsed).
    """

    on_create: Callable[[Body, Context], Body] | None = None
    on_update: Callable[[Body, Body, Context], Body] | None = None
    view: Callable[[Body, Context], Body] | None = None


@dataclass(frozen=True, eq=False)
class Family:
    """A kind of stored resource, as a declaration (see connector/sandbox/README.md)."""

    name: str  # the storage key, and the name in messages
    scope: tuple[str, ...] = ()  # the path parameters a resource belongs to (part of its key)
    id_field: str = "id"  # the body field holding the id
    id_kind: str = "int"  # "int" (a sequence per scope), "uuid", or "given" (the client names it)
    required: tuple[str, ...] = ()  # body fields a create needs (400 naming each missing one)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # filled on create when absent
    created_field: str | None = None  # stamped (ISO 8601, UTC) on create
    updated_field: str | None = None  # stamped on create and on every change
    readonly: frozenset[str] = frozenset()  # fields an update may not change (400 naming them)
    hooks: Hooks = Hooks()

    def __post_init__(self) -> None:
        if self.id_kind not in ID_KINDS:
            raise ValueError(
                f"{self.name}: id_kind must be one of {ID_KINDS}, not {self.id_kind!r}"
            )

    @property
    def fixed(self) -> frozenset[str]:
        """The fields no update may change: the declared read-only ones, the id and the stamps."""
        stamps = {f for f in (self.created_field, self.updated_field) if f}
        return self.readonly | {self.id_field} | stamps

    def key(self, rid: Any) -> str | None:
        """The stored key of an id as a client wrote it (None: it cannot be one of this family)."""
        if isinstance(rid, bool | dict | list) or rid is None:
            return None
        if self.id_kind == "int":
            try:
                return str(int(str(rid)))
            except ValueError:
                return None
        return str(rid) or None

    def scope_key(self, ctx: Context) -> str:
        """The scope values of `ctx`, in declaration order, as stored."""
        missing = [name for name in self.scope if name not in ctx.scope]
        if missing:
            raise ValueError(f"{self.name} is scoped by {self.scope}; the context lacks {missing}")
        return encode([str(ctx.scope[name]) for name in self.scope]) if self.scope else ""


def stamp(ms: int) -> str:
    """A creation or change time as the app API writes it: `2024-05-01T12:00:00Z`."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def require(family: Family, body: Body) -> None:
    """Refuse (400) a body that lacks a required field, naming each missing one."""
    needed = family.required + ((family.id_field,) if family.id_kind == "given" else ())
    missing = [name for name in needed if body.get(name) is None]
    if missing:
        fields = ", ".join(dict.fromkeys(missing))
        raise ModelError(400, f"{family.name}: missing required field(s) {fields}", missing[0])


def unchanged(family: Family, old: Body, patch: Mapping[str, Any]) -> None:
    """Refuse (400) a patch that changes a fixed field (read-only, id, stamps), naming each."""
    changed = [f for f in sorted(family.fixed) if f in patch and patch[f] != old.get(f)]
    if changed:
        names = ", ".join(changed)
        raise ModelError(400, f"{family.name}: {names} cannot be changed", changed[0])
