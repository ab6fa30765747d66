"""MixpanelResource: a Dagster resource whose secrets are EnvVars, read only when a run starts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from ... import Component, load_component
from ...sync.stores import StateStore
from ..common import (
    RATE_WAIT_S,
    connection_inputs,
    export_to,
    location_values,
    with_defaults,
    with_progress,
)
from ..copying import copy_between, side
from ..syncs import members_changes, sync_to_path


class MixpanelResource(dg.ConfigurableResource):
    """A Mixpanel project's connection. Dagster shows an EnvVar's name, never its value.

    Fields are the connection spec's (Username, Password, Project Token, OAuth Token), the
    project's Region
    (which sets every action's location inputs unless the action sets them) and an optional
    base URL that redirects every call (a proxy, a test server).
    """

    # One field per connection input (a test checks they match the connection spec).
    username: str | None = None
    password: str | None = None
    projectToken: str | None = None  # noqa: N815 (the connection spec's key)
    oauthToken: str | None = None  # noqa: N815 (the GDPR actions' bearer token)
    region: str | None = None
    base_url: str | None = None
    rate_wait_s: float = RATE_WAIT_S

    def connection(self) -> dict[str, Any]:
        """The component's connection mapping (the EnvVars' values, for the call only)."""
        values = {spec["key"]: getattr(self, spec["key"]) for spec in connection_inputs()}
        return {key: value for key, value in values.items() if value not in (None, "")}

    def component(self) -> Component:
        """The loaded component, pointed at the base URL when one is set."""
        return with_progress(
            load_component(base_url=self.base_url or None, rate_wait_s=self.rate_wait_s)
        )

    def inputs_for(
        self, component: Component, key: str, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """`inputs` plus the Region's location inputs the action declares."""
        return with_defaults(component, key, inputs, location_values(self.region))

    def run(self, action: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Run an action; returns `{"data": ...}`."""
        component = self.component()
        values = self.inputs_for(component, action, inputs)
        return component.run(action, values, self.connection())

    def copy_to(
        self,
        target: MixpanelResource,
        *,
        from_date: str,
        to_date: str,
        source_project_id: str | None = None,
        target_project_id: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Copy a date range's events (and profiles, `profiles=True`) into `target`'s project.

        `options`: events, time_offset_hours, transforms, profiles, groups (each group key
        whose group profiles are copied, mapped to its id in the source project), state_path.
        Rerun with
        the same values after a failure and the copy resumes. Returns both sides' counts.
        """
        sides = [
            side(r.component(), r.connection(), location_values(r.region), project_id)
            for r, project_id in ((self, source_project_id), (target, target_project_id))
        ]
        return copy_between(sides[0], sides[1], from_date=from_date, to_date=to_date, **options)

    def export(self, action: str, inputs: Mapping[str, Any], path: str) -> dict[str, Any]:
        """Stream an export to `path`; returns `{"path", "count", "days", "resumed_cuts"}`."""
        component = self.component()
        values = self.inputs_for(component, action, inputs)
        return export_to(component, action, values, self.connection(), path)

    def sync(
        self,
        action: str,
        inputs: Mapping[str, Any],
        state: str | Path | StateStore,
        path: str,
        *,
        until: dt.date,
        lookback_days: int,
        start: dt.date | None = None,
    ) -> dict[str, Any]:
        """One sync run appended to `path`; returns its summary (see engines.syncs)."""
        component = self.component()
        values = self.inputs_for(component, action, inputs)
        return sync_to_path(
            component, action, values, self.connection(), state, path,
            until=until, lookback_days=lookback_days, start=start,
        )  # fmt: skip

    def cohort_changes(
        self, action: str, inputs: Mapping[str, Any], state: str | Path | StateStore
    ) -> dict[str, Any]:
        """The members that joined and left the group `inputs` names since the last call."""
        component = self.component()
        values = self.inputs_for(component, action, inputs)
        return members_changes(component, action, values, self.connection(), state)
