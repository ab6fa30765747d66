from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli.main import main
from tests.conftest import TEST_CONNECTION

ALIAS = ["-i", "alias=user-alias-67890", "-i", "distinct_id=user-12345"]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MIXPANEL_BASE_URL",
        "MIXPANEL_USERNAME",
        "MIXPANEL_PASSWORD",
        "MIXPANEL_PROJECT_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_list_shows_actions_and_data_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "action       createAlias" in out
    assert "data source  funnels" in out


def test_dry_run_create_alias_posts_form_to_track(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIXPANEL_PROJECT_TOKEN", TEST_CONNECTION["projectToken"])
    assert main(["run", "createAlias", "--dry-run", *ALIAS]) == 0
    out = capsys.readouterr().out
    [request] = json.loads(out)
    assert request["method"] == "POST"
    assert request["url"] == "https://api.mixpanel.com/track"
    assert request["body"]["data"]["event"] == "$create_alias"
    assert request["body"]["data"]["properties"]["token"] == "***"
    assert TEST_CONNECTION["projectToken"] not in out


def test_region_input_moves_the_request_to_india(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "run",
        "createAlias",
        "--dry-run",
        *ALIAS,
        "-i",
        "project_token=tok-abcdef",
        "-i",
        "region=api-in",
    ]
    assert main(args) == 0
    [request] = json.loads(capsys.readouterr().out)
    assert request["url"] == "https://api-in.mixpanel.com/track"


def test_inputs_and_connection_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text("project_id: '2891273'\nregionAndDomain: eu.mixpanel\n")
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps(TEST_CONNECTION))
    assert (
        main(
            [
                "run",
                "listSavedFunnels",
                "--dry-run",
                "--inputs",
                str(inputs),
                "--connection",
                str(conn),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    [request] = json.loads(out)
    assert request["url"] == "https://eu.mixpanel.com/api/query/funnels/list?project_id=2891273"
    assert request["headers"]["Authorization"] == "***"
    assert TEST_CONNECTION["password"] not in out


def test_input_errors_print_one_clear_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "run",
                "createAlias",
                "--dry-run",
                "-i",
                "region=us-west",
                *ALIAS,
                "-i",
                "project_token=t-12345",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith(
        "error: Invalid input for createAlias: Region (`region`): 'us-west' is not allowed."
    )


def test_missing_connection_field_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["run", "listSavedFunnels", "-i", "project_id=1", "--base-url", "http://127.0.0.1:9"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Connection field Username (`username`)" in err
    assert "Connection field Password (`password`)" in err
    assert ".;" not in err and ":;" not in err
    assert err.rstrip().endswith(
        "Set MIXPANEL_PASSWORD, or give `password:` in a --connection file."
    )
    assert "in a --connection file; Connection field Password" in err


def test_base_url_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "run",
        "createAlias",
        "--dry-run",
        *ALIAS,
        "-i",
        "project_token=t-12345",
        "--base-url",
        "http://127.0.0.1:9",
    ]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["url"] == "http://127.0.0.1:9/track"


def test_describe_and_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "createAlias", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    alias = next(i for i in described["inputs"] if i["key"] == "alias")
    assert alias["label"] == "Alias" and alias["example"] == "user-alias-67890"
    assert main(["manifest"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["key"] == "mixpanel"
    assert [i["key"] for i in manifest["connection"]["inputs"]] == [
        "username",
        "password",
        "projectToken",
        "oauthToken",
    ]
    assert all("sample_output" in a for a in manifest["actions"])


def test_describe_unknown_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "nope"]) == 2
    assert "no action or data source 'nope'" in capsys.readouterr().err


def test_validate_passes_on_shipped_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_validate_reports_broken_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from connector.catalog.load import specs_root

    root = tmp_path / "specs"
    shutil.copytree(specs_root(), root)
    path = root / "actions" / "createAlias.yaml"
    path.write_text(path.read_text().replace('"{{ alias }}"', '"{{ alias_name }}"'))
    assert main(["validate", "--specs", str(root)]) == 1
    err = capsys.readouterr().err
    assert "actions/createAlias.yaml:" in err and "undeclared name(s) alias_name" in err


def test_several_input_errors_still_print_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "queryProfiles", "--dry-run", "-i", "project_id=abc", "-i", "page=x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: 2 invalid inputs for queryProfiles: Page (`page`): expected")
    assert "; Project ID (`project_id`): 'abc' does not have the expected form" in err


@pytest.mark.parametrize("option", ["--connection", "--inputs"])
def test_a_malformed_yaml_file_is_cited_by_line_and_column_never_by_content(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f'username: u\npassword: "{TEST_CONNECTION["password"]}\\q"\n')
    args = ["run", "listSavedFunnels", "--dry-run", "-i", "project_id=1", option, str(path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{path}, line 2, column" in err and option in err
    assert TEST_CONNECTION["password"][:6] not in err


def test_a_connection_file_alias_bomb_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.unit.core.test_yamlbound import BOMB

    path = tmp_path / "c.yaml"
    path.write_text(BOMB)
    args = ["run", "listSavedFunnels", "--dry-run", "-i", "project_id=1", "--connection", str(path)]
    assert main(args) == 2
    assert "aliases expand past" in capsys.readouterr().err


def test_dry_run_without_credentials_shows_where_they_would_go(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "listSavedFunnels", "--dry-run", "-i", "project_id=1"]) == 0
    captured = capsys.readouterr()
    [request] = json.loads(captured.out)
    assert request["auth"] == "service_account"
    assert request["headers"]["Authorization"] == "***"
    assert "<username>" not in captured.out and "<password>" not in captured.out
    assert "placeholders stand in for Username (`username`), Password (`password`)" in (
        captured.err
    )
    assert main(["run", "createAlias", "--dry-run", *ALIAS]) == 0
    [request] = json.loads(capsys.readouterr().out)
    assert request["body"]["data"]["properties"]["token"] == "***"


def test_dry_run_with_credentials_adds_no_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("USERNAME", "svc"), ("PASSWORD", "pw-123456"), ("PROJECT_TOKEN", "t")):
        monkeypatch.setenv(f"MIXPANEL_{name}", value)
    assert main(["run", "listSavedFunnels", "--dry-run", "-i", "project_id=1"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "pw-123456" not in captured.out


def test_dry_run_notes_only_the_placeholders_its_requests_use(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("USERNAME", "svc"), ("PASSWORD", "pw-123456"), ("PROJECT_TOKEN", "t")):
        monkeypatch.setenv(f"MIXPANEL_{name}", value)
    monkeypatch.delenv("MIXPANEL_OAUTH_TOKEN", raising=False)
    assert main(["run", "createDataDeletion", "--dry-run", "-i", "distinct_ids=u1"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "dry run: not given, so placeholders stand in for OAuth Token (`oauthToken`); each "
        "shows as *** where it would go\n"
    )
    assert json.loads(captured.out)[0]["headers"]["Authorization"] == "***"
