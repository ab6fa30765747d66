"""The official `mixpanel` node SDK against the sandbox: node/sdk.js sends, the connector reads."""

from __future__ import annotations

import pytest
from conftest import Running, exported, groups, profiles, run_node

from connector import Component


@pytest.fixture(scope="module")
def sent(sandbox: Running) -> Running:
    """node/sdk.js has run every operation; it fails on any answer other than `1`."""
    run_node("sdk.js", sandbox)
    return sandbox


def test_every_request_was_accepted_with_get_where_the_sdk_uses_it(sent: Running) -> None:
    log = sent.log()
    assert log and all(entry["status"] == 200 for entry in log), log
    methods = {(e["method"], e["path"]) for e in log}
    assert ("GET", "/track") in methods and ("POST", "/track") in methods
    assert ("GET", "/import") in methods and ("POST", "/import") in methods
    assert ("GET", "/engage") in methods and ("GET", "/groups") in methods
    assert {e["auth"] for e in log if e["path"] == "/import"} == {"basic-secret"}


def test_events_come_back_through_the_export(sent: Running, connector: Component) -> None:
    names = sorted(e["event"] for e in exported(connector, sent))
    assert names == sorted(
        ["$create_alias", "node tracked", "node verbose", "node batch", "node batch"]
        + ["node imported", "node import batch", "node import batch"]
    )


def test_profiles_come_back_through_the_query(sent: Running, connector: Component) -> None:
    found = profiles(connector, sent)
    assert set(found) == {"node-1", "node-charged"}
    props = found["node-1"]
    assert props["$name"] == "Node" and props["plan"] == "pro" and props["via_alias"] is True
    assert props["logins"] == 3 and props["seen"] == ["a"] and props["tags"] == ["y"]
    assert "first" not in props and [t["$amount"] for t in props["$transactions"]] == [7]
    assert found["node-charged"]["$transactions"] == []


def test_groups_come_back_through_the_query(sent: Running, connector: Component) -> None:
    assert groups(connector, sent, "company") == {"acme": {"size": 10, "regions": ["eu"]}}
