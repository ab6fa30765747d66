"""`mixpanel-import` (npm) against the sandbox: node/import.js sends; the connector reads back.

It has no host option, so node/redirect.js sends its connections to `*.mixpanel.com:443` to the
sandbox (certificates still checked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Running, exported, groups, profiles, run_node

from connector import Component


@pytest.fixture(scope="module")
def sent(sandbox: Running, tmp_path_factory: pytest.TempPathFactory) -> tuple[Running, Path]:
    """node/import.js has imported, updated profiles and groups, and exported both back."""
    out = tmp_path_factory.mktemp("mixpanel-import")
    run_node("import.js", sandbox, redirect=True, OUTPUT_DIR=str(out))
    return sandbox, out


def _lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        found = [json.loads(line) for line in text.splitlines() if line.strip()]
    return found if isinstance(found, list) else [found]


def test_every_step_succeeded_and_every_request_was_accepted(sent: tuple[Running, Path]) -> None:
    sandbox, out = sent
    results = json.loads((out / "results.json").read_text())
    steps = {k: v for k, v in results.items() if "success" in v}
    assert len(steps) == 16 and all(v["failed"] == 0 and v["success"] for v in steps.values())
    log = sandbox.log()
    assert log and all(entry["status"] == 200 for entry in log), log
    auths = {(e["path"], e["auth"]) for e in log}
    assert ("/import", "basic-service-account") in auths and ("/import", "basic-secret") in auths
    assert {e["path"] for e in log} == {"/import", "/engage", "/groups", "/api/2.0/export"} | {
        "/api/2.0/engage"
    }


def test_its_exports_read_back_what_it_sent(sent: tuple[Running, Path]) -> None:
    _, out = sent
    results = json.loads((out / "results.json").read_text())
    events = _lines(Path(results["export"]["file"]))
    assert sorted(e["event"] for e in events) == ["$create_alias", "mi imported", "mi imported"]
    users = [p for f in results["profileExport"]["file"] for p in _lines(Path(f))]
    assert [u["$distinct_id"] for u in users] == ["mi-1"]


def test_data_comes_back_through_the_connector(
    sent: tuple[Running, Path], connector: Component
) -> None:
    sandbox, _ = sent
    vias = sorted(
        e["properties"]["via"] for e in exported(connector, sandbox) if e["event"] == "mi imported"
    )
    assert vias == ["secret", "service account"]
    found = profiles(connector, sandbox)
    assert set(found) == {"mi-1"}  # mi-merged is mi-1 since the $merge
    props = found["mi-1"]
    assert props["$name"] == "Import" and props["plan"] == "pro" and props["merged"] is True
    assert props["logins"] == 5 and props["seen"] == ["a"] and props["tags"] == ["y"]
    assert "first" not in props
    assert groups(connector, sandbox, "company") == {"acme": {"size": 10, "regions": ["eu"]}}
