"""Each API's credential policy: which credentials it takes, and its refusals in its own shape."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.sandbox import Sandbox
from connector.sandbox.auth import POLICIES
from connector.sandbox.reply import STYLES, Call, Problem


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(project_id="4242")  # not started: policies read only its credentials
    yield sandbox
    sandbox.stop()


def _basic(user: str, secret: str = "") -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _credentials(sb: Sandbox, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query) for each credential the tests try."""
    sa = _basic(sb.username, sb.password)
    return {
        "service account": (sa, {"project_id": "4242"}),
        "service account, no project": (sa, {}),
        "service account, other project": (sa, {"project_id": "1"}),
        "project secret": (_basic(sb.project_secret), {}),
        "project secret, other project": (_basic(sb.project_secret), {"project_id": "1"}),
        "project token": (_basic(sb.project_token), {}),
        "wrong secret": (_basic(sb.username, "nope"), {"project_id": "4242"}),
        "not base64": ({"authorization": "Basic !!!"}, {}),
        "none": ({}, {}),
        "oauth": ({"authorization": f"Bearer {sb.oauth_token}"}, {"token": sb.project_token}),
        "oauth, no token": ({"authorization": f"Bearer {sb.oauth_token}"}, {}),
        "oauth, other token": ({"authorization": f"Bearer {sb.oauth_token}"}, {"token": "x"}),
        "oauth, wrong": ({"authorization": "Bearer nope"}, {"token": sb.project_token}),
    }[name]


OK = None
TOKEN_REFUSED = (401, "the project token authenticates only ingestion")
ANSWERS: dict[str, dict[str, Any]] = {
    # query, export and pipelines: a service account or the project secret, never the token
    "query": {
        "service account": OK,
        "service account, no project": (400, "project_id is required when authenticating"),
        "service account, other project": (403, "service account has no access to project 1"),
        "project secret": OK,
        "project secret, other project": (403, "Permission denied for project 1"),
        "project token": TOKEN_REFUSED,
        "wrong secret": (401, "Invalid credentials"),
        "not base64": (401, "Invalid credentials"),
        "none": (401, "Unable to authenticate request"),
        "oauth": (401, "Unable to authenticate request"),
    },
    "app": {
        "service account": OK,
        "service account, no project": OK,  # the project is the path's
        "project secret": (401, "Invalid credentials"),
        "project token": TOKEN_REFUSED,
        "none": (401, "Unable to authenticate request"),
    },
    "lookup-tables": {
        "service account": OK,
        "service account, no project": (400, "project_id is required"),
        "project secret": (401, "Invalid credentials"),
        "project token": TOKEN_REFUSED,
    },
    "flags": {
        "project token": OK,
        # Feature-flag evaluation takes the service account (with project_id) or the secret.
        "service account": OK,
        "project secret": OK,
        "none": (401, "Unable to authenticate request"),
    },
    "gdpr": {
        "oauth": OK,
        "oauth, no token": (400, "token is required"),
        "oauth, other token": (403, "token does not match this project"),
        "oauth, wrong": (401, "Invalid credentials"),
        "service account": (401, "Unable to authenticate request"),
        "none": (401, "Unable to authenticate request"),
    },
    "ingestion-token": {name: OK for name in ("none", "wrong secret", "oauth")},
}
for same in ("export", "pipelines"):
    ANSWERS[same] = ANSWERS["query"]
# /import is ingestion: it takes the project token too (as the Basic username)
ANSWERS["import"] = {**ANSWERS["query"], "project token": OK}
CASES = [(api, name, want) for api, table in ANSWERS.items() for name, want in table.items()]


@pytest.mark.parametrize(("api", "name", "want"), CASES, ids=[f"{a}: {n}" for a, n, _ in CASES])
def test_policy(sb: Sandbox, api: str, name: str, want: Any) -> None:
    headers, params = _credentials(sb, name)
    call = Call("GET", "/p", params, headers, b"", sb, path_params={"projectId": "4242"})
    if want is OK:
        POLICIES[api].check(call)
        return
    with pytest.raises(Problem) as caught:
        POLICIES[api].check(call)
    status, message = want
    answer = json.loads(caught.value.reply.body)
    assert caught.value.reply.status == status and message in answer["error"]
    shape = {"code": {"code", "error", "status"}, "query": {"request", "error"}}
    assert set(answer) == shape.get(STYLES[api], {"error", "status"})


def test_every_api_has_a_policy_and_an_error_shape() -> None:
    assert set(POLICIES) == set(STYLES) == set(ANSWERS)


def test_app_checks_each_owner_the_path_names(sb: Sandbox) -> None:
    headers, _ = _credentials(sb, "service account")
    owners = {
        "organizationId": (sb.organization_id, "organization"),
        "workspace_id": (sb.workspace_id, "workspace"),
        "project_id": (sb.project_id, "project"),
    }
    for name, (own, what) in owners.items():
        POLICIES["app"].check(Call("GET", "/p", {}, headers, b"", sb, path_params={name: own}))
        with pytest.raises(Problem) as caught:
            POLICIES["app"].check(Call("GET", "/p", {}, headers, b"", sb, path_params={name: "9"}))
        assert json.loads(caught.value.reply.body)["error"] == (
            f"service account has no access to {what} 9"
        )


def test_the_project_secret_imports_and_exports_over_http() -> None:
    with Sandbox(project_secret="s3cret") as sandbox:
        now = int(time.time()) - 60
        event = {"event": "E", "properties": {"distinct_id": "u", "time": now, "$insert_id": "a"}}
        auth = {"Authorization": _basic("s3cret")["authorization"]}
        imported = requests.post(
            f"{sandbox.base_url}/import", json=[event], headers=auth, timeout=5
        )
        assert imported.json()["num_records_imported"] == 1
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        url = f"{sandbox.base_url}/api/2.0/export?from_date={day}&to_date={day}"
        exported = requests.get(url, headers=auth, timeout=5)
        assert json.loads(exported.text)["properties"]["$insert_id"] == "a"
        wrong = {"Authorization": _basic("s3cret", "x")["authorization"]}
        refused = requests.get(url, headers=wrong, timeout=5)
        assert refused.status_code == 401
