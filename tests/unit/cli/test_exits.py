from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from connector.cli import exits
from connector.cli.main import main
from connector.sandbox import Sandbox

EVENT = {"event": "Signed Up", "properties": {"time": 1733000000, "distinct_id": "u1"}}
CLI = [sys.executable, "-m", "connector.cli"]


def test_one_line_joins_items_without_doubled_punctuation() -> None:
    text = "2 invalid inputs for x:\n  - A (`a`): is empty; b needs it.\n  - B (`b`): is empty."
    assert (
        exits.one_line(text)
        == "2 invalid inputs for x: A (`a`): is empty; b needs it; B (`b`): is empty."
    )
    assert exits.one_line("One sentence.") == "One sentence."
    assert exits.one_line("Heading.\nmore detail") == "Heading; more detail"


def test_refused_summary_counts_and_points_at_the_first() -> None:
    result = {
        "data": {
            "records_failed": 2,
            "records_imported": 19998,
            "failed_records": [{"index": 12047}, {"index": 19000}],
        }
    }
    summary = exits.refused_summary("importEvents", result)
    assert summary == (
        "importEvents: 2 record(s) refused, 19,998 imported "
        "(failed_records in the result lists them; the first at index 12047)"
    )
    assert exits.refused_summary("x", {"data": {"records_failed": 0}}) is None
    assert exits.refused_summary("x", {"data": [1, 2]}) is None
    assert exits.refused_summary("x", {"data": {"records_failed": True}}) is None


def test_guarded_maps_a_closed_pipe_interrupt_and_argparse_exits() -> None:
    def broken() -> int:
        raise BrokenPipeError

    def interrupted() -> int:
        raise KeyboardInterrupt

    def usage() -> int:
        raise SystemExit(2)

    assert exits.guarded(broken) == exits.EXIT_CLOSED_PIPE == 141
    assert exits.guarded(interrupted) == exits.EXIT_INTERRUPTED == 130
    assert exits.guarded(usage) == 2
    assert exits.guarded(lambda: 3) == 3


def _connection_file(tmp_path: Path, sb: Sandbox) -> str:
    path = tmp_path / "connection.json"
    path.write_text(json.dumps(sb.connection))
    return str(path)


def test_refused_records_exit_3_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = {"event": "No Time", "properties": {"distinct_id": "u2"}}
    with Sandbox() as sb:
        args = [
            "run",
            "importEvents",
            "--base-url",
            sb.base_url,
            "--connection",
            _connection_file(tmp_path, sb),
            "-i",
            f"project_id={sb.project_id}",
        ]
        events = json.dumps([EVENT, refused, EVENT])
        assert main([*args, "-i", f"events={events}"]) == exits.EXIT_REFUSED
        captured = capsys.readouterr()
        result = json.loads(captured.out)
        assert result["data"]["records_failed"] == 1
        assert captured.err.count("\n") == 1
        assert captured.err.startswith("refused: importEvents: 1 record(s) refused, 2 imported")
        assert "the first at index 1" in captured.err
        assert main([*args, "-i", f"events={json.dumps([EVENT])}"]) == exits.EXIT_OK
        assert capsys.readouterr().err == ""


def test_refused_records_from_an_input_file_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps(EVENT) + "\n" + json.dumps({"event": "x"}) + "\n")
    with Sandbox() as sb:
        args = [
            "run",
            "importEvents",
            "--base-url",
            sb.base_url,
            "--connection",
            _connection_file(tmp_path, sb),
            "-i",
            f"project_id={sb.project_id}",
            "--input-file",
            f"events={lines}",
            "-q",
        ]
        assert main(args) == exits.EXIT_REFUSED
    assert "1 record(s) refused, 1 imported" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["manifest"], ["describe", "importEvents"], ["list"]])
def test_a_pipe_closed_before_the_output_exits_141_quietly(command: list[str]) -> None:
    proc = subprocess.Popen([*CLI, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes anything
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == exits.EXIT_CLOSED_PIPE
    assert err == b""


def test_a_pipe_closed_after_the_first_line_exits_141_quietly() -> None:
    """`manifest | head -1`: the first line arrives, then the reader goes away."""
    proc = subprocess.Popen([*CLI, "manifest"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"{\n"
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == exits.EXIT_CLOSED_PIPE
    assert b"Traceback" not in err and err == b""


def test_help_through_a_closed_pipe_is_quiet() -> None:
    proc = subprocess.Popen([*CLI, "run", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    # argparse itself drops a help text that cannot be written, and exits 0
    assert proc.wait(timeout=60) in (exits.EXIT_OK, exits.EXIT_CLOSED_PIPE)
    assert err == b""


def test_an_unexpected_failure_is_one_line_and_its_traceback_needs_v(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_main = importlib.import_module("connector.cli.main")

    def broken(**_: object) -> None:
        raise ValueError("detail that may hold anything")

    monkeypatch.setattr(cli_main, "load_specs", broken)
    assert main(["list"]) == exits.EXIT_FAILED
    err = capsys.readouterr().err
    assert err == "error: unexpected failure (ValueError); run with -v for the traceback\n"
    assert main(["list", "-v"]) == exits.EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback" in err and "detail that may hold anything" in err


def test_an_overlay_that_is_not_utf8_is_a_spec_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "bad.yaml").write_bytes(b"key: x\nlabel: '\xff\xfe'\n")
    assert main(["list", "--specs", str(tmp_path)]) == exits.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'actions' / 'bad.yaml'}:2: /: column 9: is not UTF-8 text" in err
    assert main(["validate", "--specs", str(tmp_path)]) == exits.EXIT_FAILED
    assert "bad.yaml:2: /: column 9: is not UTF-8 text" in capsys.readouterr().err
