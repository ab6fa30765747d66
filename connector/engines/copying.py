"""One copy between two projects for every engine: each side a component, connection, place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..component import Component
from ..migrate.copy import CopyPlan, Side
from ..migrate.project import copy_project
from ..migrate.specs import load_layout


def side(
    component: Component,
    connection: Mapping[str, Any],
    location: Mapping[str, Any],
    project_id: str | None,
) -> Side:
    """One side of a copy: the project's location inputs (its region's) and its id."""
    return Side(component, connection, {**location, **load_layout().side_inputs(project_id, None)})


def copy_between(
    source: Side,
    target: Side,
    *,
    from_date: str,
    to_date: str,
    events: Sequence[str] = (),
    time_offset_hours: float | None = None,
    transforms: Mapping[str, Any] | None = None,
    profiles: bool = False,
    groups: Mapping[str, str] | None = None,
    state_path: str | None = None,
) -> dict[str, Any]:
    """Copy events of the range (and profiles); resumable by rerunning with the same values.

    `groups` maps each group key whose group profiles are copied to its id in the source
    project (its data group id).
    """
    chosen = dict(transforms or {})
    if time_offset_hours is not None:
        chosen["time_offset_hours"] = time_offset_hours
    plan = CopyPlan(
        from_date,
        to_date,
        events=list(events),
        transforms=chosen,
        state=Path(state_path) if state_path else None,
    )
    return copy_project(source, target, plan, profiles=profiles, groups=groups)
