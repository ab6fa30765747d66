"""An answer quoting a record's own token is masked: in results, errors, logs and retries.

The records carry tokens the connection does not know (each event its `properties.token`, each
profile update its `$token`); a local server answers as Mixpanel might, quoting them back.
"""

from __future__ import annotations

import gzip
import json
import logging
import pickle
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from connector import AuthError, ClientError, ServerError
from connector.send.retry import RetryPolicy
from tests.conftest import TEST_CONNECTION

from .helpers import FakeClock
from .test_behaviour import make

TOKEN_A = "tokA-0123456789abcdef0123"
TOKEN_B = "tokB-fedcba9876543210fedc"


def _events(count: int, token_of: Any) -> list[dict[str, Any]]:
    return [
        {
            "event": "e",
            "properties": {
                "time": 1618716477000,
                "distinct_id": f"u{n}",
                "$insert_id": f"id-{n}",
                "token": token_of(n),
            },
        }
        for n in range(count)
    ]


def _hidden(*texts: str) -> None:
    for text in texts:
        assert TOKEN_A not in text and TOKEN_B not in text
        assert TOKEN_A[:10] not in text and TOKEN_B[-10:] not in text


@pytest.mark.parametrize("where", ["first batch", "second batch"])
def test_failed_records_quoting_a_token_are_masked(
    server: HTTPServer, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Mixpanel's /import names refused records; here its message quotes each token."""
    caplog.set_level(logging.DEBUG)

    def answer(request: Any) -> Any:
        from werkzeug import Response

        sent = json.loads(gzip.decompress(request.get_data()))  # /import bodies go gzipped
        failed = [
            {
                "index": i,
                "$insert_id": event["properties"]["$insert_id"],
                "field": "properties.token",
                "message": f"token {event['properties']['token']!r} is not this project's",
            }
            for i, event in enumerate(sent)
            if event["properties"]["token"] == TOKEN_B
        ]
        body = {"code": 400 if failed else 200, "num_records_imported": len(sent) - len(failed)}
        body |= {"status": "Bad Request" if failed else "OK", "failed_records": failed}
        return Response(json.dumps(body), status=400 if failed else 200)

    server.expect_request("/import").respond_with_handler(answer)
    first = 2 if where == "first batch" else 2000
    events = _events(2500, lambda n: TOKEN_B if n in (first, 2400) else TOKEN_A)
    inputs = {"events": events, "project_id": "2891273"}
    result = make(server.url_for("/"), FakeClock()).run("importEvents", inputs, TEST_CONNECTION)
    data = result["data"]
    assert [entry["index"] for entry in data["failed_records"]] == [first, 2400]
    assert all(
        entry["message"] == "token '***' is not this project's" for entry in data["failed_records"]
    )
    _hidden(json.dumps(result), caplog.text)


def test_a_rejection_quoting_the_token_is_masked_in_the_error(server: HTTPServer) -> None:
    server.expect_request("/track").respond_with_json(
        {"status": 0, "error": f"token {TOKEN_A} is not a valid project token"}
    )
    inputs = {"events": _events(3, lambda n: TOKEN_A), "useProjectToken": False, "verbose": True}
    with pytest.raises(ClientError) as caught:
        make(server.url_for("/"), FakeClock()).run("trackEvents", inputs, {})
    error = caught.value
    assert "token *** is not a valid project token" in str(error)
    _hidden(str(error), repr(vars(error)), pickle.dumps(error).decode("latin-1"))


@pytest.mark.parametrize(
    ("status", "raised"), [(401, AuthError), (400, ClientError), (503, ServerError)]
)
def test_a_profile_error_quoting_its_token_is_masked_in_errors_and_retry_logs(
    server: HTTPServer, status: int, raised: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request("/engage").respond_with_data(
        json.dumps({"error": f"$token {TOKEN_B} refused", "status": 0}), status=status
    )
    updates = [{"$token": TOKEN_B, "$distinct_id": "u1", "$set": {"plan": "pro"}}]
    component = make(
        server.url_for("/"),
        FakeClock(),
        retry=RetryPolicy(max_attempts=3, base_delay_s=0.01, retry_5xx=True),
    )
    with pytest.raises(raised) as caught:
        component.run("updateMultipleProfiles", {"propertiesToUpdate": updates}, {})
    error = caught.value
    assert "***" in str(error)
    _hidden(str(error), repr(vars(error)), caplog.text, pickle.dumps(error).decode("latin-1"))
