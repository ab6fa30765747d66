"""The component's scheduled syncs (daily-partitioned assets and schedules) and cohort sensors."""

# No `from __future__ import annotations`: Dagster reads the `context` annotations at run time.

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from ...catalog.load import load_specs
from ..syncs import engine_store
from .models import DATE_FIELD, CohortModel, SyncModel
from .resource import MixpanelResource

KIND = "mixpanel"
#: The default state of the component's syncs: a SQLite file in the instance's storage.
STATE_FILE = "mixpanel-syncs.sqlite3"


def default_state(instance: dg.DagsterInstance) -> str:
    """`sqlite:///` a file in the Dagster instance's storage directory."""
    return f"sqlite:///{Path(instance.storage_directory()) / STATE_FILE}"


def sync_defs(
    sync: SyncModel, key: dg.AssetKey, group: str, resource_key: str
) -> tuple[dg.AssetsDefinition, list[Any], list[dg.ScheduleDefinition]]:
    """The sync's asset (one partition a day), its job and its daily schedule."""
    partitions = dg.DailyPartitionsDefinition(start_date=sync.start_date)
    first = dt.date.fromisoformat(sync.start_date)

    @dg.asset(
        key=key,
        partitions_def=partitions,
        group_name=group,
        description=sync.description
        or f"{sync.action}: each day's run delivers the records not delivered before, "
        f"reading the {sync.lookback_days} days before it again for late ones.",
        required_resource_keys={resource_key},
        kinds={KIND},
    )
    def _sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        day = dt.date.fromisoformat(context.partition_key)
        mixpanel: MixpanelResource = getattr(context.resources, resource_key)
        path = sync.path.replace(DATE_FIELD, day.isoformat())
        summary = mixpanel.sync(
            sync.action, sync.inputs, sync.state or default_state(context.instance), path,
            until=day, lookback_days=sync.lookback_days, start=first,
        )  # fmt: skip
        for late_day, count in summary["late"].items():
            if late_day >= sync.start_date:  # the earlier partition shows what it gained
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=key,
                        partition=late_day,
                        description=f"{count} late record(s), delivered on {day} to {path}",
                        metadata={"late_records": count, "delivered_in": path},
                    )
                )
        context.log.info(
            "Delivered %d new record(s) to %s (%d read again); late, by day: %s",
            summary["delivered"], path, summary["repeated"], summary["late"] or "none",
        )  # fmt: skip
        return dg.MaterializeResult(metadata=summary)

    job = dg.define_asset_job(f"{sync.name}_job", selection=[key])
    schedules = []
    if sync.schedule_hour is not None:
        schedules.append(
            dg.build_schedule_from_partitioned_job(
                job, name=f"{sync.name}_schedule", hour_of_day=sync.schedule_hour
            )
        )
    return _sync, [job], schedules


def cohort_defs(
    cohort: CohortModel, resource_key: str
) -> tuple[dg.JobDefinition, dg.SensorDefinition]:
    """A sensor polling the cohort (its membership in the cursor) and the job it runs."""
    op_name = f"{cohort.name}_changes"

    @dg.op(name=op_name, config_schema={"added": [str], "removed": [str], "members": int})
    def _changes(context: dg.OpExecutionContext) -> dict[str, Any]:
        changes: dict[str, Any] = dict(context.op_config)
        context.log.info(
            "Cohort %s: %d joined, %d left, %d members",
            cohort.cohort_id, len(changes["added"]), len(changes["removed"]), changes["members"],
        )  # fmt: skip
        return changes

    @dg.job(name=f"{cohort.name}_job", tags={"kind": KIND})
    def _job() -> None:
        _changes()

    group = load_specs().operation(cohort.action).sync["members"]["input"]

    @dg.sensor(
        name=cohort.name,
        job=_job,
        minimum_interval_seconds=cohort.minimum_interval_seconds,
        required_resource_keys={resource_key},
        description=cohort.description or f"Who joined and left cohort {cohort.cohort_id}.",
    )
    def _sensor(context: dg.SensorEvaluationContext, **resources: Any) -> dg.SensorResult:
        saved: list[bytes] = []
        store = engine_store(f"the cursor of sensor {cohort.name}", _reader(context), saved.append)
        mixpanel: MixpanelResource = resources[resource_key]
        inputs = {**cohort.inputs, group: {"id": cohort.cohort_id}}
        changes = mixpanel.cohort_changes(cohort.action, inputs, store)
        runs = []
        if changes["added"] or changes["removed"]:
            config = {k: changes[k] for k in ("added", "removed", "members")}
            runs.append(dg.RunRequest(run_config={"ops": {op_name: {"config": config}}}))
        return dg.SensorResult(run_requests=runs, cursor=saved[-1].decode())

    return _job, _sensor


def _reader(context: dg.SensorEvaluationContext) -> Callable[[], str | None]:
    return lambda: context.cursor or None
