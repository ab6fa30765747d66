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

FAMILIES: dict[str, Family] = {
    f.name: f for f in (PROFILES, GROUPS, COHORTS, FUNNELS, INSIGHTS, PIPELINES)
}
