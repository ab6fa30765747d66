"""Jobs that finish later, step by step: whether to wait, start the job, ask its status once.

`Component.run` waits for a job in one blocking call. A scheduler that can free the worker
while a job runs (a deferring task) takes the same steps apart: `job_wait` says whether the
action's `wait:` spec and inputs ask to wait (and how often to ask, for how long), `start_job`
creates the job (or takes the one the resume input names) and `check_job` asks its status
once, with the same errors as the blocking call (JobFailed, JobTimeout naming the job's id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .modes import waited

if TYPE_CHECKING:
    from .component import Component

__all__ = ["check_job", "job_wait", "start_job"]


def job_wait(
    component: Component, action: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
) -> dict[str, float] | None:
    """`{"interval_s", "max_wait_s"}` when `action` waits for a job and `inputs` ask it to.

    None for an action without a `wait:` spec, or whose inputs leave waiting off.

    Raises:
        InputError: an input is invalid (nothing is sent).
    """
    return waited.wait_asked(component.bind(action, inputs, connection))


def start_job(
    component: Component, action: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
) -> str:
    """Create the action's job and return its id (or the resumed job's, creating nothing)."""
    call = component.bind(action, inputs, connection)
    if not call.op.wait:
        raise ValueError(f"{call.op.label} ({action}) starts no job: it has no wait spec")
    return waited.start_job(call)


def check_job(
    component: Component,
    action: str,
    job_id: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    waited_s: float = 0.0,
    polls: int = 1,
) -> dict[str, Any]:
    """Ask the status of `action`'s job `job_id` once: `{"done", "status", "data"}`.

    `data` is the status action's answer (with `done`, what the blocking call returns).
    `waited_s`: how long the caller has waited so far, checked against the maximum wait.

    Raises:
        JobFailed: the job reported a failed status.
        JobTimeout: the job still runs and `waited_s` reached the action's maximum wait.
        JobError: the status answer holds no status.
    """
    call = component.bind(action, inputs, connection)
    status_call = waited.job_status_call(call, job_id)
    done, status, answer = waited.check_status(
        call, status_call, job_id, waited_s=waited_s, polls=polls
    )
    return {"done": done, "status": None if status is None else str(status), "data": answer}
