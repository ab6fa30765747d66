"""Every declared family, by name: what the sandbox stores as plain data (events aside)."""

from __future__ import annotations

from .base import Family

#: User profiles: `{"$distinct_id", "$properties"}`, keyed by the canonical distinct id.
PROFILES = Family("profiles", id_field="$distinct_id", id_kind="given")
#: Group profiles: `{"$group_id", "$properties"}`, one scope per group key (`company`, ...).
GROUPS = Family("groups", scope=("$group_key",), id_field="$group_id", id_kind="given")
#: Saved cohorts, seeded from fixtures.json: `{"id", "name", "description", "where", ...}`;
#: their `count` is the number of stored profiles the `where` selector matches, when read.
COHORTS = Family("cohorts", required=("name",), defaults={"description": "", "is_visible": 1})
#: Saved funnels, seeded from fixtures.json: `{"id", "name", "steps", "length", "length_unit"}`.
FUNNELS = Family("funnels", required=("name", "steps"))
#: Saved insights reports, seeded from fixtures.json: `{"id", "name", "events", "days", "unit"}`.
INSIGHTS = Family("insights", required=("name", "events"))
#: Data pipelines, named by the server: `{"name", "params", "state", "created"}`.
PIPELINES = Family(
    "pipelines",
    scope=("project_id",),
    id_field="name",
    id_kind="given",
    required=("params", "state"),
    created_field="created",
)

#: The /api/app families: plain stored resources, scoped by the ids in their paths.
ANNOTATIONS = Family(
    "annotations",
    scope=("projectId",),
    required=("date", "description"),
    defaults={"tags": []},
    created_field="created",
)
ANNOTATION_TAGS = Family(
    "annotation_tags", scope=("projectId",), required=("name",), defaults={"has_annotations": False}
)
#: Lexicon schemas, keyed by "<entityType>/<name>".
SCHEMAS = Family(
    "schemas",
    scope=("projectId",),
    id_field="key",
    id_kind="given",
    required=("entityType", "name", "schemaJson"),
)
SERVICE_ACCOUNTS = Family(
    "service_accounts",
    scope=("organizationId",),
    required=("username",),
    defaults={"projects": [], "expires": None, "last_used": None},
    created_field="created",
)
WAREHOUSE_IMPORTS = Family(
    "warehouse_imports",
    scope=("projectId",),
    required=("import_type", "warehouse_source_id"),
    defaults={"paused": False, "runs": []},
    created_field="created",
)
EXPERIMENTS = Family(
    "experiments",
    scope=("workspace_id",),
    id_kind="uuid",
    required=("name",),
    defaults={"status": "draft", "archived": False},
    created_field="created",
    updated_field="modified",
)
FEATURE_FLAGS = Family(
    "feature_flags",
    scope=("project_id", "workspace_id"),
    id_kind="uuid",
    required=("name", "key", "context"),
    defaults={"status": "disabled", "tags": [], "ruleset": {"variants": [], "rollout": []}},
    created_field="created",
)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        PROFILES,
        GROUPS,
        COHORTS,
        FUNNELS,
        INSIGHTS,
        PIPELINES,
        ANNOTATIONS,
        ANNOTATION_TAGS,
        SCHEMAS,
        SERVICE_ACCOUNTS,
        WAREHOUSE_IMPORTS,
        EXPERIMENTS,
        FEATURE_FLAGS,
    )
}
