"""The tour's steps for the families beyond the first actions: queries, groups, the /api/app ones.

Each step is (key, inputs, summary); inputs read the ids earlier steps created from the store,
so the steps run in order: create, read, change, delete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .models.base import Context, Family
from .models.families import (
    ANNOTATIONS,
    EXPERIMENTS,
    FEATURE_FLAGS,
    SERVICE_ACCOUNTS,
    WAREHOUSE_IMPORTS,
)
from .server import Sandbox

Inputs = Callable[[Sandbox], dict[str, Any]]
Summary = Callable[[Any], str]
FamilyStep = tuple[str, Inputs, Summary]


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _last(sb: Sandbox, family: Family, **scope: str) -> Any:
    found = sb.store.resources.list(family, Context(scope=scope))
    return found[-1][family.id_field] if found else None


def _project(**extra: Any) -> Inputs:
    return lambda sb: {"project_id": sb.project_id, **extra}


def _dates(**extra: Any) -> Inputs:
    return lambda sb: {
        "project_id": sb.project_id,
        "from_date": _today(),
        "to_date": _today(),
        **extra,
    }


def _workspace(**extra: Any) -> Inputs:
    return lambda sb: {"project_id": sb.project_id, "workspace_id": sb.workspace_id, **extra}


def _annotation(**extra: Any) -> Inputs:
    return lambda sb: {
        "project_id": sb.project_id,
        "annotationId": _last(sb, ANNOTATIONS, projectId=sb.project_id),
        **extra,
    }


def _account(**extra: Any) -> Inputs:
    return lambda sb: {
        "organization_id": sb.organization_id,
        "serviceAccountId": _last(sb, SERVICE_ACCOUNTS, organizationId=sb.organization_id),
        **extra,
    }


def _import(**extra: Any) -> Inputs:
    return lambda sb: {
        "project_id": sb.project_id,
        "importId": _last(sb, WAREHOUSE_IMPORTS, projectId=sb.project_id),
        **extra,
    }


def _experiment(**extra: Any) -> Inputs:
    return lambda sb: {
        "workspace_id": sb.workspace_id,
        "experiment_id": _last(sb, EXPERIMENTS, workspace_id=sb.workspace_id),
        **extra,
    }


def _flag(**extra: Any) -> Inputs:
    return lambda sb: {
        "project_id": sb.project_id,
        "workspace_id": sb.workspace_id,
        "flag_id": _last(sb, FEATURE_FLAGS, project_id=sb.project_id, workspace_id=sb.workspace_id),
        **extra,
    }


def _updates(op: str, value: Any, group: bool = False) -> Inputs:
    who = (
        {"$group_key": "Company", "$group_id": "Acme"} if group else {"$distinct_id": "user-alice"}
    )
    key = "groupUpdates" if group else "profileUpdates"
    return lambda sb: {key: [{**who, op: value}]}


def _results(what: str) -> Summary:
    return lambda d: f"{len(d['results'])} {what}"


def _status(d: Any) -> str:
    return f"status {d.get('status', 'ok')}" if isinstance(d, dict) else f"answered {d!r}"


def _count(what: str) -> Summary:
    return lambda d: f"{len(d)} {what}"


_IMPORT = {
    "warehouse_source_id": 7,
    "table_params": {"dataset_name": "analytics", "table_name": "t"},
}
_FLAG = {
    "name": "New checkout",
    "key": "new-checkout",
    "tags": ["web"],
    "context": "distinct_id",
    "serving_method": "server",
    "status": "enabled",
    "ruleset": {
        "variants": [{"key": "on", "value": True, "is_control": False, "split": 1}],
        "rollout": [],
    },
}
_SCHEMA = {"description": "A purchase", "properties": {"amount": {"type": "number"}}}

STEPS: tuple[FamilyStep, ...] = (
    ("setProfilePropertyOnce", _updates("$set_once", {"first_seen": "2024-01-01"}), _status),
    ("incrementProfileProperty", _updates("$add", {"logins": 1}), _status),
    ("unionProfileListProperty", _updates("$union", {"tags": ["vip"]}), _status),
    ("appendToProfileListProperty", _updates("$append", {"tags": "early"}), _status),
    ("removeFromProfileListProperty", _updates("$remove", {"tags": "early"}), _status),
    ("deleteProfileProperty", _updates("$unset", ["first_seen"]), _status),
    ("setGroupProperty", _updates("$set", {"plan": "enterprise"}, True), _status),
    ("setGroupPropertyOnce", _updates("$set_once", {"founded": "1999"}, True), _status),
    ("unionGroupListProperty", _updates("$union", {"regions": ["eu"]}, True), _status),
    ("removeFromGroupListProperty", _updates("$remove", {"regions": "us"}, True), _status),
    ("deleteGroupProperty", _updates("$unset", ["founded"], True), _status),
    (
        "updateMultipleGroups",
        lambda sb: {
            "groupsToUpdate": [
                {"$group_key": "Company", "$group_id": "Initech", "$set": {"plan": "pro"}}
            ]
        },
        _status,
    ),
    ("deleteGroup", _updates("$delete", "", True), _status),
    (
        "mergeIdentities",
        _project(distinct_ids=["user-carol", "user-dave"]),
        lambda d: f"{d['num_records_imported']} merge event imported",
    ),
    ("queryRetention", _dates(born_event="App Open"), _count("cohort day(s)")),
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
    ("querySegmentationNumeric", _dates(event="Purchase", on='properties["amount"]'), _status),
    ("querySegmentationSum", _dates(event="Purchase", on='properties["amount"]'), _status),
    ("querySegmentationAverage", _dates(event="Purchase", on='properties["amount"]'), _status),
    (
        "queryActivityStream",
        _dates(distinct_ids='["user-alice"]'),
        lambda d: f"{len(d['results']['events'])} event(s) of user-alice",
    ),
    ("listCohorts", _project(), _count("saved cohorts")),
    ("lookupTables", _project(), _count("picklist entries")),
    ("cohorts", _project(), _count("picklist entries")),
    (
        "queryEventCounts",
        _dates(event='["App Open"]', type="general", unit="day"),
        lambda d: f"{d['legend_size']} event series",
    ),
    (
        "queryTodaysTopEvents",
        _project(type="general"),
        lambda d: f"{len(d['events'])} event(s) today",
    ),
    ("queryTopEventNames", _project(type="general"), _count("event name(s)")),
    (
        "queryEventPropertyValues",
        _dates(event="App Open", name="source", type="general", unit="day"),
        lambda d: f"{d['legend_size']} value(s) of source",
    ),
    ("queryTopEventProperties", _project(event="App Open"), _count("propert(ies)")),
    ("queryTopPropertyValues", _project(event="App Open", name="source"), _count("value(s)")),
    ("pausePipeline", _project(name="trial-events-daily-gcs-raw"), _status),
    ("resumePipeline", _project(name="trial-events-daily-gcs-raw"), _status),
    ("listPipelineSyncDates", _project(name="trial-events-daily-gcs-raw"), _status),
    ("createAnnotationTag", _project(name="deploy"), lambda d: f"tag {d['name']}"),
    ("listAnnotationTags", _project(), _count("tag(s)")),
    ("annotationTags", _project(), _count("picklist entries")),
    (
        "createAnnotation",
        _project(date=f"{_today()} 12:00:00", description="Deploy 1.2"),
        lambda d: d["results"]["description"],
    ),
    ("listAnnotations", _project(), _results("annotation(s)")),
    ("getAnnotation", _annotation(), lambda d: d["results"]["description"]),
    (
        "updateAnnotation",
        _annotation(description="Deploy 1.2.1"),
        lambda d: d["results"]["description"],
    ),
    ("deleteAnnotation", _annotation(), _status),
    (
        "uploadSchemas",
        _project(entries=[{"entityType": "event", "name": "Purchase", "schemaJson": _SCHEMA}]),
        lambda d: f"{d['results']['added']} schema(s) added",
    ),
    (
        "uploadSchema",
        _project(entityType="profile", name="plan", metadata=None, **_SCHEMA),
        _status,
    ),
    ("listSchemas", _project(), _results("schema(s)")),
    ("schemaEntityTypes", _project(), _count("picklist entries")),
    ("listSchemasForEntity", _project(entityType="event"), _results("event schema(s)")),
    ("getSchema", _project(entityType="event", name="Purchase"), lambda d: d["description"]),
    (
        "deleteSchema",
        _project(entityType="profile", name="plan"),
        lambda d: f"{d['results']['delete_count']} deleted",
    ),
    (
        "deleteSchemasForEntity",
        _project(entityType="event"),
        lambda d: f"{d['results']['delete_count']} deleted",
    ),
    ("deleteAllSchemas", _project(), lambda d: f"{d['results']['delete_count']} deleted"),
    (
        "createServiceAccount",
        lambda sb: {"organization_id": sb.organization_id, "username": "ci", "role": "admin"},
        lambda d: f"account {d['results']['username']}",
    ),
    (
        "listServiceAccounts",
        lambda sb: {"organization_id": sb.organization_id},
        _results("account(s)"),
    ),
    ("getServiceAccount", _account(), lambda d: f"account {d['username']}"),
    (
        "addServiceAccountsToProjects",
        lambda sb: {
            "organization_id": sb.organization_id,
            "service_account_ids": [_last(sb, SERVICE_ACCOUNTS, organizationId=sb.organization_id)],
            "projects": [{"id": int(sb.project_id), "role": "admin"}],
        },
        _status,
    ),
    ("listProjectServiceAccounts", _project(), _results("member(s)")),
    (
        "removeServiceAccountsFromProjects",
        lambda sb: {
            "organization_id": sb.organization_id,
            "projects": [
                {
                    "id": int(sb.project_id),
                    "service_account_ids": [
                        _last(sb, SERVICE_ACCOUNTS, organizationId=sb.organization_id)
                    ],
                }
            ],
        },
        _status,
    ),
    ("deleteServiceAccount", _account(), _status),
    (
        "createEventStreamImport",
        _project(time_column_name="ts", sync_mode="time_based", **_IMPORT),
        lambda d: d["results"]["import_type"],
    ),
    (
        "createPeopleImport",
        _project(user_column_name="uid", sync_mode="full_sync", **_IMPORT),
        lambda d: d["results"]["import_type"],
    ),
    (
        "createGroupsImport",
        _project(group_key="company", group_id_column="cid", sync_mode="full_sync", **_IMPORT),
        lambda d: d["results"]["import_type"],
    ),
    (
        "createLookupTableImport",
        _project(
            property_key_column_name="sku",
            mixpanel_property={"value": "sku", "resourceType": "event"},
            sync_mode="full_sync",
            **_IMPORT,
        ),
        lambda d: d["results"]["import_type"],
    ),
    ("listWarehouseImports", _project(), _results("import(s)")),
    ("getWarehouseImport", _import(), lambda d: d["results"]["import_type"]),
    (
        "updateWarehouseImport",
        _import(paused=True, run_every=0),
        lambda d: f"paused {d['results']['paused']}",
    ),
    ("runWarehouseImport", _import(), lambda d: "sync started"),
    ("getWarehouseImportHistory", _import(), lambda d: f"{len(d['results']['runs'])} run(s)"),
    ("deleteWarehouseImport", _import(), _status),
    (
        "createExperiment",
        lambda sb: {"workspace_id": sb.workspace_id, "name": "Checkout test"},
        lambda d: d["results"]["name"],
    ),
    ("listExperiments", lambda sb: {"workspace_id": sb.workspace_id}, _results("experiment(s)")),
    ("experiments", lambda sb: {"workspace_id": sb.workspace_id}, _count("picklist entries")),
    ("getExperiment", _experiment(), lambda d: d["results"]["status"]),
    (
        "updateExperiment",
        _experiment(hypothesis="Shorter checkout converts better"),
        lambda d: d["results"]["hypothesis"],
    ),
    ("launchExperiment", _experiment(), lambda d: d["results"]["status"]),
    (
        "decideExperiment",
        _experiment(success=True, variant="treatment"),
        lambda d: d["results"]["status"],
    ),
    ("concludeExperiment", _experiment(end_date=_today()), lambda d: d["results"]["status"]),
    ("archiveExperiment", _experiment(), _status),
    ("unarchiveExperiment", _experiment(), lambda d: f"archived {d['results']['archived']}"),
    ("deleteExperiment", _experiment(), _status),
    ("createFeatureFlag", _workspace(**_FLAG), lambda d: d["results"]["key"]),
    ("listFeatureFlags", _workspace(), _results("flag(s)")),
    ("featureFlags", _workspace(), _count("picklist entries")),
    ("getFeatureFlag", _flag(), lambda d: d["results"]["status"]),
    (
        "updateFeatureFlag",
        _flag(**{**_FLAG, "tags": ["web", "beta"]}),
        lambda d: ", ".join(d["results"]["tags"]),
    ),
    ("getFeatureFlagDefinitions", _project(), lambda d: f"{len(d['flags'])} definition(s)"),
    (
        "evaluateFeatureFlags",
        _project(context={"distinct_id": "user-alice"}),
        lambda d: ", ".join(f"{k}: {v['variant_key']}" for k, v in d["flags"].items()),
    ),
    ("deleteFeatureFlag", _flag(), _status),
)
