"""Data pipelines (/api/2.0/nessie/pipeline/*): create, edit, cancel, pause, status, jobs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from ..models.base import Context
from ..models.families import PIPELINES
from ..reply import Call, Problem, Reply, error, json_reply

REQUIRED = {
    "gcs-raw": ("gcs_bucket", "gcs_region"),
    "s3-raw": ("s3_bucket", "s3_region", "s3_role"),
    "azure-raw": ("storage_account", "container_name"),
}
MAX_PAST_DAYS = 183  # "cannot be more than six months in the past"
STATUS_DAYS = 30


def _form(call: Call) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {k: [v] for k, v in call.params.items()}
    if call.content_type == "application/x-www-form-urlencoded":
        for key, value in parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True):
            values.setdefault(key, [])
            if value not in values[key]:
                values[key].append(value)
    return values


def _one(form: dict[str, list[str]], key: str) -> str:
    return form.get(key, [""])[-1]


def _bad(message: str, status: int = 400) -> Problem:
    return Problem(error(status, message))


def _scope(call: Call) -> Context:
    return call.context(project_id=call.sandbox.project_id)


def _load(call: Call, name: str, status: int = 400) -> dict[str, Any]:
    found = call.sandbox.store.resources.get(PIPELINES, _scope(call), name) if name else None
    if found is None:
        raise _bad(f"no pipeline named {name!r} in this project", status)
    return found


def _save(call: Call, name: str, params: dict[str, Any], state: str) -> None:
    body = {"name": name, "params": params, "state": state}
    call.sandbox.store.resources.put(PIPELINES, _scope(call), name, body)


def create(call: Call) -> Reply:
    """Create a pipeline; its name is `[trial-]<data_source>-<frequency>-<type>`."""
    form = _form(call)
    kind = _one(form, "type")
    if not kind:
        raise _bad("type is required, e.g. gcs-raw, s3-raw, azure-raw, bigquery, snowflake")
    trial = _one(form, "trial").lower() == "true"
    today = dt.datetime.now(dt.UTC).date()
    from_text = _one(form, "from_date") or (
        (today - dt.timedelta(days=1)).isoformat() if trial else ""
    )
    if not from_text:
        raise _bad("from_date is required unless trial is true")
    try:
        from_date = dt.date.fromisoformat(from_text)
        to_date = dt.date.fromisoformat(_one(form, "to_date")) if _one(form, "to_date") else None
    except ValueError:
        raise _bad("from_date and to_date must be dates yyyy-mm-dd") from None
    if from_date < today - dt.timedelta(days=MAX_PAST_DAYS):
        raise _bad("from_date cannot be more than six months in the past")
    if to_date is not None and to_date < from_date:
        raise _bad("to_date must not be before from_date")
    missing = [key for key in REQUIRED.get(kind, ()) if not _one(form, key)]
    if missing:
        raise _bad(f"{', '.join(missing)} required for a {kind} pipeline")
    frequency = _one(form, "frequency") or "daily"
    if frequency not in ("daily", "hourly"):
        raise _bad("frequency must be daily or hourly")
    source = _one(form, "data_source") or "events"
    name = f"{'trial-' if trial else ''}{source}-{frequency}-{kind}"
    existing = call.sandbox.store.resources.get(PIPELINES, _scope(call), name)
    if existing is not None and existing["state"] != "canceled":
        raise _bad(f"a pipeline named {name} already exists; edit or cancel it first")
    params = {k: v if len(v) > 1 else v[0] for k, v in form.items() if k != "project_id"}
    params.update(
        from_date=from_date.isoformat(),
        to_date=to_date.isoformat() if to_date else "",
        frequency=frequency,
    )
    _save(call, name, params, "active")
    return json_reply(200, {"pipeline_names": [name]})


def edit(call: Call) -> Reply:
    """Change a pipeline's `events` or `where`."""
    form = _form(call)
    pipeline = _load(call, _one(form, "name"))
    for key in ("events", "where"):
        if key in form:
            pipeline["params"][key] = form[key] if len(form[key]) > 1 else form[key][0]
    _save(call, pipeline["name"], pipeline["params"], pipeline["state"])
    return Reply(200, b"", "text/plain")


def _state(new: str, status: int = 400) -> Callable[[Call], Reply]:
    def change(call: Call) -> Reply:
        pipeline = _load(call, _one(_form(call), "name"), status)
        _save(call, pipeline["name"], pipeline["params"], new)
        return Reply(200, b"", "text/plain")

    change.__doc__ = f"Set a pipeline's state to {new}."
    return change


def _run(call: Call, pipeline: dict[str, Any], day: dt.date, state: str) -> dict[str, Any]:
    return {
        "project_id": int(call.sandbox.project_id),
        "name": pipeline["name"],
        "state": state,
        "last_finish": f"{day + dt.timedelta(days=1)}T00:10:00Z",
        "run_at": f"{day + dt.timedelta(days=1)}T00:00:00Z",
        "from_date": day.isoformat(),
        "to_date": day.isoformat(),
    }


def status(call: Call) -> Reply:
    """The pipeline's daily runs so far, grouped by state."""
    form = _form(call)
    pipeline = _load(call, _one(form, "name"))
    params = pipeline["params"]
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    last = (
        min(yesterday, dt.date.fromisoformat(params["to_date"])) if params["to_date"] else yesterday
    )
    first = max(
        dt.date.fromisoformat(params["from_date"]), last - dt.timedelta(days=STATUS_DAYS - 1)
    )
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    wanted = set(form.get("status", [])) or {"succeeded", "canceled", "retried"}
    result: dict[str, list[dict[str, Any]]] = {}
    if "succeeded" in wanted:
        result["succeeded"] = [_run(call, pipeline, d, "succeeded") for d in days]
    if "canceled" in wanted and pipeline["state"] == "canceled":
        result["canceled"] = [_run(call, pipeline, yesterday, "canceled")]
    if _one(form, "summary").lower() == "true":
        return json_reply(200, {k: len(v) for k, v in result.items()})
    return json_reply(200, result)


def jobs(call: Call) -> Reply:
    """Active pipelines of the project, keyed by project id."""
    found = call.sandbox.store.resources.list(
        PIPELINES, _scope(call), lambda p: p["state"] != "canceled"
    )
    items = []
    for pipeline in found:
        when = dt.datetime.fromisoformat(pipeline["created"]).strftime("%Y-%m-%d %H:%M:%S UTC")
        items.append(
            {
                "name": pipeline["name"],
                "Dispatcher": "backfill",
                "last_dispatched": when,
                "frequency": pipeline["params"].get("frequency", "daily"),
                "sync_enabled": "false" if pipeline["state"] == "paused" else "true",
            }
        )
    return json_reply(200, {call.sandbox.project_id: items})


def timeline(call: Call) -> Reply:
    """The pipeline's runs in time order."""
    pipeline = _load(call, _one(_form(call), "name"))
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    return json_reply(200, {"timeline": [_run(call, pipeline, yesterday, "succeeded")]})


cancel = _state("canceled")
pause = _state("paused", 404)
resume = _state("active", 404)
