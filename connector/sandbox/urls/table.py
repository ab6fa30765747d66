"""THE route table: every (method, path pattern) the sandbox serves, its API name and its handler.

The router that answers from it (matching, policies, error shapes) is in routing.py.
"""

from __future__ import annotations

from ..models.families import (
    ANNOTATION_TAGS,
    ANNOTATIONS,
    EXPERIMENTS,
    FEATURE_FLAGS,
    WAREHOUSE_IMPORTS,
)
from ..reply import Handler, json_reply
from ..responses import (
    breakdown,
    engage,
    export,
    families,
    gdpr,
    ingestion,
    pipelines,
    query,
    reports,
)
from .routing import Route, Router, crud, either

PIPELINE = "/api/2.0/nessie/pipeline"
#: Where the Query API is served: its current prefix and the legacy one clients still call.
QUERY_PREFIXES = ("/api/query", "/api/2.0")
PROJECT = "/api/app/projects/{projectId}"
SCHEMAS = f"{PROJECT}/schemas"
ORGANIZATION = "/api/app/organizations/{organizationId}/service-accounts"
IMPORTS = f"{PROJECT}/warehouse-sources/imports"
EXPERIMENT = "/api/app/workspaces/{workspace_id}/experiments/{experiment_id}"
FLAGS = "/api/app/projects/{project_id}/workspaces/{workspace_id}/feature-flags"
RETRIEVALS, DELETIONS = "/api/app/data-retrievals/v3.0", "/api/app/data-deletions/v3.0"


#: The ingestion endpoints: Mixpanel takes their `data` in a GET query as in a POST body.
INGESTION: list[tuple[str, str, Handler]] = [
    ("/track", "ingestion-token", ingestion.track),
    ("/engage", "ingestion-token", ingestion.engage),
    ("/groups", "ingestion-token", ingestion.groups),
    ("/import", "import", ingestion.import_events),
]
#: The Query API's endpoints, under each of QUERY_PREFIXES, read with GET or POST alike.
QUERY: list[tuple[str, Handler]] = [
    ("/engage", engage.engage_query),
    ("/engage/properties", engage.engage_properties),
    ("/cohorts/list", engage.cohorts_list),
    ("/funnels/list", query.funnels_list),
    ("/funnels", query.funnels),
    ("/insights", query.insights),
    ("/segmentation", breakdown.segmentation),
    ("/segmentation/numeric", reports.segmentation_numeric),
    ("/segmentation/sum", reports.segmentation_total(False)),
    ("/segmentation/average", reports.segmentation_total(True)),
    ("/retention", reports.retention),
    ("/retention/addiction", reports.frequency),
    ("/stream/query", reports.activity_stream),
    ("/events", breakdown.events),
    ("/events/top", breakdown.top),
    ("/events/names", breakdown.names),
    ("/events/properties", breakdown.event_property),
    ("/events/properties/top", breakdown.properties_top),
    ("/events/properties/values", breakdown.property_values),
    ("/jql", query.jql),
]
ROUTES: list[Route] = [
    *(r for path, api, handler in INGESTION for r in either("GET POST", path, api, handler)),
    *(
        r
        for prefix in QUERY_PREFIXES
        for path, handler in QUERY
        for r in either("GET POST", prefix + path, "query", handler)
    ),
    Route("GET", "/api/2.0/export", "export", export.export),
    Route("POST", f"{PIPELINE}/create", "pipelines", pipelines.create),
    Route("POST", f"{PIPELINE}/edit", "pipelines", pipelines.edit),
    Route("POST", f"{PIPELINE}/cancel", "pipelines", pipelines.cancel),
    Route("POST", f"{PIPELINE}/pause", "pipelines", pipelines.pause),
    Route("POST", f"{PIPELINE}/resume", "pipelines", pipelines.resume),
    Route("GET", f"{PIPELINE}/status", "pipelines", pipelines.status),
    Route("GET", f"{PIPELINE}/jobs", "pipelines", pipelines.jobs),
    Route("GET", f"{PIPELINE}/timeline", "pipelines", pipelines.timeline),
    *crud(ANNOTATIONS, f"{PROJECT}/annotations", item="{annotationId}"),
    *crud(
        ANNOTATION_TAGS,
        f"{PROJECT}/annotations/tags",
        item="{tagId}",
        ops="list create",
        answer=lambda status, results: json_reply(status, results),
        created=200,
    ),
    Route("GET", SCHEMAS, "app", families.schemas_list),
    Route("POST", SCHEMAS, "app", families.schemas_upload),
    Route("DELETE", SCHEMAS, "app", families.schemas_delete),
    Route("GET", f"{SCHEMAS}/{{entityType}}", "app", families.schemas_list),
    Route("DELETE", f"{SCHEMAS}/{{entityType}}", "app", families.schemas_delete),
    Route("GET", f"{SCHEMAS}/{{entityType}}/{{name}}", "app", families.schema_get),
    Route("POST", f"{SCHEMAS}/{{entityType}}/{{name}}", "app", families.schema_upload),
    Route("DELETE", f"{SCHEMAS}/{{entityType}}/{{name}}", "app", families.schemas_delete),
    Route("GET", ORGANIZATION, "app", families.service_accounts_list),
    Route("POST", ORGANIZATION, "app", families.service_account_create),
    Route("GET", f"{ORGANIZATION}/{{serviceAccountId}}", "app", families.service_account_get),
    Route("DELETE", f"{ORGANIZATION}/{{serviceAccountId}}", "app", families.service_account_delete),
    Route("POST", f"{ORGANIZATION}/add-to-project", "app", families.membership(True)),
    Route("POST", f"{ORGANIZATION}/remove-from-project", "app", families.membership(False)),
    Route("GET", f"{PROJECT}/service-accounts", "app", families.project_service_accounts),
    *crud(WAREHOUSE_IMPORTS, IMPORTS, item="{importId}", ops="list get patch"),
    Route("DELETE", f"{IMPORTS}/{{importId}}", "app", families.import_delete),
    *[
        Route("POST", f"{IMPORTS}/{kind}", "app", families.import_create(import_type))
        for kind, import_type in (
            ("event-stream", "event_stream"),
            ("people", "people"),
            ("groups", "groups"),
            ("lookup-table", "lookup_table"),
        )
    ],
    Route("PUT", f"{IMPORTS}/{{importId}}/manual-sync", "app", families.import_sync),
    Route("GET", f"{IMPORTS}/{{importId}}/history", "app", families.import_history),
    *crud(EXPERIMENTS, EXPERIMENT.rsplit("/", 1)[0], item="{experiment_id}"),
    Route(
        "POST",
        f"{EXPERIMENT}/archive",
        "app",
        families.experiment_step(lambda e: {"archived": True}, empty=True),
    ),
    Route(
        "DELETE",
        f"{EXPERIMENT}/archive",
        "app",
        families.experiment_step(lambda e: {"archived": False}),
    ),
    Route(
        "PATCH",
        f"{EXPERIMENT}/decide",
        "app",
        families.experiment_step(lambda e: {"status": "decided"}),
    ),
    Route(
        "PUT",
        f"{EXPERIMENT}/force_conclude",
        "app",
        families.experiment_step(lambda e: {"status": "concluded"}),
    ),
    Route(
        "PUT",
        f"{EXPERIMENT}/launch",
        "app",
        families.experiment_step(lambda e: {"status": "active"}),
    ),
    *crud(FEATURE_FLAGS, FLAGS, item="{flag_id}", ops="list create get put delete", created=200),
    Route("GET", "/flags", "flags", families.flags_evaluate),
    Route("GET", "/flags/definitions", "flags", families.flags_definitions),
    Route("POST", RETRIEVALS, "gdpr", gdpr.create_retrieval),
    Route("GET", RETRIEVALS + "/{job}", "gdpr", gdpr.get_retrieval),
    Route("POST", DELETIONS, "gdpr", gdpr.create_deletion),
    Route("GET", DELETIONS + "/{job}", "gdpr", gdpr.get_deletion),
    Route("DELETE", DELETIONS + "/{job}", "gdpr", gdpr.cancel_deletion),
    Route("GET", "/lookup-tables", "lookup-tables", gdpr.list_tables),
    Route("PUT", "/lookup-tables/{table}", "lookup-tables", gdpr.replace_table),
]

ROUTER = Router(ROUTES)
