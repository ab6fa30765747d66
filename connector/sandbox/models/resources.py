"""`Resources`: create, read, update and delete any `Family` in the one `resources` table.

The table is keyed by (family, scope, id); int ids come from `sequences`, one counter per family
and scope. Bodies are stored as compact JSON, with the creation and last-change times beside.
"""

from __future__ import annotations

import builtins
import copy
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .base import Body, Context, Family, ModelError, encode, require, stamp, unchanged
from .database import Database

ORDERS = ("created", "id")
SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (family TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL,
    body TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
    PRIMARY KEY (family, scope, id));
CREATE TABLE IF NOT EXISTS sequences (family TEXT NOT NULL, scope TEXT NOT NULL,
    next INTEGER NOT NULL, PRIMARY KEY (family, scope));
"""
_CHUNK = 500  # ids per `IN (...)` query


class Resources:
    """Create, read, update and delete resources of any `Family` in the one `resources` table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    # --- reads -----------------------------------------------------------------------------

    def get(self, family: Family, ctx: Context, rid: Any) -> Body | None:
        """One resource as answered (its view applied), or None."""
        key = family.key(rid)
        found = None if key is None else self._read(family, ctx, [key]).get(key)
        return None if found is None else self._view(family, ctx, found[0])

    def list(
        self,
        family: Family,
        ctx: Context,
        where: Callable[[Body], bool] | None = None,
        *,
        order: str = "created",
    ) -> builtins.list[Body]:
        """Every resource of the scope, viewed, kept when `where` says so; by creation or id."""
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
        by_id = "CAST(id AS INTEGER)" if family.id_kind == "int" else "id"
        sql = "SELECT body FROM resources WHERE family = ? AND scope = ? ORDER BY " + (
            by_id if order == "id" else f"created_ms, {by_id}"
        )
        viewed = (
            self._view(family, ctx, json.loads(body))
            for (body,) in self.db.rows(sql, (family.name, family.scope_key(ctx)))
        )
        return [body for body in viewed if where is None or where(body)]

    def ids(self, family: Family, ctx: Context) -> builtins.list[str]:
        """Every id the scope holds, in no particular order (to page through large families)."""
        sql = "SELECT id FROM resources WHERE family = ? AND scope = ?"
        return [str(rid) for (rid,) in self.db.rows(sql, (family.name, family.scope_key(ctx)))]

    def many(self, family: Family, ctx: Context, ids: Iterable[str]) -> builtins.list[Body]:
        """The resources with these ids that exist, viewed, in the order of `ids`."""
        keys = [str(rid) for rid in ids]
        found = self._read(family, ctx, keys)
        return [self._view(family, ctx, found[key][0]) for key in keys if key in found]

    def count(self, family: Family, ctx: Context) -> int:
        """How many resources the scope holds."""
        sql = "SELECT COUNT(*) FROM resources WHERE family = ? AND scope = ?"
        return int(self.db.scalar(sql, (family.name, family.scope_key(ctx))))

    # --- writes ----------------------------------------------------------------------------

    def create(self, family: Family, ctx: Context, body: Mapping[str, Any]) -> Body:
        """Store a new resource (defaults filled, id assigned, stamps set); 400/409 refusals."""
        new = self._filled(family, body)
        if family.id_kind != "given":
            new.pop(family.id_field, None)
        require(family, new)
        now, scope = ctx.now_ms(), family.scope_key(ctx)
        with self.db.transaction() as db:
            if family.id_kind == "int":
                new[family.id_field] = self._next_id(db, family, scope)
            elif family.id_kind == "uuid":
                new[family.id_field] = str(uuid.uuid4())
            key = family.key(new[family.id_field])
            if key is None:
                raise ModelError(400, f"{family.name}: {family.id_field} is not a valid id")
            if self._read(family, ctx, [key], db):
                raise ModelError(409, f"{family.name} {key} already exists", family.id_field)
            new = self._created(family, ctx, new, now)
            self._write(db, family, scope, key, new, now, now)
        return self._view(family, ctx, new)

    def update(
        self,
        family: Family,
        ctx: Context,
        rid: Any,
        patch: Mapping[str, Any],
        *,
        replace: bool = False,
    ) -> Body:
        """Merge `patch` into a resource (or replace its body); 404 if absent, 400 on fixed ones."""
        key, now, scope = family.key(rid), ctx.now_ms(), family.scope_key(ctx)
        with self.db.transaction() as db:
            found = None if key is None else self._read(family, ctx, [key], db).get(key)
            if key is None or found is None:
                raise ModelError(404, f"{family.name} {rid} not found", family.id_field)
            old, created = found
            new = self._changed(family, ctx, old, patch, replace, now)
            self._write(db, family, scope, key, new, created, now)
        return self._view(family, ctx, new)

    def put(self, family: Family, ctx: Context, rid: Any, body: Mapping[str, Any]) -> Body:
        """Create the resource with this id, or replace the one that has it."""
        key, now, scope = family.key(rid), ctx.now_ms(), family.scope_key(ctx)
        if key is None:
            raise ModelError(400, f"{family.name}: {rid!r} is not a valid id", family.id_field)
        with self.db.transaction() as db:
            found = self._read(family, ctx, [key], db).get(key)
            if found is None:
                new = self._filled(family, body)
                new[family.id_field] = int(key) if family.id_kind == "int" else rid
                require(family, new)
                new, created = self._created(family, ctx, new, now), now
                if family.id_kind == "int":
                    self._skip_past(db, family, scope, int(key))
            else:
                new, created = self._changed(family, ctx, found[0], body, True, now), found[1]
            self._write(db, family, scope, key, new, created, now)
        return self._view(family, ctx, new)

    def delete(self, family: Family, ctx: Context, rid: Any) -> bool:
        """Delete one resource; False when there was none."""
        key = family.key(rid)
        if key is None:
            return False
        with self.db.transaction() as db:
            sql = "DELETE FROM resources WHERE family = ? AND scope = ? AND id = ?"
            return db.execute(sql, (family.name, family.scope_key(ctx), key)).rowcount > 0

    def delete_all(self, family: Family, ctx: Context) -> int:
        """Delete every resource of the scope; return how many there were."""
        with self.db.transaction() as db:
            sql = "DELETE FROM resources WHERE family = ? AND scope = ?"
            return int(db.execute(sql, (family.name, family.scope_key(ctx))).rowcount)

    def modify(
        self,
        family: Family,
        ctx: Context,
        ids: Iterable[str],
        change: Callable[[dict[str, Body | None]], Mapping[str, Body | None]],
    ) -> None:
        """Read several resources, let `change` decide each one's new body (None deletes), write.

        One transaction, for rule modules that own their family's updates (profiles): hooks are
        not run, ids are stored as given, stamps are set.
        """
        now, scope, keys = ctx.now_ms(), family.scope_key(ctx), list(dict.fromkeys(ids))
        with self.db.transaction() as db:
            found = self._read(family, ctx, keys, db)
            current: dict[str, Body | None] = {key: None for key in keys}
            current.update({key: body for key, (body, _) in found.items()})
            for key, body in change(current).items():
                if body is None:
                    sql = "DELETE FROM resources WHERE family = ? AND scope = ? AND id = ?"
                    db.execute(sql, (family.name, scope, key))
                    continue
                created = found[key][1] if key in found else now
                if family.created_field and key not in found:
                    body[family.created_field] = stamp(now)
                if family.updated_field:
                    body[family.updated_field] = stamp(now)
                self._write(db, family, scope, key, body, created, now)

    # --- plumbing --------------------------------------------------------------------------

    def _read(
        self,
        family: Family,
        ctx: Context,
        keys: builtins.list[str],
        db: sqlite3.Connection | None = None,
    ) -> dict[str, tuple[Body, int]]:
        """Stored (body, created_ms) by key, for the keys that exist."""
        found: dict[str, tuple[Body, int]] = {}
        scope = family.scope_key(ctx)
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            sql = (
                "SELECT id, body, created_ms FROM resources WHERE family = ? AND scope = ?"
                f" AND id IN ({','.join('?' * len(part))})"
            )
            args = (family.name, scope, *part)
            rows = db.execute(sql, args).fetchall() if db else self.db.rows(sql, args)
            found.update({str(k): (json.loads(b), int(c)) for k, b, c in rows})
        return found

    def _filled(self, family: Family, body: Mapping[str, Any]) -> Body:
        new = dict(body)
        for name, value in family.defaults.items():
            if name not in new:
                new[name] = copy.deepcopy(value)
        return new

    def _created(self, family: Family, ctx: Context, new: Body, now: int) -> Body:
        rid = new[family.id_field]
        for name in (family.created_field, family.updated_field):
            if name:
                new[name] = stamp(now)
        if family.hooks.on_create:
            new = family.hooks.on_create(new, ctx)
            new[family.id_field] = rid
        return new

    def _changed(
        self,
        family: Family,
        ctx: Context,
        old: Body,
        patch: Mapping[str, Any],
        replace: bool,
        now: int,
    ) -> Body:
        unchanged(family, old, patch)
        kept = {name: old[name] for name in family.fixed if name in old}
        new = {**patch, **kept} if replace else {**old, **patch}
        if replace:
            require(family, new)
        if family.updated_field:
            new[family.updated_field] = stamp(now)
        if family.hooks.on_update:
            new = family.hooks.on_update(old, new, ctx)
            new[family.id_field] = old[family.id_field]
        return new

    def _view(self, family: Family, ctx: Context, body: Body) -> Body:
        return family.hooks.view(body, ctx) if family.hooks.view else body

    def _next_id(self, db: sqlite3.Connection, family: Family, scope: str) -> int:
        """Take the next int id of the family in the scope."""
        value = self._sequence(db, family, scope)
        self._skip_past(db, family, scope, value)
        return value

    def _sequence(self, db: sqlite3.Connection, family: Family, scope: str) -> int:
        sql = "SELECT next FROM sequences WHERE family = ? AND scope = ?"
        row = db.execute(sql, (family.name, scope)).fetchone()
        return int(row[0]) if row else 1

    def _skip_past(self, db: sqlite3.Connection, family: Family, scope: str, used: int) -> None:
        """Make sure later int ids of the scope come after `used`."""
        following = max(self._sequence(db, family, scope), used + 1)
        db.execute(
            "INSERT OR REPLACE INTO sequences VALUES (?, ?, ?)", (family.name, scope, following)
        )

    def _write(
        self,
        db: sqlite3.Connection,
        family: Family,
        scope: str,
        key: str,
        body: Body,
        created: int,
        updated: int,
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?, ?, ?)",
            (family.name, scope, key, encode(body), created, updated),
        )
