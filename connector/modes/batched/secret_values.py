"""The values of a batch's records at its spec's `secret_fields`, to be masked everywhere."""

from __future__ import annotations

from typing import Any

from ...catalog.spec import OperationSpec
from ...core.paths import Path, dotted, lookup

__all__ = ["secret_field_values", "strings_at"]


def strings_at(records: list[Any], *paths: Path) -> set[str]:
    """The non-empty strings at each of `paths` in `records` (one comprehension per path)."""
    found: set[str] = set()
    for keys in paths:
        if len(keys) == 1:
            (a,) = keys
            found.update(
                v for r in records if isinstance(r, dict) and type(v := r.get(a)) is str and v
            )
        elif len(keys) == 2:
            a, b = keys
            found.update(
                v
                for r in records
                if isinstance(r, dict)
                and isinstance(p := r.get(a), dict)
                and type(v := p.get(b)) is str
                and v
            )
        else:
            found.update(v for r in records if type(v := lookup(r, keys)) is str and v)
    return found


def secret_field_values(op: OperationSpec, records: Any) -> set[str]:
    """The values at `op`'s `batch.secret_fields` in `records` (a list given inline; else none).

    What an engine registers with its own masker before it shows a task's inputs.
    """
    paths = tuple(dotted(path) for path in op.batch.get("secret_fields") or ())
    if not paths or not isinstance(records, list):
        return set()
    return strings_at(records, *paths)
