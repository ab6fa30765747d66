"""Membership changes since the last run: who joined a group and who left it (a polling trigger).

Each run reads the whole membership (every page) through the input the spec's `sync.members`
names, compares it with the one the state kept, and returns the ids added and removed; the
new membership is saved only after `deliver` accepted the changes, so a failed delivery is
offered again and a rerun finds nothing new. The first run reports every member as added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..catalog.spec import OperationSpec
from ..component import Component
from ..core.paths import dotted, lookup
from ..errors import InputError, InputProblem
from .plan import sync_identity, sync_of
from .runner import load_state, store_for
from .state import encode_state
from .stores import LOCK_WAIT_S, StateStore

__all__ = ["MembershipChanges", "sync_members"]


@dataclass
class MembershipChanges:
    """The ids that joined and left since the last run, and how many are members now."""

    sync: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    members: int = 0
    first_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As plain data (a task's result, the command's output)."""
        return asdict(self)


def sync_members(
    component: Component,
    action: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    state: str | Path | StateStore,
    deliver: Callable[[MembershipChanges], object] | None = None,
) -> MembershipChanges:
    """The members added and removed since the last run with this state.

    `inputs` must give the group (e.g. `filter_by_cohort`); `deliver` (if given) receives
    the changes before the state moves on.

    Raises:
        InputError: the action declares no membership sync, or the group is not given.
        StateError: the state cannot be trusted.
    """
    op = component.spec.actions.get(action) or component.spec.data_sources.get(action)
    members = sync_of(op).get("members") if op is not None else None
    if op is None or not members:
        problem = InputProblem("action", "Action", f"{action} declares no membership sync")
        raise InputError(action, [problem])
    group = members["input"]
    if not inputs.get(group):
        why = "a membership sync needs the group whose members it follows"
        raise InputError(op.key, [InputProblem(group, op.input(group).label, why)])
    identity = sync_identity(op, inputs, extra="members")
    store = store_for(state, members["name"], identity)
    with store.locked(LOCK_WAIT_S):
        return _compare(component, op, members, inputs, connection, store, identity, deliver)


def _compare(
    component: Component,
    op: OperationSpec,
    members: Mapping[str, Any],
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    store: StateStore,
    identity: str,
    deliver: Callable[[MembershipChanges], object] | None,
) -> MembershipChanges:
    """The comparison, the sync's lock held."""
    saved = load_state(store, identity, op.sync)
    values = dict(inputs)
    if op.paging.get("enabled"):
        values[op.paging["enabled"]] = True
    path = dotted(members["id"])
    now: set[str] = set()
    for record in component.iter(op.key, values, connection):
        found = lookup(record, path)
        if found is not None:
            now.add(str(found))
    before = set(saved.members) if saved.members is not None else set()
    changes = MembershipChanges(
        members["name"],
        added=sorted(now - before),
        removed=sorted(before - now),
        members=len(now),
        first_run=saved.members is None,
    )
    if deliver is not None and (changes.added or changes.removed):
        deliver(changes)
    saved.members = sorted(now)
    store.save(encode_state(saved))
    return changes
