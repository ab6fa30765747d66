from __future__ import annotations

from typing import Any

from connector.catalog.crosschecks import check_limits, check_streaming, check_templates, check_wait

INPUTS = [
    {"key": "from_date", "type": "string"},
    {"key": "to_date", "type": "string"},
    {"key": "page", "type": "integer"},
    {"key": "allPages", "type": "boolean"},
]


def _op(**sections: Any) -> dict[str, Any]:
    return {"key": "x", **sections}


def test_stream_and_paging_must_name_declared_inputs() -> None:
    op = _op(
        stream={"format": "jsonl", "split": {"by": "day", "from": "from_date", "to": "end"}},
        paging={"enabled": "allPages", "records": "r", "next": {"cursor": "{{ body.c }}"}},
    )
    problems = dict(check_streaming(op, INPUTS))
    assert set(problems) == {"/stream/split/to", "/paging/next/cursor"}
    assert "names no input 'end'" in problems["/stream/split/to"]
    assert "from_date" in problems["/stream/split/to"]  # says what is declared


def test_a_stream_reads_json_lines() -> None:
    op = _op(stream={"format": "jsonl"}, response={"format": "json"})
    assert check_streaming(op, INPUTS) == [
        ("/response/format", "a `stream` action's response format is jsonl")
    ]
    assert check_streaming(_op(stream={"format": "jsonl"}), INPUTS) == []


def test_paging_templates_read_inputs_and_the_body_only() -> None:
    op = _op(
        paging={
            "enabled": "allPages",
            "records": "results",
            "next": {"page": "{{ body.page + 1 }}"},
            "stop_when": "not body.results or nope",
        }
    )
    problems = check_templates(op, INPUTS)
    assert [p for p, _ in problems] == ["/paging/stop_when"]
    assert "undeclared name(s) nope" in problems[0][1]


WAIT = {
    "enabled": "allPages",
    "resume": "page",
    "job_id": "{{ body.id }}",
    "status": "getJob",
    "inputs": {"id": "{{ job_id }}"},
    "field": "status",
    "done": ["SUCCESS"],
    "failed": ["FAILURE"],
}


def test_wait_polls_another_action_and_resumes_from_a_declared_input() -> None:
    assert check_wait(_op(wait=WAIT), INPUTS, "action", {"x", "getJob"}) == []
    wrong = {**WAIT, "status": "x", "resume": "jobId", "failed": ["SUCCESS"]}
    problems = dict(check_wait(_op(wait=wrong), INPUTS, "action", {"x", "getJob"}))
    assert set(problems) == {"/wait/status", "/wait/resume", "/wait/failed"}
    assert "names no other action 'x'; getJob" == problems["/wait/status"]
    assert "SUCCESS is both done and failed" == problems["/wait/failed"]
    assert check_wait(_op(wait=WAIT), INPUTS, "data_source", {"getJob"}) == [
        ("/wait", "only actions take `wait`")
    ]


def test_wait_templates_read_inputs_the_answer_and_the_job_id_only() -> None:
    op = _op(wait={**WAIT, "inputs": {"id": "{{ job_id }}", "n": "{{ secret_name }}"}})
    problems = dict(check_templates(op, INPUTS))
    assert list(problems) == ["/wait/inputs/n"]
    assert "undeclared name(s) secret_name" in problems["/wait/inputs/n"]


def test_limits_name_declared_inputs_and_one_kind_each() -> None:
    good = [{"input": "from_date", "to": "to_date", "max_days": 90}, {"input": "page", "max": 9}]
    assert check_limits(_op(limits=good), INPUTS) == []
    bad = [
        {"input": "from_date", "to": "end"},
        {"input": "page", "max_items": 3, "max": 9},
        {"input": "page", "max_days": 3},
    ]
    assert [p for p, _ in check_limits(_op(limits=bad), INPUTS)] == [
        "/limits/0/to",
        "/limits/1",
        "/limits/2",
    ]
