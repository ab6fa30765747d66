"""The tour's family steps for profiles, groups, identities, queries, cohorts and pipelines."""

from __future__ import annotations

from typing import Any

from .common import FamilyStep, Inputs, count, project, status, today


def _dates(**extra: Any) -> Inputs:
    return lambda sb: {
        "project_id": sb.project_id,
        "from_date": today(),
        "to_date": today(),
        **extra,
    }


def _updates(op: str, value: Any, group: bool = False) -> Inputs:
    who = (
        {"$group_key": "Company", "$group_id": "Acme"} if group else {"$distinct_id": "user-alice"}
    )
    key = "groupUpdates" if group else "profileUpdates"
    return lambda sb: {key: [{**who, op: value}]}


STEPS: tuple[FamilyStep, ...] = (
    ("setProfilePropertyOnce", _updates("$set_once", {"first_seen": "2024-01-01"}), status),
    ("incrementProfileProperty", _updates("$add", {"logins": 1}), status),
    ("unionProfileListProperty", _updates("$union", {"tags": ["vip"]}), status),
    ("appendToProfileListProperty", _updates("$append", {"tags": "early"}), status),
    ("removeFromProfileListProperty", _updates("$remove", {"tags": "early"}), status),
    ("deleteProfileProperty", _updates("$unset", ["first_seen"]), status),
    ("setGroupProperty", _updates("$set", {"plan": "enterprise"}, True), status),
    ("setGroupPropertyOnce", _updates("$set_once", {"founded": "1999"}, True), status),
    ("unionGroupListProperty", _updates("$union", {"regions": ["eu"]}, True), status),
    ("removeFromGroupListProperty", _updates("$remove", {"regions": "us"}, True), status),
    ("deleteGroupProperty", _updates("$unset", ["founded"], True), status),
    (
        "updateMultipleGroups",
        lambda sb: {
            "groupsToUpdate": [
                {"$group_key": "Company", "$group_id": "Initech", "$set": {"plan": "pro"}}
            ]
        },
        status,
    ),
    ("deleteGroup", _updates("$delete", "", True), status),
    (
        "mergeIdentities",
        project(distinct_ids=["user-carol", "user-dave"]),
        lambda d: f"{d['num_records_imported']} merge event imported",
    ),
    ("queryRetention", _dates(born_event="App Open"), count("cohort day(s)")),
    (
        "queryFrequency",
        _dates(event="App Open", unit="day", addiction_unit="hour"),
        lambda d: f"{len(d['data'])} day(s)",
    ),
    (
        "querySegmentation",
        _dates(event="App Open"),
        lambda d: f"{len(d['data']['values'])} segment(s)",
    ),
    ("querySegmentationNumeric", _dates(event="Purchase", on='properties["amount"]'), status),
    ("querySegmentationSum", _dates(event="Purchase", on='properties["amount"]'), status),
    ("querySegmentationAverage", _dates(event="Purchase", on='properties["amount"]'), status),
    (
        "queryActivityStream",
        _dates(distinct_ids='["user-alice"]'),
        lambda d: f"{len(d['results']['events'])} event(s) of user-alice",
    ),
    ("listCohorts", project(), count("saved cohorts")),
    ("lookupTables", project(), count("picklist entries")),
    ("cohorts", project(), count("picklist entries")),
    (
        "queryEventCounts",
        _dates(event='["App Open"]', type="general", unit="day"),
        lambda d: f"{d['legend_size']} event series",
    ),
    (
        "queryTodaysTopEvents",
        project(type="general"),
        lambda d: f"{len(d['events'])} event(s) today",
    ),
    ("queryTopEventNames", project(type="general"), count("event name(s)")),
    (
        "queryEventPropertyValues",
        _dates(event="App Open", name="source", type="general", unit="day"),
        lambda d: f"{d['legend_size']} value(s) of source",
    ),
    ("queryTopEventProperties", project(event="App Open"), count("propert(ies)")),
    ("queryTopPropertyValues", project(event="App Open", name="source"), count("value(s)")),
    ("pausePipeline", project(name="trial-events-daily-gcs-raw"), status),
    ("resumePipeline", project(name="trial-events-daily-gcs-raw"), status),
    ("listPipelineSyncDates", project(name="trial-events-daily-gcs-raw"), status),
)
