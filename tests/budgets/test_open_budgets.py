"""Choosing where budgets live: argument, CLI flag, the spec's environment variable, default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connector import BudgetStoreError, Component, load_component
from connector.budgets import default_url, mask_url, open_budgets
from connector.budgets.memory import DEFAULT_REGISTRY, BudgetRegistry
from connector.budgets.shared import SharedRegistry
from connector.catalog.load import load_specs
from connector.cli.main import main
from tests.budgets.conftest import EXPORT_LINE, free_port
from tests.conftest import TEST_CONNECTION, NothingMayBeSent

ENV = "MIXPANEL_CONNECTOR_BUDGETS"
EXPORT_INPUTS = {"project_id": "77", "from_date": "2024-01-01", "to_date": "2024-01-02"}


def test_the_spec_declares_the_environment_variable() -> None:
    assert load_specs().environment["budgets"] == ENV


def test_an_explicit_choice_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    monkeypatch.setenv(ENV, "memory")
    registry = load_component(budgets=url).rate_registry
    assert isinstance(registry, SharedRegistry) and registry.url == url
    assert load_component().rate_registry is DEFAULT_REGISTRY
    monkeypatch.setenv(ENV, url)
    assert load_component().rate_registry is registry  # one registry per URL in a process
    assert load_component(budgets="memory").rate_registry is DEFAULT_REGISTRY


def test_the_default_is_a_sqlite_file_in_the_user_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    expected = f"sqlite:///{tmp_path / 'mixpanel-connector' / 'budgets.sqlite3'}"
    assert default_url("mixpanel-connector") == expected
    registry = Component(load_specs()).rate_registry
    assert isinstance(registry, SharedRegistry) and registry.url == expected
    # Nothing is created until a budget is used.
    assert not (tmp_path / "mixpanel-connector").exists()


def test_an_unknown_store_is_refused_with_its_password_masked() -> None:
    with pytest.raises(BudgetStoreError) as caught:
        load_component(budgets="postgres://app:hunter2@db.internal:5432/budgets")
    assert str(caught.value) == (
        "Rate budgets at postgres://app:***@db.internal:5432/budgets cannot be used: expected "
        "memory, sqlite:///PATH or redis://HOST:PORT/DB (rediss:// for TLS)"
    )
    assert caught.value.url == "postgres://app:***@db.internal:5432/budgets"


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("redis://:s3cret@cache:6380/2") == "redis://:***@cache:6380/2"
    assert mask_url("rediss://worker:s3cret@cache/0?lease_s=5") == (
        "rediss://worker:***@cache/0?lease_s=5"
    )
    assert mask_url("redis://cache:6379/0") == "redis://cache:6379/0"
    assert mask_url("sqlite:////var/lib/b.sqlite3") == "sqlite:////var/lib/b.sqlite3"


def test_an_unusable_sqlite_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'b.sqlite3'}"
    component = load_component(budgets=url, transport=NothingMayBeSent())  # type: ignore[arg-type]
    with pytest.raises(BudgetStoreError, match=f"Rate budgets at {url} cannot be used: "):
        component.run("downloadData", EXPORT_INPUTS, TEST_CONNECTION)


def test_an_unreachable_redis_is_an_error_not_unlimited_calls() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    component = load_component(budgets=url, transport=NothingMayBeSent())  # type: ignore[arg-type]
    with pytest.raises(BudgetStoreError) as caught:
        component.run("downloadData", EXPORT_INPUTS, TEST_CONNECTION)
    message = str(caught.value)
    assert message.startswith(f"Rate budgets at {url.replace('hunter2', '***')} cannot be used: ")
    assert "ConnectionError" in message and "hunter2" not in message


def test_a_missing_redis_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "redis", None)
    with pytest.raises(BudgetStoreError, match=r"pip install 'mixpanel-connector\[redis\]'"):
        open_budgets("redis://127.0.0.1:1/9?prefix=missing-client").budget(
            load_specs().rate_limits["export"]
        )


def test_the_cli_takes_budgets(
    tmp_path: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/api/2.0/export").respond_with_data(EXPORT_LINE)
    connection = tmp_path / "connection.json"
    connection.write_text(json.dumps(TEST_CONNECTION))
    path = tmp_path / "cli.sqlite3"
    args = ["run", "downloadData", "--connection", str(connection)]
    args += ["--base-url", httpserver.url_for("/").rstrip("/")]
    args += [f"-i{k}={v}" for k, v in EXPORT_INPUTS.items()]
    assert main([*args, "--budgets", f"sqlite:///{path}"]) == 0
    assert json.loads(capsys.readouterr().out)["data"][0]["event"] == "Signed up"
    assert path.is_file()
    assert main([*args, "--budgets", "ftp://x"]) == 1
    assert "error: Rate budgets at ftp://x cannot be used: expected memory" in (
        capsys.readouterr().err
    )


def test_a_registry_given_directly_wins_over_every_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "redis://127.0.0.1:1/0")
    own = BudgetRegistry()
    assert load_component(rate_registry=own, budgets="sqlite:///unused.db").rate_registry is own


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pa/ss@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://u:pa#ss@cache/0", "redis://u:***@cache/0"),
        ("redis://cache/0?password=s3cret&lease_s=5", "redis://cache/0?password=***&lease_s=5"),
        ("redis://:s3cret@cache:99999/0", "redis://:***@cache:99999/0"),
    ],
)
def test_mask_url_hides_passwords_a_parser_would_miss(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_redis_url_with_a_bad_port_is_a_clear_error() -> None:
    from connector.budgets.limits import RateLimit

    registry = open_budgets("redis://:s3cret@127.0.0.1:99999/0")
    with pytest.raises(BudgetStoreError, match="Port out of range") as caught:
        limit = RateLimit("q", per_hour=1, per_second=None, max_concurrent=None)
        registry.budget(limit).acquire("p", max_wait_s=0)
    assert caught.value.url == "redis://:***@127.0.0.1:99999/0"
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://[::1/0",
        "rediss://[zz::1]/0",
        "redis://:pw-secret@[::1/0",
        "redis://[::1/0?password=pw-secret",
    ],
)
def test_a_url_the_parser_cannot_read_is_a_budget_store_error(url: str) -> None:
    with pytest.raises(BudgetStoreError, match="the URL cannot be read") as caught:
        open_budgets(url)
    assert "pw-secret" not in str(caught.value)
