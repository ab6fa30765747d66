"""`mixpanel-utils` against the sandbox, authenticated by the project secret or a service account.

It has no host option (only `residency`), so each instance's three base URLs are set to the
sandbox's: `raw_api` (the export), `import_api` (/import, /engage) and `formatted_api` (the
Query API's legacy /api/2.0 paths).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from conftest import Running, exported, profiles, today, yesterday
from mixpanel_utils import MixpanelUtils

from connector import Component


def _pointed(client: MixpanelUtils, sandbox: Running) -> MixpanelUtils:
    client.raw_api = f"{sandbox.base_url}/api"
    client.import_api = sandbox.base_url
    client.formatted_api = f"{sandbox.base_url}/api"
    return client


@pytest.fixture(scope="module")
def clients(sandbox: Running) -> dict[str, MixpanelUtils]:
    """One client per credential: the project secret, and a service account."""
    secret = MixpanelUtils(sandbox.project_secret, token=sandbox.project_token, pool_size=2)
    account = MixpanelUtils(
        sandbox.password,
        token=sandbox.project_token,
        service_account_username=sandbox.username,
        project_id=sandbox.project_id,
        pool_size=2,
    )
    return {"secret": _pointed(secret, sandbox), "account": _pointed(account, sandbox)}


def _event(name: str, distinct_id: str, n: int, **props: Any) -> dict[str, Any]:
    at = int(time.time()) - 3600
    properties = {"distinct_id": distinct_id, "time": at, "$insert_id": f"mu-{n}"}
    return {"event": name, "properties": {**properties, **props}}


@pytest.fixture(scope="module")
def sent(
    sandbox: Running, clients: dict[str, MixpanelUtils], tmp_path_factory: pytest.TempPathFactory
) -> Running:
    """Imports (both credentials), identity merges and every profile operation, sent once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("mixpanel-utils"))  # where it writes its backups
        secret, account = clients["secret"], clients["account"]
        secret.import_events([_event("mu imported", "mu-1", 1, via="secret")], timezone_offset=0)
        account.import_events(
            [
                _event("mu imported", "mu-1", 2, via="service account"),
                _event("$create_alias", "mu-1", 3, alias="mu-alias"),
                _event("$merge", "mu-1", 4, **{"$distinct_ids": ["mu-1", "mu-merged"]}),
            ],
            timezone_offset=0,
        )
        one = [{"$distinct_id": "mu-1"}]
        account.people_set({"$name": "Utils", "plan": "pro"}, profiles=one, backup=False)
        account.people_set_once({"first": "yes", "plan": "x"}, profiles=one, backup=False)
        account.people_add({"logins": 4}, profiles=one, backup=False)
        account.people_append({"seen": "a"}, profiles=one, backup=False)
        account.people_union({"tags": ["x", "y"]}, profiles=one, backup=False)
        account.people_remove({"tags": "x"}, profiles=one, backup=False)
        account.people_unset(["first"], profiles=one, backup=False)
        account.people_set({"merged": True}, [{"$distinct_id": "mu-merged"}], backup=False)
        secret.import_people([{"$distinct_id": "mu-gone", "$properties": {"a": 1}}])
        account.people_delete(profiles=[{"$distinct_id": "mu-gone"}], backup=False)
    return sandbox


def test_every_request_was_accepted(sent: Running) -> None:
    log = sent.log()
    assert log and all(entry["status"] == 200 for entry in log), log
    imports = [e for e in log if e["path"] == "/import"]
    assert {e["auth"] for e in imports} == {"basic-secret", "basic-service-account"}


def test_its_export_and_engage_query_read_what_was_sent(
    sent: Running, clients: dict[str, MixpanelUtils]
) -> None:
    for client in clients.values():
        events = client.query_export({"from_date": yesterday(), "to_date": today()})
        names = sorted(e["event"] for e in events)
        assert names == ["$create_alias", "mu imported", "mu imported"]
        found = client.query_engage({"where": 'properties["plan"] == "pro"'})
        assert [p["$distinct_id"] for p in found] == ["mu-1"]
    log = sent.log()
    assert {e["path"] for e in log if e["method"] == "GET"} >= {
        "/api/2.0/export",
        "/api/2.0/engage",
    }


def test_events_and_profiles_come_back_through_the_connector(
    sent: Running, connector: Component
) -> None:
    events = exported(connector, sent)
    vias = sorted(e["properties"]["via"] for e in events if e["event"] == "mu imported")
    assert vias == ["secret", "service account"]
    found = profiles(connector, sent)
    assert set(found) == {"mu-1"}  # mu-gone deleted; mu-merged is mu-1 since the $merge
    props = found["mu-1"]
    assert props["$name"] == "Utils" and props["plan"] == "pro" and props["merged"] is True
    assert props["logins"] == 4 and props["seen"] == ["a"] and props["tags"] == ["y"]
    assert "first" not in props


def test_jql_is_refused_clearly(
    sent: Running, clients: dict[str, MixpanelUtils], caplog: pytest.LogCaptureFixture
) -> None:
    since = sent.log()[-1]["id"]
    # 501 Not Implemented, with the reason: it logs the answer, retries (as for any 5xx) and
    # gives up with "Maximum retries reached" (a bare BaseException)
    with caplog.at_level(logging.ERROR), pytest.raises(BaseException):  # noqa: B017, PT011
        clients["account"].query_jql("function main() { return Events({}); }")
    assert "HTTP Error Code: 501" in caplog.text
    assert "The sandbox does not run JQL" in caplog.text
    refused = sent.log(since)
    assert refused and {(e["path"], e["status"]) for e in refused} == {("/api/2.0/jql", 501)}


def test_a_project_token_cannot_read_the_export(
    sent: Running, caplog: pytest.LogCaptureFixture
) -> None:
    client = _pointed(MixpanelUtils(sent.project_token, token=sent.project_token), sent)
    # it logs the refusal, then fails on the missing answer
    with caplog.at_level(logging.ERROR), pytest.raises(AttributeError):
        client.query_export({"from_date": yesterday(), "to_date": today()})
    assert "HTTP Error Code: 401" in caplog.text
    assert "the project token authenticates only ingestion" in caplog.text
