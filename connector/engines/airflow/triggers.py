"""MixpanelJobTrigger: polls a deferred action's job in the triggerer until it is done or fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from ...errors import ConnectorError, JobError
from ...jobs import check_job
from .hooks import MixpanelHook


def _checked(
    hook: MixpanelHook,
    action: str,
    job_id: str,
    inputs: dict[str, Any],
    waited_s: float,
    polls: int,
) -> dict[str, Any]:
    """One status request through the runtime (connector.jobs.check_job), as an event payload."""
    try:
        found = check_job(
            hook.component,
            action,
            job_id,
            hook.inputs_for(action, inputs),
            hook.get_conn(),
            waited_s=waited_s,
            polls=polls,
        )
    except ConnectorError as exc:  # a failed job, one past the maximum wait, or any error
        status = exc.status if isinstance(exc, JobError) else ""
        kind, message = type(exc).__name__, str(exc)
        return {
            "event": "error",
            "error": kind,
            "message": message,
            "job_id": job_id,
            "status": status,
        }
    return {"event": "done" if found["done"] else "running", "job_id": job_id, **found}


class MixpanelJobTrigger(BaseTrigger):
    """Asks a job's status every `interval_s` (the action's `wait:` spec) until it is done.

    The status request is the runtime's own (the same as a blocking task's), made in a thread.
    Fires one event: `{"event": "done", "job_id", "status", "data"}`, or `{"event": "error",
    "error", "message", "job_id", "status"}` for a failed job, a job still running after
    `max_wait_s`, or any other error (the task then fails with that message and the job's id).
    """

    def __init__(
        self,
        *,
        conn_id: str,
        action: str,
        job_id: str,
        inputs: dict[str, Any],
        interval_s: float,
        max_wait_s: float,
        started: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id, self.action, self.job_id = conn_id, action, job_id
        self.inputs, self.interval_s, self.max_wait_s = dict(inputs), interval_s, max_wait_s
        self.started = time.time() if started is None else started

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and the arguments that rebuild this trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "action": self.action,
                "job_id": self.job_id,
                "inputs": self.inputs,
                "interval_s": self.interval_s,
                "max_wait_s": self.max_wait_s,
                "started": self.started,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the job is done or an error ends the wait; yield that one event."""
        hook = MixpanelHook(mixpanel_conn_id=self.conn_id)
        # The connection is fetched on the triggerer's loop; loading the component and each
        # status request run in a thread, so the loop (shared by every trigger) never blocks.
        await asyncio.to_thread(hook.use_connection, await hook.aget_connection(self.conn_id))
        polls = 0
        while True:
            polls += 1
            waited = max(0.0, time.time() - self.started)
            payload = await asyncio.to_thread(
                _checked, hook, self.action, self.job_id, self.inputs, waited, polls
            )
            if payload["event"] != "running":
                yield TriggerEvent(payload)
                return
            self.log.info(
                "Mixpanel job %s of %s is %s: checking again in %.0f s",
                self.job_id,
                self.action,
                payload["status"],
                self.interval_s,
            )
            remaining = self.max_wait_s - (time.time() - self.started)
            await asyncio.sleep(max(0.0, min(self.interval_s, remaining)))
