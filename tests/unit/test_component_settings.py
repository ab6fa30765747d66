"""What used to be Mixpanel knowledge in code is read from the specs and applied generically."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from connector import load_component, load_specs
from connector.catalog.load import specs_root
from connector.cli.mappings import connection_of
from connector.send.retry import RetryPolicy


def _overlay(root: Path, component: str = "", connection: str = "") -> Path:
    if component:
        (root / "component.yaml").write_text(component)
    if connection:
        (root / "connection.yaml").write_text(connection)
    return root


def test_cli_reads_each_connection_field_from_the_variable_its_spec_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = argparse.Namespace(connection=None)
    monkeypatch.setenv("MIXPANEL_USERNAME", "svc")
    monkeypatch.setenv("MIXPANEL_PROJECT_TOKEN", "tok")
    shipped = load_specs().connection
    assert {f.key: f.env for f in shipped.inputs} == {
        "username": "MIXPANEL_USERNAME",
        "password": "MIXPANEL_PASSWORD",
        "projectToken": "MIXPANEL_PROJECT_TOKEN",
        "oauthToken": "MIXPANEL_OAUTH_TOKEN",
    }
    assert connection_of(args, shipped) == {"username": "svc", "projectToken": "tok"}
    text = (specs_root() / "connection.yaml").read_text()
    renamed = text.replace("env: MIXPANEL_PROJECT_TOKEN", "env: OTHER_TOKEN")
    overlay = _overlay(tmp_path, connection=renamed)
    monkeypatch.setenv("OTHER_TOKEN", "other")
    spec = load_specs(overlays=[overlay]).connection
    assert connection_of(args, spec) == {"username": "svc", "projectToken": "other"}


def test_the_base_url_variable_is_the_one_component_yaml_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIXPANEL_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("OTHER_BASE", "http://127.0.0.1:2")
    assert load_component().base_url == "http://127.0.0.1:1"
    overlay = _overlay(tmp_path, component="environment: {base_url: OTHER_BASE}\n")
    assert load_component(spec_paths=[overlay]).base_url == "http://127.0.0.1:2"
    assert load_component(base_url="http://127.0.0.1:3").base_url == "http://127.0.0.1:3"


def test_retry_guidance_comes_from_component_yaml(tmp_path: Path) -> None:
    shipped = load_component()
    assert shipped.retry.retry_statuses == frozenset({429, 502, 503, 504})
    assert shipped.retry.not_processed_statuses == frozenset({429, 503})
    overlay = _overlay(
        tmp_path, component="retry:\n  statuses: [500]\n  not_processed_statuses: [503]\n"
    )
    other = load_component(spec_paths=[overlay])
    assert other.retry.retry_statuses == frozenset({500})
    assert other.retry.not_processed_statuses == frozenset({503})
    # A caller's own policy keeps its statuses and gets the API's "not processed" list.
    mine = load_component(spec_paths=[overlay], retry=RetryPolicy(max_attempts=2))
    assert mine.retry.retry_statuses == RetryPolicy().retry_statuses
    assert mine.retry.not_processed_statuses == frozenset({503})
    explicit = RetryPolicy(not_processed_statuses=frozenset())
    assert load_component(retry=explicit).retry.not_processed_statuses == frozenset()


def test_rate_budget_scope_is_named_by_the_spec(tmp_path: Path) -> None:
    assert {n: lim.scope for n, lim in load_specs().rate_limits.items()} == {
        "query": "project",
        "export": "project",
        "gdpr": "project token",
        "lexicon": "service account",
    }
    overlay = _overlay(tmp_path, component="rate_limits:\n  query: {per_hour: 5, scope: org}\n")
    query = load_specs(overlays=[overlay]).rate_limits["query"]
    assert (query.per_hour, query.scope) == (5, "org")
