from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connector import ClientError, Component, RateLimitError, load_component
from connector.core.paths import records_at
from connector.send.retry import RetryPolicy
from tests.conftest import TEST_CONNECTION
from tests.http.helpers import FakeClock

PROFILES = [{"$distinct_id": f"u{n}", "$properties": {"n": n, "tags": ["a", n]}} for n in range(5)]
PAGE_SIZE = 2
INPUTS = {"project_id": "2891273", "where": 'properties["n"] >= 0'}


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    running = HTTPServer(host="127.0.0.1")
    running.start()
    yield running
    running.clear()
    running.stop()


def _serve_pages(server: HTTPServer, seen: list[dict[str, str]], size: int = PAGE_SIZE) -> None:
    def handler(request: Request) -> Response:
        form = dict(request.form)
        seen.append(form)
        page = int(form.get("page", "0"))
        if page and form.get("session_id") != "S-1":
            return Response('{"error": "bad session"}', status=400)
        body = {
            "page": page,
            "page_size": size,
            "session_id": "S-1",
            "status": "ok",
            "total": len(PROFILES),
            "results": PROFILES[page * size : (page + 1) * size],
        }
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request("/api/query/engage", method="POST").respond_with_handler(handler)


def _component(server: HTTPServer) -> Component:
    clock = FakeClock()
    return load_component(
        server.url_for("/"),
        retry=RetryPolicy(max_attempts=1),
        clock=clock,
        rate_registry=clock.registry(),
    )


def test_all_pages_walks_every_page_with_the_session_and_stops_on_a_short_page(
    server: HTTPServer,
) -> None:
    seen: list[dict[str, str]] = []
    _serve_pages(server, seen)
    records = list(
        _component(server).iter("queryProfiles", {**INPUTS, "allPages": "true"}, TEST_CONNECTION)
    )
    assert records == PROFILES
    assert [(f.get("session_id"), f.get("page")) for f in seen] == [
        (None, None),
        ("S-1", "1"),
        ("S-1", "2"),
    ]
    assert all(f["where"] == INPUTS["where"] for f in seen)


def test_an_empty_page_ends_the_walk(server: HTTPServer) -> None:
    seen: list[dict[str, str]] = []
    _serve_pages(server, seen, size=5)  # a full first page, then an empty one
    inputs = {**INPUTS, "allPages": True}
    assert list(_component(server).iter("queryProfiles", inputs, TEST_CONNECTION)) == PROFILES
    assert len(seen) == 2


def test_without_all_pages_one_page_is_read(server: HTTPServer) -> None:
    seen: list[dict[str, str]] = []
    _serve_pages(server, seen)
    component = _component(server)
    assert list(component.iter("queryProfiles", INPUTS, TEST_CONNECTION)) == PROFILES[:2]
    assert (
        component.run("queryProfiles", INPUTS, TEST_CONNECTION)["data"]["results"] == (PROFILES[:2])
    )
    assert len(seen) == 2


def test_run_with_all_pages_returns_every_record_in_the_answer_shape(server: HTTPServer) -> None:
    seen: list[dict[str, str]] = []
    _serve_pages(server, seen)
    data = _component(server).run("queryProfiles", {**INPUTS, "allPages": "true"}, TEST_CONNECTION)[
        "data"
    ]
    assert data["results"] == PROFILES
    assert (data["session_id"], data["status"], data["total"]) == ("S-1", "ok", 5)


def test_each_page_draws_from_the_query_budget(server: HTTPServer) -> None:
    seen: list[dict[str, str]] = []
    _serve_pages(server, seen, size=1)
    clock = FakeClock()
    registry = clock.registry()
    component = load_component(server.url_for("/"), clock=clock, rate_registry=registry)
    budget = registry.budget(component.spec.rate_limits["query"])
    for _ in range(57):  # 60 queries an hour: leave 3
        budget.acquire(f"2891273 at http://{server.host}:{server.port}", max_wait_s=0).release()
    inputs = {**INPUTS, "allPages": "true"}
    got: list[Any] = []
    with pytest.raises(RateLimitError, match="60 queries per hour"):
        got.extend(component.iter("queryProfiles", inputs, TEST_CONNECTION))
    assert len(seen) == 3
    assert got == PROFILES[:3]


def test_a_walk_that_never_stops_fails_at_max_pages(server: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        page = int(request.form.get("page", "0"))
        body = {"page": page, "page_size": 1, "session_id": "S", "results": [{"n": page}]}
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request("/api/query/engage").respond_with_handler(endless)
    component = _component(server)
    op = component.spec.actions["queryProfiles"]
    capped = type(op)(**{**op.__dict__, "paging": {**op.paging, "max_pages": 3}})
    component.spec.actions["queryProfiles"] = capped
    got: list[Any] = []
    with pytest.raises(ClientError, match="stopped after 3 pages"):
        got.extend(component.iter("queryProfiles", {**INPUTS, "allPages": 1}, TEST_CONNECTION))
    assert got == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_records_at_follows_a_dotted_path() -> None:
    assert records_at({"a": {"b": [1, 2]}}, "a.b") == [1, 2]
    assert records_at({"a": None}, "a.b") == []
    assert records_at([1], "a") == []
