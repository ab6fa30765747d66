"""MixpanelOperator runs any action, MixpanelExportOperator exports, MixpanelCopyOperator copies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.log import mask_secret

from ... import errors
from ...jobs import job_wait, start_job
from ..common import RATE_WAIT_S, export_to, input_secrets
from ..copying import copy_between, side
from ..precheck import check_task, is_template
from .hooks import MixpanelHook


def check_at_parse_time(action: Any, inputs: Any) -> None:
    """Fail while Airflow parses the DAG on a wrong action, unknown input or missing input.

    Templated values (`{{ ds }}`) count as given and are checked when the task runs, as is a
    templated action.
    """
    if isinstance(action, str) and not is_template(action) and isinstance(inputs, Mapping):
        check_task(action, inputs)


class MixpanelOperator(BaseOperator):
    """Run one Mixpanel action; its result (`{"data": ...}`) is the task's XCom.

    A wrong action key, an unknown input or a missing required input fails when the DAG is
    parsed (an import error naming the action and the input's label), not when the task runs.

    Args:
        action: the action's key, e.g. `importEvents`, `queryProfiles`, `createGCSPipeline`.
        inputs: the action's inputs by key; templated, so `{{ ds }}` and XCom pulls work.
        mixpanel_conn_id: the Airflow connection of type `mixpanel` to use.
        rate_wait_s: how long to wait for a client-side rate budget before failing.
        deferrable: for an action that creates a job (GDPR, warehouse imports...) with Wait
            For Completion on, create the job, then free the worker while the triggerer polls
            its status (MixpanelJobTrigger, as the spec's `wait:` says); the task resumes with
            the job's last status as its XCom. Default: `[operators] default_deferrable`.
            Off, the task waits for the job itself. Either way a failed job, or one still
            running after Max Wait Seconds, fails the task naming the job's id (which the
            action's resume input, e.g. Tracking ID, takes to wait again).
    """

    template_fields: Sequence[str] = ("action", "inputs")
    template_fields_renderers = {"inputs": "json"}
    ui_color = "#7856ff"

    def __init__(
        self,
        *,
        action: str,
        inputs: Mapping[str, Any] | None = None,
        mixpanel_conn_id: str = MixpanelHook.default_conn_name,
        rate_wait_s: float = RATE_WAIT_S,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        check_at_parse_time(action, inputs or {})
        super().__init__(**kwargs)
        self.action = action
        self.inputs = dict(inputs or {})
        self.mixpanel_conn_id = mixpanel_conn_id
        self.rate_wait_s = rate_wait_s
        if deferrable is None:
            from airflow.configuration import conf

            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        self.deferrable = deferrable

    @property
    def hook(self) -> MixpanelHook:
        """The hook for this task's connection."""
        return MixpanelHook(mixpanel_conn_id=self.mixpanel_conn_id, rate_wait_s=self.rate_wait_s)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the templated fields, then mask the secrets inside their inline records.

        Airflow stores and shows the rendered inputs (Rendered Template) through its masker:
        a project token carried by SDK-format events is registered with it first.
        """
        super().render_template_fields(context, jinja_env)
        if isinstance(self.action, str) and isinstance(self.inputs, Mapping):
            for secret in input_secrets(self.hook.component, self.action, self.inputs):
                mask_secret(secret)

    def execute(self, context: Context) -> Any:
        """Run the action and return its result (or create its job and defer, see deferrable)."""
        self.log.info("Running Mixpanel action %s", self.action)
        if self.deferrable:
            self._defer_job()
        result = self.hook.run(self.action, self.inputs)
        self.log.info("Mixpanel action %s finished", self.action)
        return result

    def _defer_job(self) -> None:
        """Create the job and defer to its trigger, when the action waits for one; else return."""
        from .triggers import MixpanelJobTrigger  # only for deferring tasks

        hook = self.hook
        inputs, connection = hook.inputs_for(self.action, self.inputs), hook.get_conn()
        plan = job_wait(hook.component, self.action, inputs, connection)
        if plan is None:
            return
        job_id = start_job(hook.component, self.action, inputs, connection)
        self.log.info("Mixpanel action %s started job %s; deferring", self.action, job_id)
        trigger = MixpanelJobTrigger(
            conn_id=self.mixpanel_conn_id,
            action=self.action,
            job_id=job_id,
            inputs=self.inputs,
            interval_s=plan["interval_s"],
            max_wait_s=plan["max_wait_s"],
        )
        # The trigger stops at the maximum wait itself; Airflow's timeout is only a backstop.
        backstop = timedelta(seconds=plan["max_wait_s"] + 2 * plan["interval_s"] + 60)
        self.defer(trigger=trigger, method_name="execute_complete", timeout=backstop)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger's event: the job's last status, or its error raised."""
        job_id = str(event.get("job_id", ""))
        if event.get("event") == "done":
            self.log.info("Mixpanel job %s of %s is done", job_id, self.action)
            return {"data": event.get("data")}
        error = getattr(errors, str(event.get("error")), None)
        if not (isinstance(error, type) and issubclass(error, errors.JobError)):
            error = errors.JobError
        raise error(
            str(event.get("message", "")), job_id=job_id, status=str(event.get("status") or "")
        )


class MixpanelExportOperator(MixpanelOperator):
    """Stream an export's records to `path` as JSON lines; the XCom is a summary, never records.

    Args:
        path: a local file path, an object-store URL (`s3://…`, `gs://…`, any fsspec scheme
            installed) or an `ObjectStoragePath`; templated; gzip for `.gz`. A local file
            appears only when the export is complete.
        inputs: the action's inputs (dates, filters); templated.
        action: the exporting action, `downloadData` by default.
        Other arguments are MixpanelOperator's.
    """

    template_fields: Sequence[str] = ("path", "inputs", "action")

    def __init__(self, *, path: Any, action: str = "downloadData", **kwargs: Any) -> None:
        super().__init__(action=action, **kwargs)
        self.path = path

    def execute(self, context: Context) -> dict[str, Any]:
        """Export; return `{"path", "count", "days", "resumed_cuts"}`."""
        hook = self.hook
        inputs = hook.inputs_for(self.action, self.inputs)
        summary = export_to(hook.component, self.action, inputs, hook.get_conn(), self.path)
        self.log.info("Exported %d records to %s", summary["count"], summary["path"])
        return summary


class MixpanelCopyOperator(BaseOperator):
    """Copy a date range's events (and profiles) from one project into another.

    Each connection is one side: its credentials, region and rate budgets. A retried task
    resumes the copy (finished windows are not copied again); the XCom is both sides' counts.

    Args:
        source_conn_id: the `mixpanel` connection of the project copied from.
        target_conn_id: the `mixpanel` connection of the project copied into.
        from_date: the first day (templated, e.g. `{{ ds }}`); to_date: the last day.
        source_project_id, target_project_id: the projects' ids.
        events: only these event names (default: every event).
        time_offset_hours: hours added to each event's time (a project kept in local time).
        transforms: more transforms (rename, drop, tags, keep or block events...).
        profiles: copy user profiles too.
        groups: copy the group profiles of these group keys too, each mapped to its id in the
            source project (its data group id).
        state_path: where the copy remembers finished windows (default: the state directory).
    """

    template_fields: Sequence[str] = ("from_date", "to_date", "events", "transforms")
    ui_color = "#7856ff"

    def __init__(
        self,
        *,
        source_conn_id: str,
        target_conn_id: str,
        from_date: str,
        to_date: str,
        source_project_id: str | None = None,
        target_project_id: str | None = None,
        events: Sequence[str] | None = None,
        time_offset_hours: float | None = None,
        transforms: Mapping[str, Any] | None = None,
        profiles: bool = False,
        groups: Mapping[str, str] | None = None,
        state_path: str | None = None,
        rate_wait_s: float = RATE_WAIT_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_conn_id, self.target_conn_id = source_conn_id, target_conn_id
        self.from_date, self.to_date = from_date, to_date
        self.projects = (source_project_id, target_project_id)
        self.events = list(events or [])
        self.time_offset_hours = time_offset_hours
        self.transforms = dict(transforms or {})
        self.profiles, self.state_path, self.rate_wait_s = profiles, state_path, rate_wait_s
        self.groups = dict(groups or {})

    def execute(self, context: Context) -> dict[str, Any]:
        """Copy; return `{"events": {"source": ..., "target": ...}, ...}`."""
        sides = []
        for conn_id, project_id in zip(
            (self.source_conn_id, self.target_conn_id), self.projects, strict=True
        ):
            hook = MixpanelHook(mixpanel_conn_id=conn_id, rate_wait_s=self.rate_wait_s)
            sides.append(side(hook.component, hook.get_conn(), hook.location(), project_id))
        summary = copy_between(
            sides[0],
            sides[1],
            from_date=self.from_date,
            to_date=self.to_date,
            events=self.events,
            time_offset_hours=self.time_offset_hours,
            transforms=self.transforms,
            profiles=self.profiles,
            groups=self.groups,
            state_path=self.state_path,
        )
        self.log.info("Copied %s", summary["events"]["target"])
        return summary
