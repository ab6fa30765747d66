"""What a batched call returns: one request's answer verbatim, or the merged totals; and the
Python API's checkpoint, which a rerun uses to skip acknowledged batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connector import APIError, RetryPolicy, load_component
from connector.budgets.memory import BudgetRegistry
from tests.conftest import TEST_CONNECTION

FAST = RetryPolicy(base_delay_s=0.0, jitter=0.0)


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {
            "event": "e",
            "properties": {"time": 1618716477 + n, "distinct_id": f"u{n}", "$insert_id": f"i{n}"},
        }
        for n in range(count)
    ]


def _run(server: HTTPServer, events: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    component = load_component(server.url_for("/"), rate_registry=BudgetRegistry(), retry=FAST)
    inputs = {"events": events, "project_id": "2891273"}
    data: dict[str, Any] = component.run("importEvents", inputs, TEST_CONNECTION, **options)["data"]
    return data


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {"code": 200, "num_records_imported": 3, "status": 1}),
        (200, {"code": 200, "num_records_imported": 3, "status": "OK", "error": None}),
        (
            400,
            {
                "code": 200,
                "num_records_imported": 2,
                "status": "OK",
                "failed_records": [
                    {"index": 1, "insert_id": "i1", "field": "properties.time", "message": "x"}
                ],
            },
        ),
    ],
)
def test_one_request_returns_the_answer_as_sent_with_the_totals_beside_it(
    httpserver: HTTPServer, status: int, answer: dict[str, Any]
) -> None:
    httpserver.expect_request("/import").respond_with_json(answer, status=status)
    data = _run(httpserver, _events(3))
    assert {key: data[key] for key in answer} == answer  # nothing rewritten, nothing dropped
    failed = len(answer.get("failed_records", []))
    assert (data["records_sent"], data["records_failed"], data["requests"]) == (3, failed, 1)
    assert data["records_imported"] == answer["num_records_imported"]


def test_several_requests_merge_failed_records_by_caller_index_and_list_each_error(
    httpserver: HTTPServer,
) -> None:
    answers = iter(
        [
            {"code": 400, "num_records_imported": 1999, "status": "Bad Request",
             "error": "some data points failed",
             "failed_records": [{"index": 5, "$insert_id": "i5", "field": "x", "message": "bad"}]},
            {"code": 400, "num_records_imported": 999, "status": "Bad Request",
             "error": "other failure",
             "failed_records": [{"index": 0, "$insert_id": "i2000", "message": "bad"}]},
        ]
    )  # fmt: skip
    httpserver.expect_request("/import").respond_with_handler(
        lambda request: Response(json.dumps(next(answers)), 400, content_type="application/json")
    )
    data = _run(httpserver, _events(3000), workers=1)
    assert [entry["index"] for entry in data["failed_records"]] == [5, 2000]
    assert data["errors"] == ["some data points failed", "other failure"]
    assert (data["records_sent"], data["records_imported"], data["records_failed"]) == (
        3000,
        2998,
        2,
    )
    assert data["requests"] == 2


def test_a_checkpoint_lets_a_rerun_skip_the_acknowledged_batches(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    bodies: list[int] = []
    calls = [0]

    def answer(request: Request) -> Response:
        import gzip

        events = json.loads(gzip.decompress(request.get_data()))
        bodies.append(len(events))
        calls[0] += 1
        if calls[0] == 3:  # the first run's third request only
            return Response(
                '{"code": 401, "error": "Unauthorized"}', 401, content_type="application/json"
            )
        body = {"code": 200, "num_records_imported": len(events), "status": "OK"}
        return Response(json.dumps(body), 200, content_type="application/json")

    httpserver.expect_request("/import").respond_with_handler(answer)
    checkpoint = tmp_path / "import.checkpoint"
    events = _events(9000)  # batches of 2000, 2000, 2000, 2000, 1000
    with pytest.raises(APIError):
        _run(httpserver, events, workers=1, checkpoint=checkpoint)
    ranges = json.loads(checkpoint.read_text())["acknowledged"]
    acked = {n for first, last in ranges for n in range(first, last + 1)}
    assert {0, 1} <= acked and 2 not in acked  # batch 3 may have been answered too
    bodies.clear()
    data = _run(httpserver, events, workers=1, checkpoint=checkpoint)
    sizes = [2000, 2000, 2000, 2000, 1000]
    assert sorted(bodies) == sorted(sizes[n] for n in range(5) if n not in acked)
    skipped = sum(sizes[n] for n in acked)
    assert (data["batches_skipped"], data["records_skipped"]) == (len(acked), skipped)
    assert data["records_sent"] == 9000 - skipped
    assert not checkpoint.exists()
    # Other inputs: the checkpoint is not theirs, nothing is skipped.
    checkpoint.write_text(json.dumps({"version": 1, "key": "other", "acknowledged": [[0, 4]]}))
    bodies.clear()
    _run(httpserver, events, workers=1, checkpoint=checkpoint)
    assert len(bodies) == 5
