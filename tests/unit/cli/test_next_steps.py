"""Every error names the next step: one row per message a newcomer met pointing the wrong way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector import InputError, load_component
from connector.cli.main import main
from connector.sandbox import Sandbox


@dataclass(frozen=True)
class Case:
    """A command line (`{sandbox}`, `{project}` and `{tmp}` filled in), its exit code, and
    what its one line of stderr must and must not say."""

    name: str
    argv: str
    code: int
    says: tuple[str, ...]
    never: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    credentials: bool = False  # the sandbox's own username and password in the environment


CASES = [
    Case(
        "missing credentials name their variables and --connection",
        "run listSavedFunnels -i project_id=1",
        2,
        (
            "Set MIXPANEL_USERNAME, or give `username:` in a --connection file",
            "Set MIXPANEL_PASSWORD, or give `password:` in a --connection file",
        ),
    ),
    Case(
        "a --connection file without a field says to add it there",
        "run listSavedFunnels --connection {tmp}/mixpanel.yaml -i project_id=1",
        2,
        ("Give `username:` in {tmp}/mixpanel.yaml",),
        ("MIXPANEL_USERNAME",),
        files=(("mixpanel.yaml", "password: x\n"),),
    ),
    Case(
        "the ingestion Region on the export names Data and Domain",
        "run downloadData -i region=api-eu -i project_id=1 -i from_date=2026-01-01 "
        "-i to_date=2026-01-01",
        2,
        ("takes Data and Domain (`dataAndDomain`) instead: give dataAndDomain=data-eu",),
    ),
    Case(
        "the ingestion Region on a query names Region and Domain",
        "run queryProfiles -i region=api-in -i project_id=1",
        2,
        ("takes Region and Domain (`regionAndDomain`) instead: give regionAndDomain=in.mixpanel",),
    ),
    Case(
        "the export's place on an ingestion action names Region",
        "run createAlias -i dataAndDomain=data-eu -i alias=a -i distinct_id=b --dry-run",
        2,
        ("takes Region (`region`) instead: give region=api-eu",),
    ),
    Case(
        "describe has a did-you-mean",
        "describe queryProfile",
        2,
        ("Did you mean queryProfiles",),
    ),
    Case(
        "run has a did-you-mean",
        "run queryProfile",
        2,
        ("Did you mean queryProfiles",),
    ),
    Case(
        "a mistyped command has a did-you-mean",
        "sandbx",
        2,
        ("did you mean 'sandbox'?",),
    ),
    Case(
        "a file name given as JSON points to --input-file",
        "run importEvents -i events=events.jsonl.gz -i project_id=1",
        2,
        ("use --input-file events=events.jsonl.gz",),
    ),
    Case(
        "a malformed --connection file gets plain words and the file's shape",
        "run listSavedFunnels --connection {tmp}/bad.yaml -i project_id=1",
        2,
        (
            "{tmp}/bad.yaml, line 2, column 1: not valid YAML: a bracket, brace or quote opened "
            "earlier is never closed",
            "one `FIELD: value` line per connection field",
        ),
        ("did not find expected", "…"),
        files=(("bad.yaml", "username: [a\n"),),
    ),
    Case(
        "a refused token names the credential used, and the sandbox answered",
        "run trackEvents --base-url {sandbox} "
        """-i events=[{{"event":"a","properties":{{"distinct_id":"u","token":"wrong"}}}}]""",
        1,
        (
            "The sandbox refused the credentials (HTTP 401)",
            "Credentials used: Project Token (`projectToken`), in the request itself",
        ),
        ("Mixpanel", "none (no credentials)"),
        credentials=True,
    ),
    Case(
        "a project the service account cannot see: the sandbox said so, not Mixpanel",
        "run listSavedFunnels --base-url {sandbox} -i project_id=999",
        1,
        (
            "The sandbox denied access with these credentials (HTTP 403)",
            "Credentials used: service_account (Username (`username`) + Password (`password`))",
        ),
        ("Mixpanel",),
        credentials=True,
    ),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_error_names_the_next_step(
    case: Case,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("MIXPANEL_USERNAME", "MIXPANEL_PASSWORD", "MIXPANEL_PROJECT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("MIXPANEL_BASE_URL", raising=False)
    if case.credentials:
        monkeypatch.setenv("MIXPANEL_USERNAME", sandbox.username)
        monkeypatch.setenv("MIXPANEL_PASSWORD", sandbox.password)
        monkeypatch.setenv("MIXPANEL_PROJECT_TOKEN", sandbox.project_token)
    for name, text in case.files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    fill = {"sandbox": sandbox.base_url, "tmp": str(tmp_path)}
    argv = case.argv.format(**fill).split(" ")
    assert main(argv) == case.code
    error = capsys.readouterr().err
    for text in case.says:
        assert text.format(**fill) in error
    for text in case.never:
        assert text not in error


def test_python_callers_get_the_counterpart_and_did_you_mean_too() -> None:
    component = load_component()
    with pytest.raises(InputError, match="give dataAndDomain=data-eu"):
        component.preview("downloadData", {"region": "api-eu"}, {})
    with pytest.raises(InputError, match=r"funnels is a data source: fetch\('funnels'"):
        component.run("funnel", {}, {})


def test_an_action_given_to_fetch_is_named_as_an_action() -> None:
    with pytest.raises(InputError, match=r"createAlias is an action: run\('createAlias'"):
        load_component().fetch("createAlia", {}, {})
