"""The tour's family steps for the /api/app families, each created, read, changed and deleted."""

from __future__ import annotations

from typing import Any

from ..models.base import Context, Family
from ..models.families import (
    ANNOTATIONS,
    EXPERIMENTS,
    FEATURE_FLAGS,
    SERVICE_ACCOUNTS,
    WAREHOUSE_IMPORTS,
)
from ..server import Sandbox
from .common import FamilyStep, Inputs, Summary, count, project, status, today


def _last(sb: Sandbox, family: Family, **scope: str) -> Any:
    found = sb.store.resources.list(family, Context(scope=scope))
    return found[-1][family.id_field] if found else None


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


def _results(what: str) -> Summary:
    return lambda d: f"{len(d['results'])} {what}"


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
    ("createAnnotationTag", project(name="deploy"), lambda d: f"tag {d['name']}"),
    ("listAnnotationTags", project(), count("tag(s)")),
    ("annotationTags", project(), count("picklist entries")),
    (
        "createAnnotation",
        project(date=f"{today()} 12:00:00", description="Deploy 1.2"),
        lambda d: d["results"]["description"],
    ),
    ("listAnnotations", project(), _results("annotation(s)")),
    ("getAnnotation", _annotation(), lambda d: d["results"]["description"]),
    (
        "updateAnnotation",
        _annotation(description="Deploy 1.2.1"),
        lambda d: d["results"]["description"],
    ),
    ("deleteAnnotation", _annotation(), status),
    (
        "uploadSchemas",
        project(entries=[{"entityType": "event", "name": "Purchase", "schemaJson": _SCHEMA}]),
        lambda d: f"{d['results']['added']} schema(s) added",
    ),
    (
        "uploadSchema",
        project(entityType="profile", name="plan", metadata=None, **_SCHEMA),
        status,
    ),
    ("listSchemas", project(), _results("schema(s)")),
    ("schemaEntityTypes", project(), count("picklist entries")),
    ("listSchemasForEntity", project(entityType="event"), _results("event schema(s)")),
    ("getSchema", project(entityType="event", name="Purchase"), lambda d: d["description"]),
    (
        "deleteSchema",
        project(entityType="profile", name="plan"),
        lambda d: f"{d['results']['delete_count']} deleted",
    ),
    (
        "deleteSchemasForEntity",
        project(entityType="event"),
        lambda d: f"{d['results']['delete_count']} deleted",
    ),
    ("deleteAllSchemas", project(), lambda d: f"{d['results']['delete_count']} deleted"),
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
        status,
    ),
    ("listProjectServiceAccounts", project(), _results("member(s)")),
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
        status,
    ),
    ("deleteServiceAccount", _account(), status),
    (
        "createEventStreamImport",
        project(time_column_name="ts", sync_mode="time_based", **_IMPORT),
        lambda d: d["results"]["import_type"],
    ),
    (
        "createPeopleImport",
        project(user_column_name="uid", sync_mode="full_sync", **_IMPORT),
        lambda d: d["results"]["import_type"],
    ),
    (
        "createGroupsImport",
        project(group_key="company", group_id_column="cid", sync_mode="full_sync", **_IMPORT),
        lambda d: d["results"]["import_type"],
    ),
    (
        "createLookupTableImport",
        project(
            property_key_column_name="sku",
            mixpanel_property={"value": "sku", "resourceType": "event"},
            sync_mode="full_sync",
            **_IMPORT,
        ),
        lambda d: d["results"]["import_type"],
    ),
    ("listWarehouseImports", project(), _results("import(s)")),
    ("getWarehouseImport", _import(), lambda d: d["results"]["import_type"]),
    (
        "updateWarehouseImport",
        _import(paused=True, run_every=0),
        lambda d: f"paused {d['results']['paused']}",
    ),
    ("runWarehouseImport", _import(), lambda d: "sync started"),
    ("getWarehouseImportHistory", _import(), lambda d: f"{len(d['results']['runs'])} run(s)"),
    ("deleteWarehouseImport", _import(), status),
    (
        "createExperiment",
        lambda sb: {"workspace_id": sb.workspace_id, "name": "Checkout test"},
        lambda d: d["results"]["name"],
    ),
    ("listExperiments", lambda sb: {"workspace_id": sb.workspace_id}, _results("experiment(s)")),
    ("experiments", lambda sb: {"workspace_id": sb.workspace_id}, count("picklist entries")),
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
    ("concludeExperiment", _experiment(end_date=today()), lambda d: d["results"]["status"]),
    ("archiveExperiment", _experiment(), status),
    ("unarchiveExperiment", _experiment(), lambda d: f"archived {d['results']['archived']}"),
    ("deleteExperiment", _experiment(), status),
    ("createFeatureFlag", _workspace(**_FLAG), lambda d: d["results"]["key"]),
    ("listFeatureFlags", _workspace(), _results("flag(s)")),
    ("featureFlags", _workspace(), count("picklist entries")),
    ("getFeatureFlag", _flag(), lambda d: d["results"]["status"]),
    (
        "updateFeatureFlag",
        _flag(**{**_FLAG, "tags": ["web", "beta"]}),
        lambda d: ", ".join(d["results"]["tags"]),
    ),
    ("getFeatureFlagDefinitions", project(), lambda d: f"{len(d['flags'])} definition(s)"),
    (
        "evaluateFeatureFlags",
        project(context={"distinct_id": "user-alice"}),
        lambda d: ", ".join(f"{k}: {v['variant_key']}" for k, v in d["flags"].items()),
    ),
    ("deleteFeatureFlag", _flag(), status),
)
