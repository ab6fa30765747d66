"""GDPR jobs and lookup tables: families whose rules are time (a job's status) and CSV tables."""

from __future__ import annotations

import csv
import io
from typing import Any

from .base import Body, Context, Family, Hooks, ModelError

#: A job is PENDING for its first second, STAGING until its third, then SUCCESS (or FAILURE).
STAGING_AFTER_MS = 1000
DONE_AFTER_MS = 3000
#: A distinct id that makes its job fail, so that clients can see a failed job.
FAIL_ON_REQUEST = "sandbox-fail"
#: Mixpanel's limit on one lookup table's CSV body.
MAX_TABLE_BYTES = 100 * 2**20


def _job_created(body: Body, ctx: Context) -> Body:
    ids = body.get("distinct_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ModelError(400, "distinct_ids must be a non-empty list of strings", "distinct_ids")
    compliance = body.get("compliance_type") or "GDPR"
    if compliance not in ("GDPR", "CCPA"):
        raise ModelError(400, "compliance_type must be GDPR or CCPA", "compliance_type")
    return {
        **body,
        "compliance_type": compliance,
        "project_id": int(ctx.project_id) if ctx.project_id.isdigit() else ctx.project_id,
        "created_ms": ctx.now_ms(),
    }


def _job_status(body: Body, ctx: Context) -> str:
    if body.get("revoked"):
        return "REVOKED"
    age = ctx.now_ms() - int(body.get("created_ms") or 0)
    if age < STAGING_AFTER_MS:
        return "PENDING"
    if age < DONE_AFTER_MS:
        return "STAGING"
    return "FAILURE" if FAIL_ON_REQUEST in body.get("distinct_ids", ()) else "SUCCESS"


def _job_view(body: Body, ctx: Context) -> Body:
    viewed = {k: v for k, v in body.items() if k not in ("created_ms", "revoked")}
    return {**viewed, "status": _job_status(body, ctx)}


def job_status(body: Body, ctx: Context) -> str:
    """A stored job's status now (PENDING, STAGING, SUCCESS, FAILURE or REVOKED)."""
    return _job_status(body, ctx)


JOB_HOOKS = Hooks(on_create=_job_created, view=_job_view)
#: Data retrievals: `{"tracking_id", "distinct_ids", "compliance_type", "disclosure_type"}`.
RETRIEVALS = Family(
    "gdpr_retrievals",
    id_field="tracking_id",
    id_kind="uuid",
    created_field="date_requested",
    hooks=JOB_HOOKS,
)
#: Data deletions: the same, and a deletion can be cancelled while it runs (REVOKED).
DELETIONS = Family(
    "gdpr_deletions",
    id_field="tracking_id",
    id_kind="uuid",
    created_field="date_requested",
    hooks=JOB_HOOKS,
)
#: Lookup tables: `{"id", "name", "columns", "rows"}`, replaced whole by a CSV body.
LOOKUP_TABLES = Family("lookup_tables", id_kind="given", required=("name",))


def parse_table(content: bytes) -> dict[str, Any]:
    """The columns and rows of a lookup table's CSV (400 for an empty or ragged table)."""
    if len(content) > MAX_TABLE_BYTES:
        raise ModelError(413, f"the table is {len(content)} bytes; the limit is {MAX_TABLE_BYTES}")
    try:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ModelError(400, f"the body is not CSV text: {exc}") from None
    if not rows or not rows[0]:
        raise ModelError(400, "the CSV has no header line")
    header, records = rows[0], rows[1:]
    ragged = [n for n, row in enumerate(records) if len(row) != len(header)]
    if ragged:
        raise ModelError(400, f"row {ragged[0]} has not {len(header)} columns", "failed_records")
    return {"columns": header, "rows": records}
