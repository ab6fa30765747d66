"""MixpanelSyncOperator: a daily export with a lookback, each event once; cohort changes as XCom."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from ...sync.stores import StateStore
from ..common import RATE_WAIT_S
from ..precheck import check_task, is_template
from ..syncs import DEFAULT_LOOKBACK_DAYS, engine_store, members_changes, sync_to_path
from .hooks import MixpanelHook


def variable_store(name: str) -> StateStore:
    """A sync's state in the Airflow Variable `name` (read and written by the running task)."""
    from airflow.sdk import Variable

    def read() -> str | None:
        found = Variable.get(name, default=None)
        return str(found) if found else None

    def write(document: bytes) -> None:
        Variable.set(name, document.decode())

    return engine_store(f"Airflow Variable {name}", read, write)


def _check_sync(action: str, inputs: Any) -> None:
    """At parse time: a wrong action or input fails, the inputs each run sets count as given."""
    if isinstance(action, str) and not is_template(action) and isinstance(inputs, dict):
        from ...catalog.load import load_specs
        from ...sync.plan import run_inputs

        check_task(action, inputs, supplied=run_inputs(load_specs().operation(action)))


def _until(context: Context, given: str | None) -> dt.date:
    """`given`, else the last day before the run's data interval ends."""
    if given:
        return dt.date.fromisoformat(str(given)[:10])
    end = context.get("data_interval_end") or context.get("logical_date")
    if end is None:
        return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    last: dt.date = (end - dt.timedelta(microseconds=1)).date()
    return last


class MixpanelSyncOperator(BaseOperator):
    """Append the events not delivered by earlier runs to `path`, reading a lookback window again.

    Each run reads the days since the last run and, again, the `lookback_days` before them,
    and delivers only the events it has not delivered (keyed as Mixpanel de-duplicates), so an
    event that arrives days late is delivered once, by the first run after it arrives. The
    XCom is the run's summary (`delivered`, `repeated`, `late` by day), never the events.

    Args:
        path: a local file the new events are appended to (templated, e.g. one per run:
            `/data/events-{{ ds }}.jsonl`).
        inputs: the action's inputs other than its dates (filters, `project_id`); templated.
        state: a state URL (`sqlite:///PATH`, `redis://...`, a file); by default the Airflow
            Variable `mixpanel_sync__<dag_id>__<task_id>`.
        until: the last day read (templated); by default the last day of the data interval.
        lookback_days: days read again each run (default 5).
        action: the action synced, `downloadData` (events) or `queryProfiles` (profiles).
    """

    template_fields: Sequence[str] = ("path", "inputs", "state", "until")
    template_fields_renderers = {"inputs": "json"}
    ui_color = "#7856ff"

    def __init__(
        self,
        *,
        path: str,
        inputs: dict[str, Any] | None = None,
        state: str | None = None,
        until: str | None = None,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        action: str = "downloadData",
        mixpanel_conn_id: str = MixpanelHook.default_conn_name,
        rate_wait_s: float = RATE_WAIT_S,
        **kwargs: Any,
    ) -> None:
        _check_sync(action, inputs or {})
        super().__init__(**kwargs)
        self.path, self.inputs, self.state, self.until = path, dict(inputs or {}), state, until
        self.lookback_days, self.action = lookback_days, action
        self.mixpanel_conn_id, self.rate_wait_s = mixpanel_conn_id, rate_wait_s

    def execute(self, context: Context) -> dict[str, Any]:
        """One sync run; returns its summary."""
        hook = MixpanelHook(mixpanel_conn_id=self.mixpanel_conn_id, rate_wait_s=self.rate_wait_s)
        inputs = hook.inputs_for(self.action, self.inputs)
        state = self.state or variable_store(f"mixpanel_sync__{self.dag_id}__{self.task_id}")
        summary = sync_to_path(
            hook.component, self.action, inputs, hook.get_conn(), state, self.path,
            until=_until(context, self.until), lookback_days=self.lookback_days,
        )  # fmt: skip
        self.log.info(
            "Delivered %d new record(s) to %s (%d read again); late, by day: %s",
            summary["delivered"], self.path, summary["repeated"], summary["late"] or "none",
        )  # fmt: skip
        return summary


class MixpanelCohortChangesOperator(BaseOperator):
    """The profiles that joined and left a cohort since the last run, as the XCom.

    The XCom is `{"added": [...], "removed": [...], "members": N, "first_run": bool}`; the
    membership is kept in `state` (default: the Airflow Variable
    `mixpanel_cohort__<dag_id>__<task_id>`).
    """

    template_fields: Sequence[str] = ("inputs", "state")
    ui_color = "#7856ff"

    def __init__(
        self,
        *,
        cohort_id: int,
        inputs: dict[str, Any] | None = None,
        state: str | None = None,
        action: str = "queryProfiles",
        mixpanel_conn_id: str = MixpanelHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cohort_id, self.inputs, self.state = cohort_id, dict(inputs or {}), state
        self.action = action
        self.mixpanel_conn_id = mixpanel_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Compare the cohort's members with the last run's; return the changes."""
        hook = MixpanelHook(mixpanel_conn_id=self.mixpanel_conn_id)
        group = hook.component.spec.operation(self.action).sync["members"]["input"]
        inputs = hook.inputs_for(self.action, {**self.inputs, group: {"id": self.cohort_id}})
        state = self.state or variable_store(f"mixpanel_cohort__{self.dag_id}__{self.task_id}")
        return members_changes(hook.component, self.action, inputs, hook.get_conn(), state)
