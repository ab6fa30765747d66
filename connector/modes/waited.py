"""Jobs that finish later: create (or resume) one, then poll its status action until it is done."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..budgets.limits import format_duration
from ..budgets.notice import NOTICE_AFTER_S
from ..call import Call
from ..core.paths import dotted
from ..core.templates import as_bool, evaluate, input_context, render_value
from ..core.values import is_missing
from ..errors import JobError, JobFailed, JobTimeout, RenderError
from .single import send_once

__all__ = [
    "DEFAULT_INTERVAL_S",
    "DEFAULT_MAX_WAIT_S",
    "check_status",
    "job_status_call",
    "run_waited",
    "start_job",
    "wait_asked",
]

#: Seconds between polls, and the longest wait, when the spec declares none.
DEFAULT_INTERVAL_S = 5.0
DEFAULT_MAX_WAIT_S = 3600.0

waits_log = logging.getLogger("connector.waits")


def _seconds(call: Call, name: str, default: float) -> float:
    """`wait.<name>` rendered over the inputs, as positive seconds."""
    value = render_value(
        call.op.wait.get(name, default),
        input_context(call.values, call.connection),
        action=call.op.key,
        field=f"wait.{name}",
    )
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise RenderError(call.op.key, f"wait.{name}", f"{value!r} is not a positive number")
    return seconds


def _status_of(answer: Any, path: str) -> Any:
    """The status at the dotted `path` of the status action's answer, or None."""
    node = answer
    for key in dotted(path):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _status_call(call: Call, job_id: str) -> Call:
    """The status action, bound to its inputs for `job_id` (checked like any call's)."""
    wait = call.op.wait
    context = {**input_context(call.values, call.connection), "job_id": job_id}
    inputs = render_value(wait["inputs"], context, action=call.op.key, field="wait.inputs")
    status_op = call.settings.spec.actions[wait["status"]]
    return Call.bind(call.settings, status_op, inputs, call.connection, call.options)


def _job_of(call: Call, answer: Any) -> str:
    """The job id the action's answer names."""
    context = {**input_context(call.values, call.connection), "body": answer}
    try:
        job_id = render_value(
            call.op.wait["job_id"], context, action=call.op.key, field="wait.job_id"
        )
    except RenderError:  # the answer lacks the field the template reads
        job_id = None
    if is_missing(job_id):
        message = f"{call.op.label}: the answer names no job to wait for (wait.job_id is empty)"
        raise JobError(message)
    return str(job_id)


def _is(status: Any, values: list[Any]) -> bool:
    return str(status) in {str(v) for v in values}


def _resume_hint(call: Call, job_id: str) -> str:
    resume = call.op.wait.get("resume")
    if not resume:
        return ""
    spec = call.op.input(resume)
    return f" Run {call.op.label} again with {spec.describe()} = {job_id} to wait for it again."


def check_status(
    call: Call, status_call: Call, job_id: str, *, waited_s: float, polls: int = 1
) -> tuple[bool, Any, Any]:
    """Ask the job's status once: (done, status, answer).

    Raises JobFailed on a failed status, JobError on an answer without one, JobTimeout when
    the job still runs after `waited_s` reached the maximum wait (wait.max_wait_s).
    """
    wait, label = call.op.wait, call.op.label
    answer = send_once(status_call)
    status = _status_of(answer, wait["field"])
    call.settings.progress.update(
        {"job": job_id, "status": str(status), "polls": polls, "waiting": ""}
    )
    if _is(status, wait["done"]):
        return True, status, answer
    said = f"{status_call.op.label} says {wait['field']} = {status!r}"
    if _is(status, wait["failed"]):
        failed = ", ".join(str(v) for v in wait["failed"])
        message = f"{label}: job {job_id} failed: {said}, a failed status ({failed})."
        raise JobFailed(message, job_id=job_id, status=str(status))
    if status is None:
        message = f"{label}: job {job_id}: {status_call.op.label}'s answer has no {wait['field']}."
        raise JobError(message, job_id=job_id)
    if waited_s >= _seconds(call, "max_wait_s", DEFAULT_MAX_WAIT_S):
        message = (
            f"{label}: job {job_id} is still running after {format_duration(waited_s)} "
            f"(the most this call waits, wait.max_wait_s): {said}."
        )
        raise JobTimeout(message + _resume_hint(call, job_id), job_id=job_id, status=str(status))
    return False, status, answer


def _poll(call: Call, status_call: Call, job_id: str) -> Any:
    """Poll until the job is done (its last answer), failed (JobFailed) or too slow."""
    clock, label = call.settings.clock, call.op.label
    interval = _seconds(call, "interval_s", DEFAULT_INTERVAL_S)
    max_wait = _seconds(call, "max_wait_s", DEFAULT_MAX_WAIT_S)
    started, polls = clock.monotonic(), 0
    while True:
        polls += 1
        waited = clock.monotonic() - started
        done, status, answer = check_status(call, status_call, job_id, waited_s=waited, polls=polls)
        if done:
            return answer
        pause = min(interval, max_wait - waited)
        notice = (
            f"{label}: job {job_id} is {status}: checking again in {format_duration(pause)} "
            f"(waited {format_duration(waited)} of at most {format_duration(max_wait)})"
        )
        if pause > NOTICE_AFTER_S:
            waits_log.warning("%s", notice)
        call.settings.show_wait(notice)
        clock.sleep(pause)


def wait_asked(call: Call) -> dict[str, float] | None:
    """`{"interval_s", "max_wait_s"}` when the action waits for a job and its inputs ask to."""
    if not call.op.wait:
        return None
    context = input_context(call.values, call.connection)
    enabled = evaluate(call.op.wait["enabled"], context, action=call.op.key, field="wait.enabled")
    if not as_bool(enabled):
        return None
    return {
        "interval_s": _seconds(call, "interval_s", DEFAULT_INTERVAL_S),
        "max_wait_s": _seconds(call, "max_wait_s", DEFAULT_MAX_WAIT_S),
    }


def start_job(call: Call) -> str:
    """Create the job and return its id, or the id the resume input names (nothing created)."""
    resumed = call.values.get(call.op.wait.get("resume") or "")
    if is_missing(resumed):
        return _job_of(call, send_once(call))
    return str(resumed)


def job_status_call(call: Call, job_id: str) -> Call:
    """The status action's call for the job `job_id` of `call`'s action."""
    return _status_call(call, job_id)


def run_waited(call: Call) -> Any:
    """Create the job (or take the resumed one) and, when the inputs ask, wait until it is done.

    Without waiting, the answer is the action's own (or, resumed, the job's status once).
    """
    wait = call.op.wait
    context = input_context(call.values, call.connection)
    enabled = as_bool(evaluate(wait["enabled"], context, action=call.op.key, field="wait.enabled"))
    resumed = call.values.get(wait.get("resume") or "")
    if is_missing(resumed):
        answer = send_once(call)
        if not enabled:
            return answer
        job_id = _job_of(call, answer)
    else:
        job_id = str(resumed)
    status_call = _status_call(call, job_id)
    if not enabled:
        return send_once(status_call)
    return _poll(call, status_call, job_id)
