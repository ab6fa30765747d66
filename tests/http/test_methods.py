"""Methods on the wire: DELETE retried as idempotent, POST not; the bearer header and token sent."""

from __future__ import annotations

import random

import pytest
from pytest_httpserver import HTTPServer

from connector import Component, ServerError, load_specs
from tests.conftest import TEST_CONNECTION
from tests.http.helpers import FakeClock

JOB = "3c1b7a52-6b0c-4a8e-9d0e-2f4c1e8b9a10"
DELETIONS = "/api/app/data-deletions/v3.0"
EXPECTED = {
    "query_string": {"token": TEST_CONNECTION["projectToken"]},
    "headers": {"Authorization": f"Bearer {TEST_CONNECTION['oauthToken']}"},
}


def _component(server: HTTPServer) -> Component:
    clock = FakeClock()
    return Component(
        load_specs(),
        base_url=server.url_for("/"),
        clock=clock,
        rng=random.Random(2),
        rate_registry=clock.registry(),
    )


def test_a_delete_is_retried_after_a_server_error(server: HTTPServer) -> None:
    path = f"{DELETIONS}/{JOB}"
    server.expect_ordered_request(path, method="DELETE", **EXPECTED).respond_with_data(
        "oops", status=500
    )
    server.expect_ordered_request(path, method="DELETE", **EXPECTED).respond_with_data(
        "", status=204
    )
    result = _component(server).run("cancelDataDeletion", {"tracking_id": JOB}, TEST_CONNECTION)
    assert result == {"data": None}
    assert len(server.log) == 2
    server.check_assertions()


def test_a_post_that_may_have_reached_the_server_is_not_repeated(server: HTTPServer) -> None:
    server.expect_request(DELETIONS, method="POST", **EXPECTED).respond_with_data(
        "oops", status=500
    )
    with pytest.raises(ServerError):
        _component(server).run("createDataDeletion", {"distinct_ids": "u1"}, TEST_CONNECTION)
    assert len(server.log) == 1
    assert server.log[0][0].get_json() == {"distinct_ids": ["u1"], "compliance_type": "GDPR"}
