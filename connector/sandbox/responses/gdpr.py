"""The GDPR API (/api/app/data-retrievals, /api/app/data-deletions) and lookup tables."""

from __future__ import annotations

from typing import Any

from ..models.base import Body, ModelError
from ..models.jobs import DELETIONS, LOOKUP_TABLES, RETRIEVALS, job_status, parse_table
from ..reply import Call, Reply, json_reply
from .app import body_of

#: Where a finished retrieval's export is said to be (the sandbox keeps no export file).
EXPORT_LINK = "https://sandbox.invalid/gdpr-exports/{}"


def _created(call: Call, family: Any) -> Reply:
    body = body_of(call)
    job = call.sandbox.store.resources.create(family, call.context(), body)
    return json_reply(201, {"status": "ok", "results": {"task_id": job["tracking_id"]}})


def _job(call: Call, family: Any) -> Body:
    found = call.sandbox.store.resources.get(family, call.context(), call.path_params["job"])
    if found is None:
        raise ModelError(404, f"no job with tracking id {call.path_params['job']!r}")
    return found


def create_retrieval(call: Call) -> Reply:
    """POST /data-retrievals/v3.0: a retrieval job, answered with its task_id."""
    return _created(call, RETRIEVALS)


def create_deletion(call: Call) -> Reply:
    """POST /data-deletions/v3.0: a deletion job, answered with its task_id."""
    return _created(call, DELETIONS)


def get_retrieval(call: Call) -> Reply:
    """GET /data-retrievals/v3.0/{id}: the status, and the export's link once it succeeded."""
    job = _job(call, RETRIEVALS)
    link = EXPORT_LINK.format(job["tracking_id"]) if job["status"] == "SUCCESS" else ""
    results = {"status": job["status"], "results": link, "distinct_ids": job["distinct_ids"]}
    return json_reply(200, {"status": "ok", "results": results})


def get_deletion(call: Call) -> Reply:
    """GET /data-deletions/v3.0/{id}: the deletion job's details and status."""
    job = _job(call, DELETIONS)
    results = {
        "tracking_id": job["tracking_id"],
        "status": job["status"],
        "requesting_user": call.sandbox.username,
        "compliance_type": job["compliance_type"],
        "project_id": job["project_id"],
        "date_requested": str(job["date_requested"]).rstrip("Z"),
        "distinct_ids": job["distinct_ids"],
    }
    return json_reply(200, {"status": "ok", "results": results})


def cancel_deletion(call: Call) -> Reply:
    """DELETE /data-deletions/v3.0/{id}: a job still in progress is revoked (204)."""
    ctx, resources = call.context(), call.sandbox.store.resources
    job = _job(call, DELETIONS)
    if job["status"] not in ("PENDING", "STAGING"):
        raise ModelError(400, f"the deletion is {job['status']}; only a job in progress cancels")

    def revoke(found: dict[str, Body | None]) -> dict[str, Body | None]:
        return {k: {**v, "revoked": True} if v else v for k, v in found.items()}

    resources.modify(DELETIONS, ctx, [job["tracking_id"]], revoke)
    return Reply(204, b"", content_type="")


def list_tables(call: Call) -> Reply:
    """GET /lookup-tables: every table's id and name."""
    tables = call.sandbox.store.resources.list(LOOKUP_TABLES, call.context(), order="id")
    results = [{"id": t["id"], "name": t["name"]} for t in tables]
    return json_reply(200, {"code": 200, "status": "OK", "results": results})


def replace_table(call: Call) -> Reply:
    """PUT /lookup-tables/{id}: the table's rows replaced by the CSV body."""
    ctx, resources = call.context(), call.sandbox.store.resources
    rid = call.path_params["table"]
    table = resources.get(LOOKUP_TABLES, ctx, rid)
    if table is None:
        raise ModelError(404, f"Lookup table with id '{rid}' was not found.")
    if call.content_type != "text/csv":
        raise ModelError(400, f"the body must be text/csv, not {call.content_type or 'none'}")
    resources.put(LOOKUP_TABLES, ctx, rid, {**table, **parse_table(call.body)})
    return json_reply(200, {"code": 200, "status": "OK"})


def status_of(body: Body, call: Call) -> str:
    """A stored job's status now (for the live view and tests)."""
    return job_status(body, call.context())
