"""The component's YAML attributes as pydantic models, checked against the manifest on load.

Dagster validates a `defs.yaml` with these models when it loads it (`dg check defs` does), so a
wrong action, an unknown or missing input or an unknown Region is reported with the file and
line, the action and each input's label. The JSON Schema `dg` and editors see is schema.py's.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..common import connection_inputs, location_values
from ..precheck import check_task, operation, task_inputs

DATE_FIELD = "{date}"  # where an export's path takes its partition's day
PARTITION_INPUTS = ("from_date", "to_date")  # what each day's partition sets
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"


def env_field(key: str) -> str:
    """The attribute that names the environment variable holding connection field `key`."""
    return f"{key}_env"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectionModel(_Strict):
    """Environment variable names for the connection's fields; the values never enter YAML."""

    model_config = ConfigDict(extra="allow")
    region: str | None = None
    base_url: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ConnectionModel:
        known = {env_field(spec["key"]) for spec in connection_inputs()}
        for name, value in (self.model_extra or {}).items():
            if name not in known:
                fields = ", ".join(sorted([*known, "region", "base_url"]))
                raise ValueError(f"the connection has no field `{name}`; its fields: {fields}.")
            if not isinstance(value, str) or not re.match(ENV_PATTERN, value):
                raise ValueError(
                    f"`{name}` names an environment variable (such as MIXPANEL_PASSWORD), "
                    "not a value: secrets never go in YAML."
                )
        location_values(self.region)  # an unknown Region fails here, naming its choices
        return self

    def env_names(self) -> dict[str, str]:
        """Each connection field's environment variable: as set here, else the spec's."""
        extra = self.model_extra or {}
        return {
            spec["key"]: extra.get(env_field(spec["key"]), spec.get("env") or "")
            for spec in connection_inputs()
        }


class ExportModel(_Strict):
    """An export as an asset partitioned by day: one partition per day of the action."""

    name: str = Field(pattern=NAME_PATTERN)
    path: str
    start_date: str = Field(pattern=ISO_DAY)
    end_date: str | None = Field(default=None, pattern=ISO_DAY)
    action: str = "downloadData"
    inputs: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None

    @field_validator("path")
    @classmethod
    def _one_file_a_day(cls, path: str) -> str:
        if DATE_FIELD not in path:
            raise ValueError(f"path must contain {DATE_FIELD}, which each day's partition fills in")
        return path

    @model_validator(mode="after")
    def _check(self) -> ExportModel:
        op = operation(self.action)
        if not set(PARTITION_INPUTS) <= set(task_inputs(op)):
            dates = " and ".join(f"`{key}`" for key in PARTITION_INPUTS)
            raise ValueError(
                f"{op['label']} (`{self.action}`) has no {dates} inputs: an export's action "
                "must take a day range (such as downloadData)"
            )
        given = [key for key in PARTITION_INPUTS if key in self.inputs]
        if given:
            labels = ", ".join(f"{task_inputs(op)[k]['label']} (`{k}`)" for k in given)
            raise ValueError(f"{op['label']} (`{self.action}`): {labels} come from the partition")
        check_task(self.action, self.inputs, supplied=PARTITION_INPUTS)
        return self


class SyncModel(_Strict):
    """A scheduled sync: an asset partitioned by day whose runs deliver each event once.

    Each day's run reads the lookback window again and delivers the events not delivered
    before, late ones for earlier days included.
    """

    name: str = Field(pattern=NAME_PATTERN)
    path: str
    start_date: str = Field(pattern=ISO_DAY)
    action: str = "downloadData"
    inputs: dict[str, Any] = Field(default_factory=dict)
    lookback_days: int = Field(default=5, ge=0, le=366)
    state: str | None = None
    schedule_hour: int | None = Field(default=1, ge=0, le=23)
    description: str | None = None

    @field_validator("path")
    @classmethod
    def _one_file_a_run(cls, path: str) -> str:
        if DATE_FIELD not in path:
            raise ValueError(f"path must contain {DATE_FIELD}, which each day's run fills in")
        return path

    @model_validator(mode="after")
    def _check(self) -> SyncModel:
        from ...catalog.load import load_specs
        from ...sync.plan import run_inputs

        op = load_specs().operation(self.action)
        if not op.sync:
            raise ValueError(f"{op.label} (`{self.action}`) declares no sync")
        check_task(self.action, self.inputs, supplied=run_inputs(op))
        return self


class CohortModel(_Strict):
    """A sensor that polls a cohort and runs a job with the profiles that joined and left it."""

    name: str = Field(pattern=NAME_PATTERN)
    cohort_id: int
    inputs: dict[str, Any] = Field(default_factory=dict)
    action: str = "queryProfiles"
    minimum_interval_seconds: int = Field(default=3600, ge=30)
    description: str | None = None


class ActionModel(_Strict):
    """An action as an asset (its result is the asset's value) or as a job."""

    name: str = Field(pattern=NAME_PATTERN)
    action: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    kind: Literal["asset", "job"] = "asset"
    description: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ActionModel:
        check_task(self.action, self.inputs)
        return self


class AttributesModel(_Strict):
    """A Mixpanel project's exports and actions in one `defs.yaml`."""

    connection: ConnectionModel = Field(default_factory=ConnectionModel)
    resource_key: str = Field(default="mixpanel", pattern=NAME_PATTERN)
    key_prefix: list[str] = Field(default_factory=lambda: ["mixpanel"])
    group_name: str = Field(default="mixpanel", pattern=NAME_PATTERN)
    exports: list[ExportModel] = Field(default_factory=list)
    actions: list[ActionModel] = Field(default_factory=list)
    syncs: list[SyncModel] = Field(default_factory=list)
    cohorts: list[CohortModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AttributesModel:
        groups = (self.exports, self.actions, self.syncs, self.cohorts)
        names = [item.name for group in groups for item in group]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each export and action needs a name of its own; repeated: {twice}")
        return self

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema generated from the manifest (not from these models' fields)."""
        from .schema import attributes_schema

        return attributes_schema()
