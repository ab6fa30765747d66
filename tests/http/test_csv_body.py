"""A CSV file body on the wire: streamed whole on every attempt, retried as a PUT may be."""

from __future__ import annotations

import random
from pathlib import Path

from pytest_httpserver import HTTPServer

from connector import Component, load_specs
from connector.core.redact import basic_header
from tests.conftest import TEST_CONNECTION
from tests.http.helpers import FakeClock

TABLE = "55b4fb2b-e8de-466c-930f-8b36640b9b5e"
PATH = f"/lookup-tables/{TABLE}"


def test_a_file_is_sent_whole_on_each_attempt(server: HTTPServer, tmp_path: Path) -> None:
    table = b"id,name\n" + b"".join(b"k%d,name %d\n" % (n, n) for n in range(20000))
    path = tmp_path / "table.csv"
    path.write_bytes(table)
    basic = basic_header(TEST_CONNECTION["username"], TEST_CONNECTION["password"])
    expected = {
        "method": "PUT",
        "query_string": "project_id=2891273",
        "headers": {"Content-Type": "text/csv", "Authorization": basic},
        "data": table,
    }
    server.expect_ordered_request(PATH, **expected).respond_with_data("down", status=503)
    server.expect_ordered_request(PATH, **expected).respond_with_json({"code": 200, "status": "OK"})
    clock = FakeClock()
    component = Component(
        load_specs(),
        base_url=server.url_for("/"),
        clock=clock,
        rng=random.Random(1),
        rate_registry=clock.registry(),
    )
    inputs = {"project_id": "2891273", "lookupTableId": TABLE, "csvFile": str(path)}
    result = component.run("replaceLookupTable", inputs, TEST_CONNECTION)
    assert result == {"data": {"code": 200, "status": "OK"}}
    assert len(server.log) == 2
    assert [len(request.get_data()) for request, _ in server.log] == [len(table)] * 2
    assert server.log[0][0].headers["Content-Length"] == str(len(table))
    server.check_assertions()
