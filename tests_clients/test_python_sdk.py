"""The official `mixpanel` Python SDK against the sandbox, with only its `api_host` option."""

from __future__ import annotations

import time

import pytest
from conftest import Running, exported, groups, mixpanel_hosts_to, profiles
from mixpanel import Consumer, Mixpanel, ServiceAccountCredentials

from connector import Component


@pytest.fixture(scope="module")
def sent(sandbox: Running) -> Running:
    """Every operation the SDK offers for events, identities, profiles and groups, sent once."""
    mp = Mixpanel(sandbox.project_token, consumer=Consumer(api_host=sandbox.host))
    account = ServiceAccountCredentials(sandbox.username, sandbox.password, sandbox.project_id)
    with_account = Mixpanel(
        sandbox.project_token, consumer=Consumer(api_host=sandbox.host, credentials=account)
    )
    past = int(time.time()) - 3600
    mp.track("py-1", "py tracked", {"plan": "pro"})
    mp.import_data(
        None, "py-1", "py imported", past, {"via": "secret"}, api_secret=sandbox.project_secret
    )
    with_account.import_data(None, "py-1", "py imported", past, {"via": "service account"})
    with mixpanel_hosts_to(sandbox):  # alias() always posts to api.mixpanel.com
        mp.alias("py-alias", "py-1")
    with_account.merge(None, "py-1", "py-merged")
    mp.people_set("py-1", {"$name": "Py", "plan": "pro"})
    mp.people_set_once("py-1", {"first": "yes", "plan": "never"})
    mp.people_increment("py-1", {"logins": 2})
    mp.people_append("py-1", {"seen": "a"})
    mp.people_union("py-1", {"tags": ["x", "y"]})
    mp.people_remove("py-1", {"tags": "x"})
    mp.people_unset("py-1", ["first"])
    mp.people_track_charge("py-1", 9.5)
    mp.people_set("py-merged", {"merged": True})  # lands on py-1, merged above
    mp.people_set("py-gone", {"a": 1})
    mp.people_delete("py-gone")
    mp.group_set("company", "acme", {"size": 10})
    mp.group_set_once("company", "acme", {"size": 99, "founded": 1999})
    mp.group_union("company", "acme", {"regions": ["eu", "us"]})
    mp.group_remove("company", "acme", {"regions": "us"})
    mp.group_unset("company", "acme", ["founded"])
    mp.group_set("company", "gone", {"x": 1})
    mp.group_delete("company", "gone")
    return sandbox


def test_every_request_was_https_and_accepted(sent: Running) -> None:
    log = sent.log()
    assert log and all(entry["status"] == 200 for entry in log), log
    paths = {entry["path"] for entry in log}
    assert paths == {"/track", "/import", "/engage", "/groups"}
    imports = [e for e in log if e["path"] == "/import"]
    assert {e["auth"] for e in imports} == {"basic-secret", "basic-service-account"}


def test_events_come_back_through_the_export(sent: Running, connector: Component) -> None:
    events = exported(connector, sent)
    names = sorted(e["event"] for e in events)
    assert names == ["$create_alias", "py imported", "py imported", "py tracked"]
    imported = [e["properties"] for e in events if e["event"] == "py imported"]
    assert sorted(p["via"] for p in imported) == ["secret", "service account"]
    assert all(p["distinct_id"] == "py-1" for p in imported)


def test_profiles_come_back_through_the_query(sent: Running, connector: Component) -> None:
    found = profiles(connector, sent)
    assert set(found) == {"py-1"}  # py-gone deleted; py-merged and py-alias are py-1
    props = found["py-1"]
    assert props["$name"] == "Py" and props["plan"] == "pro" and props["merged"] is True
    assert props["logins"] == 2 and props["seen"] == ["a"] and props["tags"] == ["y"]
    assert "first" not in props
    assert [t["$amount"] for t in props["$transactions"]] == [9.5]
    by_alias = profiles(connector, sent, distinct_ids='["py-alias"]')
    assert set(by_alias) == {"py-1"}


def test_groups_come_back_through_the_query(sent: Running, connector: Component) -> None:
    assert groups(connector, sent, "company") == {"acme": {"size": 10, "regions": ["eu"]}}
