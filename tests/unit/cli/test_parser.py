from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli.main import main
from connector.cli.parser import build_parser, split_plugin_command
from connector.plugins import load_plugin, plugin_names


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            yield action


def test_every_subcommand_and_option_has_help() -> None:
    parser = build_parser(describe_plugins=True)
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    rows = {row.dest: row.help for row in action._choices_actions}
    assert set(rows) == set(action.choices)
    for name, text in rows.items():
        assert text and "--help" not in text, name
    for name, sub in _subparsers(parser).items():
        if name in plugin_names():
            continue
        for option in _options(sub):
            assert option.help and option.help != argparse.SUPPRESS, (name, option.dest)
    for option in _options(parser):
        assert option.help, option.dest


def _plugin_parser(name: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser a plugin builds for its own arguments, caught as it parses --help."""
    seen: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def catch(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        seen.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    with pytest.raises(SystemExit):
        load_plugin(name).main(["--help"])
    return seen[0]


@pytest.mark.parametrize("name", plugin_names())
def test_every_plugin_option_has_help(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    parser = _plugin_parser(name, monkeypatch)
    assert parser.description
    for option in _options(parser):
        assert option.help and option.help != argparse.SUPPRESS, (name, option.dest)


def test_top_level_help_describes_the_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "see `mixpanel-connector" not in out
    for name in plugin_names():
        summary = " ".join(load_plugin(name).SUMMARY.split())
        assert f"{name} {summary}" in out
    assert "exit codes: 0 everything accepted" in out and "3 some records were refused" in out


def test_run_help_documents_the_key_and_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "KEY the action or data source to run" in out
    assert "--input KEY=VALUE, -i KEY=VALUE one input, as a form sends it" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "list"],
        ["list", "-v"],
        ["--verbose", "describe", "createAlias"],
        ["describe", "createAlias", "--verbose"],
    ],
)
def test_verbose_before_or_after_the_command(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    levels: list[int] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: levels.append(kw["level"]))
    assert main(argv) == 0
    assert levels == [logging.DEBUG]
    assert main([a for a in argv if a not in ("-v", "--verbose")]) == 0
    assert levels[-1] == logging.WARNING


def test_specs_before_after_and_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["--specs", str(first), "list"]) == 1
    assert f"{first}: /: overlay folder does not exist" in capsys.readouterr().err
    assert main(["list", "--specs", str(first)]) == 1
    assert f"{first}: /: overlay folder does not exist" in capsys.readouterr().err
    assert main(["--specs", str(first), "validate", "--specs", str(second)]) == 1
    err = capsys.readouterr().err
    assert str(first) in err and str(second) in err


def test_plugin_command_takes_verbose_before_or_after() -> None:
    names = plugin_names()
    assert "sandbox" in names
    assert split_plugin_command(["sandbox", "--port", "1"]) == ([], "sandbox", ["--port", "1"])
    assert split_plugin_command(["-v", "sandbox", "--port", "1"]) == (
        ["-v"],
        "sandbox",
        ["--port", "1"],
    )
    assert split_plugin_command(["sandbox", "--port", "1", "-v"]) == (
        ["-v"],
        "sandbox",
        ["--port", "1"],
    )
    assert split_plugin_command(["--specs", "x", "run", "sandbox"]) is None
    assert split_plugin_command(["run", "k"]) is None


def test_specs_does_not_apply_to_a_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--specs", "x", "tour"]) == 2
    assert "--specs does not apply to `tour`" in capsys.readouterr().err
