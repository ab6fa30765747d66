"""The tour's steps: the first actions and data sources, then every family's (tour_families)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..models.base import Context, Family
from ..models.jobs import DELETIONS, RETRIEVALS
from ..server import Sandbox
from ..tour_families import STEPS as FAMILY_STEPS

Inputs = Callable[[Sandbox], dict[str, Any]]
Summary = Callable[[Any], str]
ANON_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"


@dataclass(frozen=True)
class Step:
    """One operation of the tour; `expect_error` marks JQL, which the sandbox refuses."""

    key: str
    inputs: Inputs
    summary: Summary
    expect_error: str = ""


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _events(sb: Sandbox) -> list[dict[str, Any]]:
    now = int(time.time()) - 300
    plan = [("user-alice", ["App Open", "Signed Up", "Purchase"]), ("user-bob", ["App Open"])]
    return [
        {
            "event": name,
            "properties": {
                "distinct_id": who,
                "time": now + i * 10,
                "$insert_id": f"tour-{who}-{i}",
                "source": "tour",
            },
        }
        for who, names in plan
        for i, name in enumerate(names)
    ]


def _pid(extra: dict[str, Any] | None = None) -> Inputs:
    return lambda sb: {"project_id": sb.project_id, **(extra or {})}


def _count(what: str) -> Summary:
    return lambda data: f"{len(data)} {what}"


def _pipeline_names(data: Any) -> str:
    return "created " + ", ".join(data.get("pipeline_names", []))


def _funnel(data: Any) -> str:
    steps = next(iter(data["data"].values()))["steps"] if data.get("data") else []
    return "step counts " + " → ".join(f"{s['goal']} {s['count']}" for s in steps)


def _insights(data: Any) -> str:
    return ", ".join(f"{name}: {sum(days.values())}" for name, days in data["series"].items())


def _latest(family: Family) -> Inputs:
    """The newest job of `family` (created by the step before), as the status inputs."""

    def inputs(sb: Sandbox) -> dict[str, Any]:
        jobs = sb.store.resources.list(family, Context(clock=sb.clock))
        return {"tracking_id": jobs[-1]["tracking_id"] if jobs else "none"}

    return inputs


def _fresh_deletion(sb: Sandbox) -> dict[str, Any]:
    """A deletion created just now, still in progress, for the cancel step."""
    ctx = Context(clock=sb.clock, project_id=sb.project_id)
    job = sb.store.resources.create(DELETIONS, ctx, {"distinct_ids": ["user-carol"]})
    return {"tracking_id": job["tracking_id"]}


def _job(data: Any) -> str:
    results = data.get("results") or {}
    return "job created" if results.get("task_id") else f"job {results.get('status')}"


TABLE = "55b4fb2b-e8de-466c-930f-8b36640b9b5e"
STEPS: tuple[Step, ...] = (
    Step(
        "trackEvents",
        lambda sb: {
            "events": [
                {"event": "App Open", "properties": {"distinct_id": "user-carol", "source": "tour"}}
            ]
        },
        lambda d: "accepted (1)" if d == 1 else f"answered {d!r}",
    ),
    Step(
        "importEvents",
        lambda sb: {"events": _events(sb), "project_id": sb.project_id},
        lambda d: f"{d['num_records_imported']} events imported",
    ),
    Step(
        "createAlias",
        lambda sb: {"alias": "alice@example.com", "distinct_id": "user-alice"},
        lambda d: "alice@example.com → user-alice",
    ),
    Step(
        "createIdentity",
        lambda sb: {"identified_id": "user-bob", "anon_id": ANON_ID},
        lambda d: "anonymous device merged into user-bob",
    ),
    Step(
        "createProfile",
        lambda sb: {
            "properties": [
                {"$distinct_id": "user-alice", "$set": {"$name": "Alice", "plan": "pro"}},
                {"$distinct_id": "user-bob", "$set": {"$name": "Bob", "plan": "free"}},
            ]
        },
        lambda d: "2 profiles set",
    ),
    Step(
        "updateMultipleProfiles",
        lambda sb: {
            "propertiesToUpdate": [
                {"$distinct_id": "alice@example.com", "$add": {"logins": 3}},
                {"$distinct_id": "user-alice", "$union": {"tags": ["beta"]}},
            ]
        },
        lambda d: "2 updates applied (one through the alias)",
    ),
    Step(
        "queryProfiles",
        _pid({"where": 'properties["plan"] == "pro"'}),
        lambda d: (
            f"{d['total']} pro profile(s): "
            + ", ".join(r["$properties"].get("$name", "?") for r in d["results"])
        ),
    ),
    Step(
        "deleteProfile",
        lambda sb: {"deleteProfiles": [{"$distinct_id": "user-bob", "$delete": ""}]},
        lambda d: "user-bob deleted",
    ),
    Step("listSavedFunnels", _pid(), _count("saved funnels")),
    Step("funnels", _pid(), lambda d: f"{len(d)} picklist entries"),
    Step(
        "queryFunnelSavedReports",
        lambda sb: {
            "project_id": sb.project_id,
            "funnel_id": "7509",
            "from_date": _today(),
            "to_date": _today(),
        },
        _funnel,
    ),
    Step("queryInsightsSavedReports", _pid({"bookmark_id": "44592511"}), _insights),
    Step(
        "downloadData",
        lambda sb: {"project_id": sb.project_id, "from_date": _today(), "to_date": _today()},
        _count("raw events exported"),
    ),
    Step(
        "createGCSPipeline",
        _pid({"gcs_bucket": "tour-bucket", "gcs_region": "us-central1", "trial": "true"}),
        _pipeline_names,
    ),
    Step(
        "createGenericPipeline",
        lambda sb: {
            "url": "/nessie/pipeline/create",
            "method": "POST",
            "responseType": "json",
            "formData": {
                "type": "s3-raw",
                "project_id": sb.project_id,
                "from_date": _today(),
                "s3_bucket": "tour",
                "s3_region": "us-east-1",
                "s3_role": "arn:tour",
            },
        },
        _pipeline_names,
    ),
    Step("pipelines", _pid(), lambda d: f"{len(d)} picklist entries"),
    Step("listPipelines", _pid(), lambda d: f"{sum(len(v) for v in d.values())} active pipelines"),
    Step(
        "getPipeline",
        _pid({"name": "trial-events-daily-gcs-raw"}),
        lambda d: ", ".join(f"{len(v)} {k}" for k, v in d.items()) or "no runs yet",
    ),
    Step(
        "editGCSPipeline",
        _pid({"name": "trial-events-daily-gcs-raw", "events": "Purchase"}),
        lambda d: "events limited to Purchase",
    ),
    Step(
        "editGenericPipeline",
        lambda sb: {
            "name": "events-daily-s3-raw",
            "url": "/nessie/pipeline/edit",
            "method": "POST",
            "responseType": "text",
            "formData": {"project_id": sb.project_id, "where": "true"},
        },
        lambda d: "where changed",
    ),
    Step("deletePipeline", _pid({"name": "events-daily-s3-raw"}), lambda d: "pipeline canceled"),
    Step(
        "rawRequest",
        lambda sb: {
            "baseUrl": "https://mixpanel.com",
            "url": "/api/query/funnels/list",
            "method": "GET",
            "responseType": "json",
            "queryParams": {"project_id": sb.project_id},
        },
        _count("saved funnels via a raw GET"),
    ),
    Step("createDataRetrieval", lambda sb: {"distinct_ids": "user-alice"}, _job),
    Step("getDataRetrievalStatus", _latest(RETRIEVALS), _job),
    Step("createDataDeletion", lambda sb: {"distinct_ids": "user-bob"}, _job),
    Step("getDataDeletionStatus", _latest(DELETIONS), _job),
    Step("cancelDataDeletion", _fresh_deletion, lambda d: "deletion cancelled"),
    Step("listLookupTables", _pid(), lambda d: f"{len(d['results'])} lookup tables"),
    Step(
        "replaceLookupTable",
        _pid({"lookupTableId": TABLE, "rows": [{"id": "acme", "plan": "pro"}]}),
        lambda d: f"lookup table replaced: {d['status']}",
    ),
    Step(
        "customJQLQuery",
        _pid({"script": "function main() { return Events(params); }"}),
        lambda d: "unexpected answer",
        expect_error="does not run JQL",
    ),
    *(Step(key, inputs, summary) for key, inputs, summary in FAMILY_STEPS),
)
