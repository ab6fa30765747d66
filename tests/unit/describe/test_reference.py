"""The reference generator: byte-for-byte docs/reference.md, request facts, lifecycle notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import load_specs
from connector.cli.main import main
from connector.describe.reference import render_reference
from tests.conftest import ROOT

REFERENCE = ROOT / "docs" / "reference.md"


def test_docs_command_writes_the_shipped_reference_byte_for_byte(tmp_path: Path) -> None:
    assert main(["docs", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "reference.md").read_bytes() == REFERENCE.read_bytes()
    assert main(["docs", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "reference.md").write_text("old\n")
    assert main(["docs", "--out", str(tmp_path), "--check"]) == 1


def test_docs_without_out_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs"]) == 0
    assert capsys.readouterr().out == REFERENCE.read_text(encoding="utf-8")


def _section(text: str, label: str) -> str:
    return text.split(f"### {label}\n", 1)[1].split("\n### ", 1)[0]


def test_each_action_shows_method_url_per_region_auth_and_budget() -> None:
    text = render_reference(load_specs())
    alias = _section(text, "Create Alias")
    assert "- Method: `POST`" in alias
    for region in ("api", "api-eu", "api-in"):
        assert f"Region (`region`) `{region}`: `https://{region}.mixpanel.com/track`" in alias
    assert "- Authentication: `none`: No Authorization header" in alias
    assert "Rate budget" not in alias
    funnels = _section(text, "Query Funnel Saved Reports")
    assert "- Rate budget: Query API (`query`): 60 queries per hour, 5 at once" in funnels
    assert "`service_account` or `project_token`, depending on Use Project Token" in funnels
    raw = _section(text, "Raw Request")
    assert "- Method: set by Method (`method`)" in raw
    assert "- URL: built from Base URL (`baseUrl`), URL (`url`)" in raw


def test_lifecycle_declarations_are_rendered() -> None:
    text = render_reference(load_specs())
    assert "- Lifecycle: **maintenance**: Mixpanel keeps JQL" in _section(text, "Custom JQL Query")
    assert "- Lifecycle: **maintenance**" in _section(text, "Query Funnel Saved Reports")
    assert "- Lifecycle: **legacy**" in _section(text, "List Pipelines")
    assert "**retiring**: Project secret authentication:" in text
    assert "Lifecycle" not in _section(text, "Import Events")


def test_a_lifecycle_in_an_overlay_renders_the_same_way(tmp_path: Path) -> None:
    shipped = (ROOT / "specs" / "actions" / "createAlias.yaml").read_text()
    notice = "lifecycle:\n  status: deprecated\n  message: Use Create Identity.\n"
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "createAlias.yaml").write_text(
        shipped.replace("\ninputs:\n", f"\n{notice}inputs:\n", 1)
    )
    alias = _section(render_reference(load_specs(overlays=[tmp_path])), "Create Alias")
    assert "- Lifecycle: **deprecated**: Use Create Identity." in alias
    assert f"From the overlay folder `{tmp_path}` (`actions/createAlias.yaml`)." in alias


def test_batch_limits_a_spec_declares_are_rendered() -> None:
    text = render_reference(load_specs())
    imports = _section(text, "Import Events")
    line = next(x for x in imports.splitlines() if x.startswith("- Batching:"))
    assert "max items 2,000" in line and "max bytes 10,000,000" in line
    assert "max item bytes 1,000,000" in line
    assert "{{" not in line  # templates (fills, result reading) are not limits
    assert "Batching" not in _section(text, "Create Alias")


def test_the_reference_states_limits_waits_and_body_limits() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    deletion = text.split("### Create Data Deletion", 1)[1].split("### ", 1)[0]
    assert "- Limits checked before sending: Distinct IDs (`distinct_ids`) at most 2,000 items" in (
        deletion
    )
    assert (
        "- Waits for its job when `waitForCompletion`: checks Get Data Deletion Status until "
        "`results.status` is SUCCESS (failed: FAILURE, REVOKED, NOT_FOUND); Tracking ID "
        "(`tracking_id`) resumes a job created earlier"
    ) in deletion
    table = text.split("### Replace Lookup Table", 1)[1].split("### ", 1)[0]
    assert "- Body limit: 104,857,600 bytes (100 MB), checked before sending" in table
