"""What one sync run reads: the days from the cursor back over the lookback window, to `until`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog.spec import OperationSpec
from ..core.digest import inputs_digest
from ..core.values import is_empty
from ..errors import InputError, InputProblem

__all__ = ["DEFAULT_LOOKBACK_DAYS", "Plan", "plan_run", "sync_identity", "sync_of"]

#: Days before the last one that each run reads again, for records that arrived late.
DEFAULT_LOOKBACK_DAYS = 5
#: Record keys are kept one day beyond the horizon: a project's day and the UTC day of its
#: records' times differ by up to a day.
ZONE_MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True)
class Plan:
    """The days one run reads (`first`..`until`) and what it says about days it leaves out."""

    first: dt.date
    until: dt.date
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to read: `until` lies before the horizon."""
        return self.first > self.until


def sync_of(op: OperationSpec) -> dict[str, Any]:
    """The action's `sync:` declaration.

    Raises:
        InputError: the action declares no sync.
    """
    if not op.sync:
        problem = InputProblem("action", "Action", f"{op.key} declares no sync")
        raise InputError(op.key, [problem])
    declared: dict[str, Any] = op.sync
    return declared


def run_inputs(op: OperationSpec) -> set[str]:
    """The inputs a sync sets per run (range, window size, paging, the since filter)."""
    split = op.stream.get("split") or {}
    keys = {split.get("from"), split.get("to"), split.get("window_input"), op.paging.get("enabled")}
    return {k for k in keys if k}


def sync_identity(op: OperationSpec, inputs: Mapping[str, Any], extra: str = "") -> str:
    """A digest of the action and the inputs that choose its records (not those set per run)."""
    per_run = run_inputs(op)
    chosen = {k: v for k, v in inputs.items() if k not in per_run and not is_empty(v)}
    return inputs_digest(f"sync:{op.key}:{extra}", chosen)


def check_no_cap(op: OperationSpec, inputs: Mapping[str, Any]) -> None:
    """A sync reads every record: an input capping the stream is refused."""
    cap = op.stream.get("limit")
    if cap and not is_empty(inputs.get(cap)):
        spec = op.input(cap)
        why = "a sync reads every record of its days; leave it empty"
        raise InputError(op.key, [InputProblem(cap, spec.label, why)])


def plan_run(
    cursor: dt.date | None,
    horizon: dt.date | None,
    until: dt.date,
    lookback_days: int,
    start: dt.date | None,
) -> Plan:
    """The days to read: from the day after the cursor, `lookback_days` earlier, to `until`.

    The first run (no cursor) reads from `start`, else the lookback window before `until`.
    Days before the horizon were read by earlier runs whose keys are gone: never again.

    Raises:
        ValueError: `lookback_days` is negative.
    """
    if lookback_days < 0:
        raise ValueError(f"the lookback is 0 days or more, not {lookback_days}")
    back = dt.timedelta(days=lookback_days)
    if cursor is None:
        first = start if start is not None else until - back
    else:
        first = min(cursor + dt.timedelta(days=1), until) - back
    notes = []
    if horizon is not None and first < horizon:
        notes.append(
            f"days before {horizon.isoformat()} are not read: earlier runs started there, or "
            "delivered them and no longer keep their keys"
        )
        first = horizon
    return Plan(first, until, notes)
