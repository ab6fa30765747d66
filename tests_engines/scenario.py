"""One scenario both engines run against the sandbox: an action of every kind, and its checks."""

from __future__ import annotations

import calendar
import time
from typing import Any

from connector.sandbox import Sandbox

PROFILE_ID = "engine-user-1"
# What Mixpanel sees when a run does ingest, profile, query, export and pipeline in that order.
EVERY_KIND_PATHS = [
    "/import",
    "/engage",
    "/api/query/engage",
    "/api/2.0/export",
    "/api/2.0/nessie/pipeline/create",
]


def today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


def events(n: int = 3, prefix: str = "eng") -> list[dict[str, Any]]:
    """Recent events of today (UTC), which an export of today() returns."""
    midnight = calendar.timegm((*time.gmtime()[:3], 0, 0, 0))
    now = max(int(time.time()) - 120, midnight)
    return [
        {
            "event": "Played",
            "properties": {
                "distinct_id": PROFILE_ID,
                "time": now + i,
                "$insert_id": f"{prefix}{i}",
            },
        }
        for i in range(n)
    ]


def imported(result: dict[str, Any]) -> tuple[int, int, int]:
    """What an importEvents result says was sent, imported and failed."""
    data = result["data"]
    return data["records_sent"], data["num_records_imported"], data["records_failed"]


def exported(path: str, count: int) -> dict[str, Any]:
    """An export's summary (its XCom or task result) for one day and no cut."""
    return {"path": path, "count": count, "days": 1, "resumed_cuts": 0}


def profile_inputs() -> dict[str, Any]:
    return {"properties": [{"$distinct_id": PROFILE_ID, "$set": {"plan": "pro"}}]}


def pipeline_inputs(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "project_id": sandbox.project_id,
        "gcs_bucket": "engine-exports",
        "gcs_region": "us-east1",
        "from_date": today(),
    }


def export_inputs(sandbox: Sandbox) -> dict[str, Any]:
    return {"project_id": sandbox.project_id, "from_date": today(), "to_date": today()}


#: A project token carried inside events (the SDK's format), which no engine may show.
RECORD_TOKEN = "RECORDTOKEN-engine-5a5a5a5a5a5a"


def token_events(project_token: str) -> list[dict[str, Any]]:
    """An event the sandbox takes, then one refused (300 properties) that carries RECORD_TOKEN."""
    good, refused = events(2, prefix="tok")
    good["properties"]["token"] = project_token
    refused["properties"].update(token=RECORD_TOKEN, **{f"p{n}": n for n in range(300)})
    return [good, refused]
