"""Adaptive concurrency over HTTP: 429s shrink the requests in flight, good answers grow it."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Mapping
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connector import load_component
from connector.budgets.memory import BudgetRegistry

CONNECTION = {"username": "sa-user", "password": "sa-secret-1", "projectToken": "tok-123456"}

BATCHES = 40


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {
            "event": "Played",
            "properties": {"time": 1618716477 + n, "distinct_id": f"u{n}", "$insert_id": f"i{n}"},
        }
        for n in range(count)
    ]


class Throttling:
    """/import that answers 429 (Retry-After: 0) to the 2nd, 3rd and 4th request, then 200."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen = 0
        self.ids: list[str] = []

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.seen += 1
            number = self.seen
        if 2 <= number <= 4:
            return Response('{"error": "rate limited"}', 429, {"Retry-After": "0"})
        body = json.loads(gzip.decompress(request.get_data()))
        with self.lock:
            self.ids += [e["properties"]["$insert_id"] for e in body]
        answer = {"code": 200, "num_records_imported": len(body), "status": "OK"}
        return Response(json.dumps(answer), 200, content_type="application/json")


class Figures:
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def update(self, figures: Mapping[str, float | int | str]) -> None:
        self.seen.append(dict(figures))


def _run(server: HTTPServer, **options: Any) -> tuple[dict[str, Any], Throttling, Figures]:
    handler, figures = Throttling(), Figures()
    server.expect_request("/import", method="POST").respond_with_handler(handler)
    component = load_component(base_url=server.url_for("/"), rate_registry=BudgetRegistry())
    inputs = {"events": _events(BATCHES * 2000), "project_id": "1"}
    result = component.run("importEvents", inputs, CONNECTION, progress=figures, **options)
    return result["data"], handler, figures


def test_429s_halve_the_requests_in_flight_and_good_answers_grow_them_back(
    server: HTTPServer,
) -> None:
    data, handler, figures = _run(server)
    limits = [f["concurrency"] for f in figures.seen]
    assert limits[0] == 16  # the spec's ceiling, from the start
    # Halved by the 429s (each figure is taken after a good answer, which already adds one) ...
    low = limits.index(min(limits))
    assert min(limits) <= 9
    # ... held there while the answers to requests sent before the 429s come back (16 went out
    # at once, 3 were throttled: 13 at most), then grown back one good answer at a time by the
    # answers to requests sent since (later, latency may move it: this loopback server shares
    # the machine's CPU with the client)
    climb = limits[low : limits.index(min(limits) + 4)]
    steps = [after - before for before, after in zip(climb, climb[1:], strict=False)]
    assert set(steps) <= {0, 1} and steps.count(1) == 3  # one at a time, never down
    assert steps.count(0) <= 16 - 3  # held only by answers to requests sent before the 429s
    assert data["concurrency_decisions"][0] == "16 -> 8: answer 429"
    assert data["concurrency_decisions"][1] == "8 -> 9: recovering below the throttled level"
    assert data["requests_throttled"] == 3 and figures.seen[-1]["throttled"] == 3
    assert data["concurrency"] == limits[-1]
    assert data["requests"] == BATCHES + 3 and data["requests_retried"] == 3
    assert sorted(handler.ids) == sorted(f"i{n}" for n in range(BATCHES * 2000))  # once each


def test_workers_pin_the_number_and_the_throttles_are_still_counted(server: HTTPServer) -> None:
    data, handler, figures = _run(server, workers=3)
    assert {f["concurrency"] for f in figures.seen} == {3}
    assert data["concurrency"] == 3 and data["requests_throttled"] == 3
    assert data["records_imported"] == BATCHES * 2000 == len(handler.ids)
