"""One sync run: read the planned days, deliver the records not delivered before, remember them.

Records go to `deliver` a batch at a time (an export's window, or up to BATCH records); the
state is saved after each batch is delivered: only the keys `deliver` accepted are remembered.
A run stopped after `deliver` returned but before the state was saved offers that batch again;
a `deliver` that is also Checkpointed (the command line's file) records its position in the
same save and, on the next run, rewinds to it first, so the batch is delivered once. The cursor
moves once the whole run is read; keys older than the horizon are then dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..catalog.spec import OperationSpec
from ..component import Component
from ..core.templates import render_value
from ..core.values import is_empty
from ..errors import InputError, InputProblem
from .plan import ZONE_MARGIN, Plan, check_no_cap, plan_run, sync_identity, sync_of
from .state import SyncState, decode_state, encode_state, new_state
from .stores import LOCK_WAIT_S, StateStore, open_state

__all__ = ["BATCH", "Checkpointed", "Deliver", "SyncResult", "load_state", "run_sync", "store_for"]

log = logging.getLogger("connector.sync")

#: Records per delivery when the action is not read in windows of days.
BATCH = 5000
Deliver = Callable[[list[Any]], object]


@runtime_checkable
class Checkpointed(Protocol):
    """A `deliver` whose destination can be put back to where a saved state left it."""

    def __call__(self, records: list[Any]) -> object:
        """Deliver one batch, durably."""

    def position(self) -> dict[str, Any]:
        """Where the destination stands now: saved with the keys delivered so far."""

    def rewind(self, position: Mapping[str, Any] | None) -> str | None:
        """Undo what was delivered after `position` (None: nothing recorded); a note, if any."""


@dataclass
class SyncResult:
    """What a run did: the days read, the records read and delivered, the state's size.

    `late` counts the delivered records of each day before `until`, by day: those an earlier
    run could not deliver because they had not arrived yet (or, on a first run, the past).
    """

    sync: str
    first: str
    until: str
    read: int = 0
    delivered: int = 0
    repeated: int = 0
    late: dict[str, int] = field(default_factory=dict)
    keys_kept: int = 0
    state_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As plain data (a task's result, the command's summary)."""
        return asdict(self)


def store_for(state: str | Path | StateStore, name: str, identity: str) -> StateStore:
    """The store a `state=` names (a URL or path), or the one given."""
    if isinstance(state, str | Path):
        return open_state(state, f"{name}-{identity[:16]}")
    return state


def load_state(store: StateStore, identity: str, sync: Mapping[str, Any]) -> SyncState:
    """The verified state in `store`, or a first run's."""
    paths, time_path = list(sync["key"]), str(sync["time"])
    raw = store.load()
    if raw is None:
        return new_state(identity, paths, time_path)
    return decode_state(raw, store.where, identity, paths, time_path)


def run_sync(
    component: Component,
    action: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    state: str | Path | StateStore,
    deliver: Deliver,
    *,
    until: dt.date | None = None,
    lookback_days: int = 5,
    start: dt.date | None = None,
) -> SyncResult:
    """Deliver the records of `action` not delivered by earlier runs with this state.

    `until` (default: today, UTC) is the last day read; each run reads again the
    `lookback_days` before the day after the cursor, so records that arrive late are caught,
    and delivers only those whose key (the spec's `sync.key`) it has not delivered.

    Raises:
        InputError: the action declares no sync, or an input caps the records.
        StateError: the state cannot be trusted (see connector.sync.state).
    """
    op = component.spec.actions.get(action) or component.spec.data_sources.get(action)
    if op is None:
        component.prepare(action, inputs, connection)  # raises the "no such action" error
        raise AssertionError("unreachable")  # pragma: no cover
    sync = sync_of(op)
    check_no_cap(op, inputs)
    if lookback_days < 0:
        why = f"the lookback is 0 days or more, not {lookback_days}"
        raise InputError(op.key, [InputProblem("lookback_days", "Lookback days", why)])
    identity = sync_identity(op, inputs)
    store = store_for(state, sync["name"], identity)
    with store.locked(LOCK_WAIT_S):
        return _run(component, op, sync, inputs, connection, store, identity, deliver,
                    until, lookback_days, start)  # fmt: skip


def _run(
    component: Component,
    op: OperationSpec,
    sync: Mapping[str, Any],
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    store: StateStore,
    identity: str,
    deliver: Deliver,
    until: dt.date | None,
    lookback_days: int,
    start: dt.date | None,
) -> SyncResult:
    """One run, its sync's lock held."""
    saved = load_state(store, identity, sync)
    checkpointed = deliver if isinstance(deliver, Checkpointed) else None
    rewound = checkpointed.rewind(saved.sink) if checkpointed is not None else None
    if checkpointed is None:
        saved.sink = None  # a position another destination recorded says nothing of this one
    elif saved.sink != checkpointed.position():  # a first run or a new file: where it starts
        saved.sink = checkpointed.position()
        _save(store, saved)
    day = until or dt.datetime.now(dt.UTC).date()
    plan = plan_run(saved.cursor, saved.horizon, day, lookback_days, start)
    notes = [*([rewound] if rewound else []), *plan.notes]
    result = SyncResult(sync["name"], plan.first.isoformat(), day.isoformat(), notes=notes)
    for note in notes:
        log.warning("%s: %s", sync["name"], note)
    if not plan.empty:
        for batch in _batches(component, op, sync, inputs, connection, plan):
            _deliver(batch, saved, plan, result, deliver)
            if checkpointed is not None:
                saved.sink = checkpointed.position()
            result.state_bytes = _save(store, saved)
        saved.cursor = max(day, saved.cursor) if saved.cursor else day
        saved.horizon = max(plan.first, saved.horizon) if saved.horizon else plan.first
        saved.seen.prune(saved.horizon - ZONE_MARGIN)
    result.late = dict(sorted(result.late.items()))
    result.keys_kept = len(saved.seen)
    if checkpointed is not None:
        saved.sink = checkpointed.position()
    result.state_bytes = _save(store, saved)
    return result


def _save(store: StateStore, state: SyncState) -> int:
    document = encode_state(state)
    store.save(document)
    return len(document)


def _deliver(
    batch: list[Any], state: SyncState, plan: Plan, result: SyncResult, deliver: Deliver
) -> None:
    """Hand the batch's new records to `deliver`, then remember them."""
    fresh, found = [], []
    taken: set[bytes] = set()
    for record in batch:
        digest, day = state.seen.identity(record)
        if digest in state.seen or digest in taken:
            result.repeated += 1
            continue
        taken.add(digest)
        fresh.append(record)
        found.append((digest, day or plan.until))
    result.read += len(batch)
    if fresh:
        deliver(fresh)
    state.seen.add_all(found)
    result.delivered += len(fresh)
    for _, day in found:
        if day < plan.until:
            result.late[day.isoformat()] = result.late.get(day.isoformat(), 0) + 1


def _batches(
    component: Component,
    op: OperationSpec,
    sync: Mapping[str, Any],
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    plan: Plan,
) -> Iterable[list[Any]]:
    """The run's records: a windowed export's windows, else batches of BATCH records."""
    values = dict(inputs)
    split = op.stream.get("split") or {}
    if split:
        values[split["from"]], values[split["to"]] = plan.first.isoformat(), plan.until.isoformat()
        stream = component.iter(op.key, values, connection)
        for _, buffer in stream.windows():
            try:
                yield list(buffer.records())
            finally:
                buffer.close()
        return
    since = sync.get("since") or {}
    if since:
        expression = render_value(
            since["expression"], {"since": plan.first.isoformat()}, action=op.key, field="sync"
        )
        given = values.get(since["input"])
        values[since["input"]] = (
            f"({given}) and {expression}" if not is_empty(given) else expression
        )
    if op.paging.get("enabled"):
        values[op.paging["enabled"]] = True
    batch: list[Any] = []
    for record in component.iter(op.key, values, connection):
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
