"""Find a component's action or data source by key; an unknown key names the closest ones."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import cast

from ..core.values import closest
from ..errors import InputError, InputProblem
from .spec import ComponentSpec, OperationSpec

__all__ = ["every_operation", "find_operation"]


def every_operation(spec: ComponentSpec) -> Mapping[str, OperationSpec]:
    """Actions then data sources (a data source wins a shared key), none built until used."""
    tables = (spec.data_sources, spec.actions)
    return ChainMap(*cast("tuple[dict[str, OperationSpec], ...]", tables))


def find_operation(
    spec: ComponentSpec, key: str, table: Mapping[str, OperationSpec], kind: str
) -> OperationSpec:
    """The operation `key` of `table` (its `kind`: "action" or "data source").

    Raises:
        InputError: no such key; the message names the closest keys, and says so when the
            key is one of the other kind (a data source given to `run`, say).
    """
    if key in table:
        return table[key]
    near = closest(key, table, n=3)
    hint = f" Did you mean {', '.join(near)}?" if near else f" Known: {', '.join(table)}."
    other, verb = (spec.data_sources, "fetch") if kind == "action" else (spec.actions, "run")
    there = [k for k in closest(key, other, n=1) if k not in table]
    if there:
        what = "a data source" if verb == "fetch" else "an action"
        hint = f" {there[0]} is {what}: {verb}({there[0]!r}, ...).{hint if near else ''}"
    raise InputError(key, [InputProblem("key", kind.capitalize(), f"no {kind} {key!r}.{hint}")])
