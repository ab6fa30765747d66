"""The router: routes (method, pattern, API, handler) matched by whole segments and answered.

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

from ..auth import POLICIES
from ..faults import advertised_policy
from ..models.base import Family, ModelError
from ..reply import STYLES, Call, Handler, Problem, Reply, api_error
from ..responses import app

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
