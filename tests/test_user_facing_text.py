"""What integrators read (docs/, the README, `describe`, the manifest, editor schemas) speaks
about Mixpanel and the connector, never about where the project's text came from."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from connector import load_specs
from tests.conftest import ROOT

# Words that only make sense to the people who built the component.
HISTORY = re.compile(
    r"(?<![a-z])seed(?:s|ed|ing)?(?![a-z])|existing component|reference page|earlier session"
    r"|known-defects"
    r"|\bissue\s*#?\d+|\bhelper session\b",
    re.IGNORECASE,
)
# The sandbox's own fault-replay option (`--seed S`, `Sandbox(seed=1)`) is a real option, and
# the only legitimate use of the word; it is allowed in the documents that describe the sandbox.
SANDBOX_SEED_OPTION = re.compile(r"`--seed(?: S| \d+)?`|--seed \d+|\bseed=\d+")
SANDBOX_DOCS = {"README.md", "docs/sandbox.md"}

SPEC = load_specs()
OPERATIONS = [*SPEC.actions, *SPEC.data_sources]


def history_words(text: str, *, sandbox_doc: bool = False) -> list[str]:
    """Each history word in `text`, with some context; the sandbox option only where allowed."""
    if sandbox_doc:
        text = SANDBOX_SEED_OPTION.sub("", text)
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in HISTORY.finditer(text)]


def cli_main() -> Callable[[list[str]], int]:
    """The `mixpanel-connector` entry point, wherever pyproject.toml says it lives."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["mixpanel-connector"].partition(":")
    main: Callable[[list[str]], int] = getattr(importlib.import_module(module), name)
    return main


def cli_output(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli_main()(args) == 0
    return capsys.readouterr().out


def user_documents() -> list[Path]:
    docs = sorted((ROOT / "docs").rglob("*.md"))
    return [ROOT / "README.md", *docs, *sorted((ROOT / "specs" / "schemas").glob("*.json"))]


def test_the_scanner_finds_history_words_and_spares_only_the_sandbox_option() -> None:
    assert history_words("Mixpanel accepts 10 MB (the seed said 2 MB).")
    assert history_words("as the existing component did")
    assert history_words("the Reference Page lacked it")
    assert history_words("`seed_sample_output`")
    assert history_words("`--seed 7` replays faults") != []  # not allowed outside sandbox docs
    assert history_words("`--seed S` replays the same faults", sandbox_doc=True) == []
    assert history_words("Sandbox(db=':memory:', seed=1)", sandbox_doc=True) == []
    assert history_words("--seed 7; the seed said 2 MB", sandbox_doc=True) != []
    assert history_words("seeded from the seed page", sandbox_doc=True) != []
    assert history_words("Mixpanel's session_id pages through profiles") == []


@pytest.mark.parametrize("path", user_documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_documents_carry_no_history_words(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    text = path.read_text(encoding="utf-8")
    assert history_words(text, sandbox_doc=relative in SANDBOX_DOCS) == []


def test_the_generated_reference_is_among_the_documents_checked() -> None:
    assert ROOT / "docs" / "reference.md" in user_documents()
    assert "## Compatibility" in (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", OPERATIONS)
def test_describe_carries_no_history_words(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = cli_output(["describe", key], capsys)
    as_json = cli_output(["describe", key, "--json"], capsys)
    assert key in text and json.loads(as_json)["key"] == key
    assert history_words(text) == [] and history_words(as_json) == []


def test_manifest_carries_no_history_words(capsys: pytest.CaptureFixture[str]) -> None:
    text = cli_output(["manifest"], capsys)
    manifest = json.loads(text)
    assert {op["key"] for op in manifest["actions"] + manifest["data_sources"]} == set(OPERATIONS)
    assert history_words(text) == []
    schema = cli_output(["manifest", "--schema"], capsys)
    assert history_words(schema) == []


def test_no_field_is_named_after_a_source(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads(cli_output(["manifest"], capsys))
    keys: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            keys.update(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(manifest)
    assert [k for k in keys if HISTORY.search(k)] == []
    assert "earlier_sample_output" in keys  # the renamed field is still there for engines
