"""The route table: pattern matching, crud() routes over HTTP, and 404/405 in each API's shape."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.sandbox import Sandbox
from connector.sandbox.models.base import Body, Context, Family, Hooks, ModelError
from connector.sandbox.reply import Call, Reply, json_reply
from connector.sandbox.urls import ROUTES, Route, Router, api_of, crud


def _no_weekends(body: Body, ctx: Context) -> Body:
    if body.get("weekday") in ("Sat", "Sun"):
        raise ModelError(400, "notes: weekday must be Monday to Friday", "weekday")
    return body


NOTES = Family(
    "notes",
    scope=("projectId",),
    required=("description",),
    readonly=frozenset({"user"}),
    hooks=Hooks(on_create=_no_weekends),
)
TABLES = Family("tables", scope=("projectId",), id_field="name", id_kind="given")
COLLECTION = "/api/app/projects/{projectId}/notes"


def _tags(call: Call) -> Reply:
    return json_reply(200, {"tags": ["deploy"], "project": call.path_params["projectId"]})


EXTRA = [
    *crud(NOTES, COLLECTION, item="{noteId}", ops="list create get patch put delete"),
    *crud(
        TABLES, "/api/app/projects/{projectId}/tables", item="{name}", ops="get put", created=200
    ),
    Route("GET", COLLECTION + "/tags", "app", _tags),
]


@pytest.fixture
def app_sandbox() -> Iterator[tuple[Sandbox, str, dict[str, str]]]:
    with Sandbox() as sb:
        sb.router = Router([*ROUTES, *EXTRA])
        secret = base64.b64encode(f"{sb.username}:{sb.password}".encode()).decode()
        base = f"{sb.base_url}/api/app/projects/{sb.project_id}"
        yield sb, base, {"Authorization": f"Basic {secret}"}
        assert sb.errors == []


def _json(response: requests.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def test_crud_routes_answer_in_the_app_envelope(
    app_sandbox: tuple[Sandbox, str, dict[str, str]],
) -> None:
    _, base, auth = app_sandbox
    made = requests.post(f"{base}/notes", json={"description": "deploy", "user": "a"}, headers=auth)
    assert _json(made) == (
        201,
        {"status": "ok", "results": {"description": "deploy", "user": "a", "id": 1}},
    )
    patched = requests.patch(f"{base}/notes/1", json={"description": "rollback"}, headers=auth)
    assert patched.json()["results"] == {"description": "rollback", "user": "a", "id": 1}
    replaced = requests.put(f"{base}/notes/1", json={"description": "again"}, headers=auth)
    assert replaced.json()["results"] == {"description": "again", "id": 1, "user": "a"}
    listed = requests.get(f"{base}/notes", headers=auth)
    assert _json(listed) == (200, {"status": "ok", "results": [replaced.json()["results"]]})
    assert requests.get(f"{base}/notes/1", headers=auth).json() == replaced.json()
    assert _json(requests.delete(f"{base}/notes/1", headers=auth)) == (
        200,
        {"status": "ok", "results": {"id": 1}},
    )
    assert _json(requests.get(f"{base}/notes/1", headers=auth)) == (
        404,
        {"error": "notes 1 not found", "status": "error"},
    )
    assert requests.delete(f"{base}/notes/1", headers=auth).status_code == 404
    assert (
        requests.put(f"{base}/notes/1", json={"description": "x"}, headers=auth).status_code == 404
    )


def test_model_refusals_take_the_app_error_shape(
    app_sandbox: tuple[Sandbox, str, dict[str, str]],
) -> None:
    sb, base, auth = app_sandbox
    cases = [
        ("post", "/notes", {"json": {}}, "notes: missing required field(s) description"),
        ("post", "/notes", {"json": {"description": "d", "weekday": "Sun"}}, "weekday must be"),
        ("post", "/notes", {"data": b"{not json"}, "the body is not valid JSON"),
        ("post", "/notes", {"json": ["description"]}, "the body must be a JSON object"),
    ]
    for method, path, body, message in cases:
        status, answer = _json(requests.request(method, base + path, headers=auth, **body))
        assert status == 400 and set(answer) == {"error", "status"} and message in answer["error"]
    requests.post(f"{base}/notes", json={"description": "d", "user": "a"}, headers=auth)
    fixed = requests.patch(f"{base}/notes/1", json={"user": "b"}, headers=auth)
    assert _json(fixed) == (400, {"error": "notes: user cannot be changed", "status": "error"})
    assert sb.store.resources.count(NOTES, Context(scope={"projectId": sb.project_id})) == 1


def test_unknown_methods_and_paths(app_sandbox: tuple[Sandbox, str, dict[str, str]]) -> None:
    sb, base, auth = app_sandbox
    wrong = requests.post(f"{base}/notes/1", json={}, headers=auth)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "DELETE, GET, PATCH, PUT"
    assert wrong.json() == {
        "error": f"POST is not allowed on /api/app/projects/{sb.project_id}/notes/1; "
        "use DELETE or GET or PATCH or PUT",
        "status": "error",
    }
    missing = requests.get(f"{base}/nothing", headers=auth)
    assert _json(missing) == (
        404,
        {"error": f"unknown path /api/app/projects/{sb.project_id}/nothing", "status": "error"},
    )
    query = requests.get(f"{sb.base_url}/api/query/nothing", headers=auth)
    assert _json(query) == (
        404,
        {"request": "/api/query/nothing", "error": "unknown path /api/query/nothing"},
    )


def test_literal_segments_win_and_parameters_are_decoded(
    app_sandbox: tuple[Sandbox, str, dict[str, str]],
) -> None:
    sb, base, auth = app_sandbox
    tags = requests.get(f"{base}/notes/tags", headers=auth)
    assert tags.json() == {"tags": ["deploy"], "project": sb.project_id}
    assert requests.patch(f"{base}/notes/tags", json={}, headers=auth).status_code == 404
    put = requests.put(f"{base}/tables/plans%20v2", json={"rows": 1}, headers=auth)
    assert put.json()["results"] == {"rows": 1, "name": "plans v2"}
    assert requests.get(f"{base}/tables/plans v2", headers=auth).json()["results"]["rows"] == 1


TOKEN_REFUSED = (
    "the project token authenticates only ingestion; use a service account (with project_id)"
    " or the project secret"
)


def test_app_routes_check_the_service_account_and_the_path_project(
    app_sandbox: tuple[Sandbox, str, dict[str, str]],
) -> None:
    sb, base, auth = app_sandbox
    token = base64.b64encode(f"{sb.project_token}:".encode()).decode()
    other = base.replace(f"/projects/{sb.project_id}", "/projects/1")
    for headers, url, status, message in (
        ({}, f"{base}/notes", 401, "Unable to authenticate request"),
        ({"Authorization": f"Basic {token}"}, f"{base}/notes", 401, TOKEN_REFUSED),
        (auth, f"{other}/notes", 403, "service account has no access to project 1"),
    ):
        assert _json(requests.get(url, headers=headers)) == (
            status,
            {"error": message, "status": "error"},
        )


def test_patterns_match_whole_segments() -> None:
    route = Route("GET", "/api/app/projects/{projectId}/notes", "app", _tags)
    assert route.match("/api/app/projects/7/notes".split("/")) == {"projectId": "7"}
    assert route.match("/api/app/projects/a%2Fb/notes".split("/")) == {"projectId": "a/b"}
    for path in ("/api/app/projects//notes", "/api/app/projects/7/notes/1", "/api/app/projects/7"):
        assert route.match(path.split("/")) is None


def test_the_table_refuses_what_it_cannot_serve() -> None:
    with pytest.raises(ValueError, match="unknown API 'nope'"):
        Route("GET", "/x", "nope", _tags)
    with pytest.raises(ValueError, match="two routes for GET /track"):
        Router([*ROUTES, Route("GET", "/track", "ingestion-token", _tags)])
    with pytest.raises(ValueError, match=r"unknown operations \['archive'\]"):
        crud(NOTES, COLLECTION, item="{noteId}", ops="list archive")


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/api/query/engage", "query"),
        ("/api/query", "query"),
        ("/api/queryx", "ingestion-token"),
        ("/api/app/projects/1", "app"),
        ("/api/2.0/export", "export"),
        ("/api/2.0/nessie/pipeline/x", "pipelines"),
        ("/import", "import"),
        ("/track", "ingestion-token"),
    ],
)
def test_an_unrouted_path_belongs_to_the_api_of_its_prefix(path: str, api: str) -> None:
    assert api_of(path) == api


def test_every_route_of_the_table_is_reachable() -> None:
    router = Router(ROUTES)
    for route in ROUTES:
        path = "/".join("x" if s.startswith("{") else s for s in route.segments)
        found, _, _ = router.find(route.method, path)
        assert found is route
