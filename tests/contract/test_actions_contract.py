"""Every action, rendered from the seed's examples, is a request Mixpanel's OpenAPI accepts."""

from __future__ import annotations

import pytest

from connector import Component, load_component
from tests.conftest import TEST_CONNECTION
from tests.contract.wire import WireRequest, check_wire_request
from tests.specs.cases import example_inputs

COMPONENT = load_component()
OPERATIONS = {**COMPONENT.spec.actions, **COMPONENT.spec.data_sources}

# The generic request actions have no single OpenAPI operation: the URL is the user's. Their
# example requests are checked against the operation the example URL names.
GENERIC_OPERATION = {"rawRequest": "funnels-list-saved"}


def _wire(component: Component, key: str) -> WireRequest:
    op = {**component.spec.actions, **component.spec.data_sources}[key]
    request, authorization = component.prepare(op, example_inputs(op), TEST_CONNECTION)
    headers = dict(request.headers)
    if authorization:
        headers["Authorization"] = authorization
    if request.body_format == "multipart":
        pytest.skip("multipart bodies are not described by Mixpanel's OpenAPI")
    return WireRequest(request.method, request.full_url, headers, request.content)


def test_every_action_and_data_source_is_covered() -> None:
    assert len(COMPONENT.spec.actions) == 108
    assert len(COMPONENT.spec.data_sources) == 8
    missing = [k for k, op in OPERATIONS.items() if not op.openapi and k not in GENERIC_OPERATION]
    assert missing == []


@pytest.mark.parametrize("key", sorted(OPERATIONS))
def test_example_request_matches_mixpanel_openapi(key: str) -> None:
    # A component loaded here, not at import: tools/mutate.py then counts this check against
    # each operation's mutants (the data sources have no example cassette of their own).
    component = load_component()
    op = {**component.spec.actions, **component.spec.data_sources}[key]
    operation_id = op.openapi.get("operation_id") or GENERIC_OPERATION[key]
    problems = check_wire_request(_wire(component, key), operation_id=operation_id)
    assert problems == []


@pytest.mark.parametrize("key", ["importEvents", "queryProfiles", "downloadData"])
def test_a_wrong_request_is_caught(key: str) -> None:
    """The contract check can fail: drop the project id from a correct request."""
    wire = _wire(COMPONENT, key)
    broken = WireRequest(
        wire.method, wire.url.replace("project_id=2891273", "project_id="), wire.headers, wire.body
    )
    assert check_wire_request(broken, operation_id=OPERATIONS[key].openapi["operation_id"]) != []
