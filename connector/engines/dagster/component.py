"""MixpanelComponent: exports as daily-partitioned assets, actions as assets or jobs, from YAML."""

# No `from __future__ import annotations`: Dagster reads the `context` annotations at run time.

import datetime as dt
import os
from typing import Any

import dagster as dg

from ..common import component_manifest, connection_inputs
from .models import DATE_FIELD, ActionModel, AttributesModel, ExportModel, env_field
from .resource import MixpanelResource
from .syncs import cohort_defs, sync_defs

KIND = "mixpanel"


class MixpanelComponent(dg.Component):
    """Mixpanel exports and actions as Dagster assets and jobs, written in a `defs.yaml`.

    Exports become assets partitioned by day (one partition per day of the export, written to a
    path or an object store); actions become assets or jobs; syncs become assets partitioned by
    day whose runs deliver each event once, late ones included, with a daily schedule; cohorts
    become sensors that run a job with the profiles that joined and left. The connection's
    secrets come from environment variables through Dagster's EnvVar and never appear in the
    YAML or in Dagster.
    """

    def __init__(self, attributes: AttributesModel) -> None:
        self.attributes = attributes

    @classmethod
    def get_model_cls(cls) -> type[AttributesModel]:
        """The attributes model; its JSON Schema is generated from the manifest."""
        return AttributesModel

    @classmethod
    def get_spec(cls) -> dg.ComponentTypeSpec:
        """What `dg list components` and the UI say about this component type."""
        return dg.ComponentTypeSpec(
            description=component_manifest()["description"],
            tags=[KIND],
            produces=["asset", "job", "resource"],
        )

    @classmethod
    def load(cls, attributes: Any, context: dg.ComponentLoadContext) -> "MixpanelComponent":
        """The component from its checked attributes (no attributes: every default)."""
        if not isinstance(attributes, AttributesModel):
            attributes = AttributesModel()
        return cls(attributes)

    def resource(self) -> MixpanelResource:
        """The connection as a resource: each secret an EnvVar, resolved when a run starts.

        A field whose variable is neither named in the YAML nor set here is left empty, so a
        project that needs no Project Token need not define one.
        """
        connection = self.attributes.connection
        named = connection.model_extra or {}
        values: dict[str, Any] = {}
        for spec in connection_inputs():
            variable = connection.env_names()[spec["key"]]
            if variable and (env_field(spec["key"]) in named or variable in os.environ):
                values[spec["key"]] = dg.EnvVar(variable)
        return MixpanelResource(region=connection.region, base_url=connection.base_url, **values)

    def _key(self, name: str) -> dg.AssetKey:
        return dg.AssetKey([*self.attributes.key_prefix, name])

    def _export_asset(self, export: ExportModel) -> dg.AssetsDefinition:
        end = None
        if export.end_date:  # Dagster's end is exclusive; the YAML's last day is included
            end = (dt.date.fromisoformat(export.end_date) + dt.timedelta(days=1)).isoformat()
        partitions = dg.DailyPartitionsDefinition(start_date=export.start_date, end_date=end)
        resource_key = self.attributes.resource_key

        @dg.asset(
            key=self._key(export.name),
            partitions_def=partitions,
            group_name=self.attributes.group_name,
            description=export.description or f"{export.action}, one partition per day.",
            required_resource_keys={resource_key},
            kinds={KIND},
        )
        def _export(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            day = context.partition_key
            inputs = {**export.inputs, "from_date": day, "to_date": day}
            mixpanel: MixpanelResource = getattr(context.resources, resource_key)
            summary = mixpanel.export(export.action, inputs, export.path.replace(DATE_FIELD, day))
            context.log.info("Exported %d records to %s", summary["count"], summary["path"])
            return dg.MaterializeResult(metadata=summary)

        return _export

    def _action_asset(self, action: ActionModel) -> dg.AssetsDefinition:
        resource_key = self.attributes.resource_key

        @dg.asset(
            key=self._key(action.name),
            group_name=self.attributes.group_name,
            description=action.description or f"The result of {action.action}.",
            required_resource_keys={resource_key},
            kinds={KIND},
        )
        def _action(context: dg.AssetExecutionContext) -> dg.Output[Any]:
            context.log.info("Running Mixpanel action %s", action.action)
            mixpanel: MixpanelResource = getattr(context.resources, resource_key)
            result = mixpanel.run(action.action, action.inputs)
            return dg.Output(result, metadata={"action": action.action})

        return _action

    def _action_job(self, action: ActionModel) -> dg.JobDefinition:
        resource_key = self.attributes.resource_key

        @dg.op(name=f"{action.name}_op", required_resource_keys={resource_key})
        def _run(context: dg.OpExecutionContext) -> Any:
            context.log.info("Running Mixpanel action %s", action.action)
            mixpanel: MixpanelResource = getattr(context.resources, resource_key)
            return mixpanel.run(action.action, action.inputs)

        @dg.job(
            name=action.name,
            description=action.description or f"Runs {action.action}.",
            tags={"kind": KIND},
        )
        def _job() -> None:
            _run()

        return _job

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The exports' and actions' assets and jobs, and the connection resource."""
        assets = [self._export_asset(export) for export in self.attributes.exports]
        jobs = []
        for action in self.attributes.actions:
            if action.kind == "job":
                jobs.append(self._action_job(action))
            else:
                assets.append(self._action_asset(action))
        schedules, sensors = [], []
        for sync in self.attributes.syncs:
            asset, sync_jobs, sync_schedules = sync_defs(
                sync, self._key(sync.name), self.attributes.group_name, self.attributes.resource_key
            )
            assets.append(asset)
            jobs += sync_jobs
            schedules += sync_schedules
        for cohort in self.attributes.cohorts:
            cohort_job, sensor = cohort_defs(cohort, self.attributes.resource_key)
            jobs.append(cohort_job)
            sensors.append(sensor)
        return dg.Definitions(
            assets=assets,
            jobs=jobs,
            schedules=schedules,
            sensors=sensors,
            resources={self.attributes.resource_key: self.resource()},
        )
