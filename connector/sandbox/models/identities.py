"""Merged identities: every alias or anonymous id and the canonical distinct id it belongs to."""

from __future__ import annotations

from collections.abc import Mapping

from .database import Database

SCHEMA = "CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, distinct_id TEXT NOT NULL);"


def canonical(aliases: Mapping[str, str], distinct_id: str) -> str:
    """Follow merged ids to the identity's canonical distinct id."""
    seen = set()
    while distinct_id in aliases and distinct_id not in seen:
        seen.add(distinct_id)
        distinct_id = aliases[distinct_id]
    return distinct_id


class Identities:
    """The `aliases` table: ids merged by `$create_alias` and `$identify`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def alias_map(self) -> dict[str, str]:
        """Every alias or anonymous id and the id it was merged into."""
        return {str(a): str(d) for a, d in self.db.rows("SELECT alias, distinct_id FROM aliases")}

    def add_alias(self, alias: str, distinct_id: str) -> None:
        """Merge `alias` into `distinct_id`'s identity (ignored if it would loop)."""
        aliases = self.alias_map()
        target = canonical(aliases, distinct_id)
        if alias == target or canonical(aliases, alias) == target:
            return
        with self.db.transaction() as db:
            db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (alias, target))

    def clear(self) -> None:
        """Forget every merge."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM aliases")
