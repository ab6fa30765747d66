"""Every declared family, by name: what the sandbox stores as plain data (events aside)."""

from __future__ import annotations

from .base import Family

#: User profiles: `{"$distinct_id", "$properties"}`, keyed by the canonical distinct id.
PROFILES = Family("profiles", id_field="$distinct_id", id_kind="given")
#: Saved funnels, seeded from fixtures.json: `{"id", "name", "steps", "length", "length_unit"}`.
FUNNELS = Family("funnels", required=("name", "steps"))
#: Saved insights reports, seeded from fixtures.json: `{"id", "name", "events", "days", "unit"}`.
INSIGHTS = Family("insights", required=("name", "events"))
#: Cohorts, seeded from fixtures.json: `{"id", "name", "where"}`, members are the profiles whose
#: properties match `where` (a segmentation expression) when the query runs.
COHORTS = Family("cohorts", required=("name", "where"))
#: Data pipelines, named by the server: `{"name", "params", "state", "created"}`.
PIPELINES = Family(
    "pipelines",
    scope=("project_id",),
    id_field="name",
    id_kind="given",
    required=("params", "state"),
    created_field="created",
)

FAMILIES: dict[str, Family] = {f.name: f for f in (PROFILES, FUNNELS, INSIGHTS, PIPELINES, COHORTS)}
