"""THE route table: every (method, path pattern) the sandbox serves, its API name and its handler.

Patterns match whole segments; `{name}` matches any one segment and hands its (percent-decoded)
value to the handler as `call.path_params[name]`. Where patterns overlap, literal segments win
(`/annotations/tags` before `/annotations/{annotationId}`). The router checks the route's API
policy (auth.py), calls the handler, and answers its `ModelError`s, a method the path does not
take (405, naming the allowed ones) and an unknown path (404) in that API's error shape.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from .auth import POLICIES
from .faults import advertised_policy
from .models.base import Family, ModelError
from .models.families import (
    ANNOTATION_TAGS,
    ANNOTATIONS,
    EXPERIMENTS,
    FEATURE_FLAGS,
    WAREHOUSE_IMPORTS,
)
from .reply import STYLES, Call, Handler, Problem, Reply, api_error, json_reply
from .responses import (
    app,
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

#: The API an unknown path belongs to (for its 404's shape), by leading segments.
API_PREFIXES = (
    ("/api/query", "query"),
    ("/api/app", "app"),
    ("/api/2.0/export", "export"),
    ("/api/2.0/nessie", "pipelines"),
    ("/api/2.0", "query"),
    ("/import", "import"),
    ("/flags", "flags"),
)
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


@dataclass(frozen=True)
class Route:
    """One row: `method` on `pattern` is answered by `handler`, under the policy of `api`."""

    method: str
    pattern: str
    api: str
    handler: Handler
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.api not in POLICIES or self.api not in STYLES:
            raise ValueError(f"route {self.method} {self.pattern}: unknown API {self.api!r}")
        object.__setattr__(self, "segments", tuple(self.pattern.split("/")))

    @property
    def specificity(self) -> tuple[bool, ...]:
        """Literal segments rank before parameters, from the left."""
        return tuple(not _is_param(s) for s in self.segments)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The path parameters when `segments` (a path split on "/") fit the pattern, else None."""
        if len(segments) != len(self.segments):
            return None
        params = {}
        for mine, given in zip(self.segments, segments, strict=True):
            if _is_param(mine):
                if not given:
                    return None
                params[mine[1:-1]] = unquote(given)
            elif mine != given:
                return None
        return params


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def api_of(path: str) -> str:
    """The API whose error shape an unrouted answer to `path` takes."""
    for prefix, api in API_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return api
    return "ingestion-token"


def crud(
    family: Family,
    collection: str,
    *,
    item: str,
    api: str = "app",
    ops: str = "list create get patch delete",
    answer: app.Answer = app.ok,
    created: int = 201,
) -> list[Route]:
    """A family's standard routes: list and create on `collection`, the rest on `collection/item`.

    `ops` picks from list, create, get, patch, put and delete; `answer` builds the success
    envelope (the app API's by default); `created` is the status of a create's answer.
    """
    unknown = set(ops.split()) - set(app.OPERATIONS)
    if unknown:
        raise ValueError(f"crud({family.name}): unknown operations {sorted(unknown)}")
    name = item.strip("{}")
    one = f"{collection}/{{{name}}}"
    where = {
        "list": ("GET", collection),
        "create": ("POST", collection),
        "get": ("GET", one),
        "patch": ("PATCH", one),
        "put": ("PUT", one),
        "delete": ("DELETE", one),
    }
    return [
        Route(
            where[op][0],
            where[op][1],
            api,
            app.handler(op, family, name, answer=answer, created=created),
        )
        for op in ops.split()
    ]


class Router:
    """Finds the route of a request and answers it (see the module docstring)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            if (route.method, route.pattern) in seen:
                raise ValueError(f"two routes for {route.method} {route.pattern}")
            seen.add((route.method, route.pattern))
        self._by_length: dict[int, list[Route]] = defaultdict(list)
        for route in sorted(self.routes, key=lambda r: r.specificity, reverse=True):
            self._by_length[len(route.segments)].append(route)

    def find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[Route]]:
        """(the route, its path parameters, every route of the path) for `method` on `path`."""
        segments = path.split("/")
        fitting = [
            (r, p) for r in self._by_length[len(segments)] if (p := r.match(segments)) is not None
        ]
        for route, params in fitting:
            if route.method == method:
                return route, params, [r for r, _ in fitting]
        return None, {}, [r for r, _ in fitting]

    def dispatch(self, call: Call) -> Reply:
        """Answer one request: policy, handler, the API's error shapes, the sandbox's limits.

        Every answer states the sandbox's own limits in a RateLimit-Policy header
        (`faults.advertised_policy`), which clients may keep instead of Mixpanel's.
        """
        reply = self._answer(call)
        policy = advertised_policy(call.sandbox.faults, call.sandbox.workers)
        if policy is not None:
            reply.headers.setdefault("RateLimit-Policy", policy)
        return reply

    def _answer(self, call: Call) -> Reply:
        route, params, fitting = self.find(call.method, call.path)
        if route is None:
            if not fitting:
                return api_error(api_of(call.path), 404, f"unknown path {call.path}", call.path)
            allowed = sorted({r.method for r in fitting})
            message = f"{call.method} is not allowed on {call.path}; use " + " or ".join(allowed)
            reply = api_error(fitting[0].api, 405, message, call.path)
            reply.headers["Allow"] = ", ".join(allowed)
            return reply
        call = dataclasses.replace(call, path_params=params)
        try:
            POLICIES[route.api].check(call)
            return route.handler(call)
        except Problem as problem:
            return problem.reply
        except ModelError as refused:
            return api_error(route.api, refused.status, refused.message, call.path)


def either(methods: str, pattern: str, api: str, handler: Handler) -> list[Route]:
    """One route per method of `methods` ("GET POST") on the same pattern."""
    return [Route(method, pattern, api, handler) for method in methods.split()]


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
