"""MixpanelHook: turns an Airflow `mixpanel` connection into the component's connection mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from ...component import Component
from ...loading import load_component
from ...modes.streamed import RecordStream
from ..common import (
    RATE_WAIT_S,
    REGION_INPUT,
    connection_inputs,
    location_values,
    secret_values,
    with_defaults,
    with_progress,
)
from .provider import CONN_TYPE


class MixpanelHook(BaseHook):
    """Runs actions and fetches picklists with the credentials of one Airflow connection.

    The connection's extras hold the fields of the connector's connection spec (Username,
    Password, Project Token) and the project's Region; its Host, when set, redirects every
    request (a proxy or a test server).
    """

    conn_name_attr = "mixpanel_conn_id"
    default_conn_name = "mixpanel_default"
    conn_type = CONN_TYPE
    hook_name = "Mixpanel"

    def __init__(
        self,
        mixpanel_conn_id: str = default_conn_name,
        *,
        rate_wait_s: float = RATE_WAIT_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mixpanel_conn_id = mixpanel_conn_id
        self.rate_wait_s = rate_wait_s
        self._loaded: tuple[dict[str, Any], dict[str, str], Component] | None = None

    def _load(self) -> tuple[dict[str, Any], dict[str, str], Component]:
        if self._loaded is None:
            self.use_connection(self.get_connection(self.mixpanel_conn_id))
        assert self._loaded is not None
        return self._loaded

    def use_connection(self, conn: Any) -> None:
        """Take the Airflow connection `conn` (fetched ahead, e.g. with `aget_connection`)."""
        if self._loaded is None:
            extra = conn.extra_dejson

            def value(key: str) -> Any:
                found = extra.get(key)
                return extra.get(f"extra__{CONN_TYPE}__{key}") if found in (None, "") else found

            mapping = {f["key"]: value(f["key"]) for f in connection_inputs()}
            mapping = {k: v for k, v in mapping.items() if v not in (None, "")}
            component = with_progress(
                load_component(base_url=conn.host or None, rate_wait_s=self.rate_wait_s)
            )
            for secret in secret_values(component, mapping):
                mask_secret(secret)
            self._loaded = (mapping, location_values(value(REGION_INPUT)), component)

    def get_conn(self) -> dict[str, Any]:
        """The component's connection mapping (its secrets are registered with the masker)."""
        return dict(self._load()[0])

    @property
    def component(self) -> Component:
        """The loaded component, pointed at the connection's Host when one is set."""
        return self._load()[2]

    def location(self) -> dict[str, str]:
        """The location inputs of the connection's Region (none when it is unset)."""
        return dict(self._load()[1])

    def inputs_for(self, key: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """`inputs` plus the connection's location defaults the action declares."""
        return with_defaults(self.component, key, inputs, self._load()[1])

    def run(self, action: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Run an action; returns `{"data": ...}`."""
        return self.component.run(action, self.inputs_for(action, inputs), self.get_conn())

    def picklist(
        self, data_source: str, inputs: Mapping[str, Any] | None = None
    ) -> list[dict[str, str]]:
        """A data source's choices, `[{"label", "key"}, ...]` (e.g. saved funnels, pipelines)."""
        result = self.component.fetch(
            data_source, self.inputs_for(data_source, inputs or {}), self.get_conn()
        )
        items: list[dict[str, str]] = result["result"]
        return items

    def records(self, action: str, inputs: Mapping[str, Any]) -> RecordStream:
        """An action's records one by one (an export streams; see Component.iter)."""
        return self.component.iter(action, self.inputs_for(action, inputs), self.get_conn())
