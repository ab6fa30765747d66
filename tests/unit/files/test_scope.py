"""A resumable job's target: origin, keyed credential, keyed inputs; no secret recorded."""

from __future__ import annotations

import json

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.files.scope import Scope, scope_of
from tests.conftest import TEST_CONNECTION


def _scope(base_url: str, connection: dict[str, str], project: str) -> Scope:
    component = load_component(base_url, rate_registry=BudgetRegistry())
    inputs = {"project_id": project, "from_date": "2024-01-01", "to_date": "2024-01-02"}
    call = component.bind("downloadData", inputs, connection)
    return scope_of(call, call.values)


def test_the_scope_records_where_and_who_but_no_secret() -> None:
    scope = _scope("http://127.0.0.1:8001", TEST_CONNECTION, "7")
    recorded = json.dumps(scope.to_dict())
    assert scope.origin == "http://127.0.0.1:8001"
    for value in TEST_CONNECTION.values():
        assert value not in recorded
    assert '"7"' not in recorded  # inputs are digests too
    assert scope.difference(scope.to_dict()) == ""
    assert scope == _scope("http://127.0.0.1:8001", TEST_CONNECTION, "7")  # deterministic


def test_each_difference_is_named() -> None:
    scope = _scope("http://127.0.0.1:8001", TEST_CONNECTION, "7")
    port = _scope("http://127.0.0.1:8002", TEST_CONNECTION, "7").to_dict()
    assert scope.difference(port) == (
        "another server (http://127.0.0.1:8002, not http://127.0.0.1:8001)"
    )
    user = {**TEST_CONNECTION, "username": "someone-else"}
    assert scope.difference(_scope("http://127.0.0.1:8001", user, "7").to_dict()) == (
        "another credential"
    )
    other = _scope("http://127.0.0.1:8001", TEST_CONNECTION, "8").to_dict()
    assert scope.difference(other) == "other inputs: Project ID (project_id)"
    assert scope.difference(None) == "it records no target (server, credential and inputs)"
    assert "inputs it does not record" in scope.difference({**port, "inputs": [1]})
