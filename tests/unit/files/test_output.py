from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli.main import main
from connector.files.output import write_jsonl
from tests.conftest import TEST_CONNECTION
from tests.unit.export_server import ExportServer, Plan, day_lines, event

DAYS = ("2024-02-01", "2024-02-02")
EVENTS = {day: [event(day, n) for n in range(25)] for day in DAYS}
ALL = [e for day in DAYS for e in EVENTS[day]]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExportServer]:
    monkeypatch.setenv("MIXPANEL_USERNAME", TEST_CONNECTION["username"])
    monkeypatch.setenv("MIXPANEL_PASSWORD", TEST_CONNECTION["password"])
    with ExportServer(day_lines(EVENTS)) as running:
        yield running


def _export(server: ExportServer, output: str, project: str) -> int:
    return main(
        [
            "run",
            "downloadData",
            "-i",
            f"from_date={DAYS[0]}",
            "-i",
            f"to_date={DAYS[1]}",
            "-i",
            f"project_id={project}",  # its own project: the CLI shares the process-wide budget
            "--base-url",
            server.url,
            "--output",
            output,
        ]
    )


def _summary(text: str) -> dict[str, Any]:
    lines = text.strip().splitlines()
    assert len(lines) == 1
    summary: dict[str, Any] = json.loads(lines[0])
    return summary


def test_output_writes_json_lines_and_prints_a_one_line_summary(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "events.jsonl"
    assert _export(server, str(target), "9001") == 0
    summary = _summary(capsys.readouterr().out)
    written = target.read_bytes()
    assert [json.loads(line) for line in written.splitlines()] == ALL
    assert written.count(b"\n") == len(ALL) and b"\n\n" not in written
    assert summary == {
        "events": 50,
        "bytes": len(written),
        "days": 2,
        "resumed_cuts": 0,
        "output": str(target),
    }
    assert not (tmp_path / "events.jsonl.partial").exists()


def test_output_gz_is_gzip(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "events.jsonl.gz"
    assert _export(server, str(target), "9002") == 0
    summary = _summary(capsys.readouterr().out)
    assert target.read_bytes()[:2] == b"\x1f\x8b"
    with gzip.open(target, "rt", encoding="utf-8") as lines:
        assert [json.loads(line) for line in lines] == ALL
    assert (summary["events"], summary["bytes"]) == (50, target.stat().st_size)


def test_output_dash_writes_lines_to_stdout_and_the_summary_to_stderr(
    server: ExportServer, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert _export(server, "-", "9003") == 0
    captured = capsysbinary.readouterr()
    assert [json.loads(line) for line in captured.out.splitlines()] == ALL
    summary = _summary(captured.err.decode())
    assert (summary["events"], summary["bytes"]) == (50, len(captured.out))


def test_a_failed_export_leaves_only_the_partial_file(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.plans[DAYS[1]] = [Plan(status=401)]
    target = tmp_path / "events.jsonl"
    assert _export(server, str(target), "9004") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and "HTTP 401" in captured.err
    assert not target.exists()
    partial = (tmp_path / "events.jsonl.partial").read_bytes()
    assert len(partial.splitlines()) == 25  # the first day, for inspection


def test_write_jsonl_counts_lines_and_bytes() -> None:
    out = io.BytesIO()
    assert write_jsonl([{"a": [1, {"b": None}]}, "x"], out.write) == (2, len(out.getvalue()))
    assert out.getvalue() == b'{"a":[1,{"b":null}]}\n"x"\n'


def test_a_partial_that_is_a_symlink_is_refused_and_its_target_untouched(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    target = tmp_path / "events.jsonl"
    (tmp_path / "events.jsonl.partial").symlink_to(victim)
    assert _export(server, str(target), "9005") == 2
    err = capsys.readouterr().err
    assert "events.jsonl.partial is a symbolic link; refusing to write through it" in err
    assert victim.read_text() == "keep me\n" and not target.exists()


def test_a_stale_partial_is_replaced_and_a_symlinked_target_is_not_written_through(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    target = tmp_path / "events.jsonl"
    target.symlink_to(victim)
    (tmp_path / "events.jsonl.partial").write_text("left by a failed run\n")
    assert _export(server, str(target), "9006") == 0
    assert _summary(capsys.readouterr().out)["events"] == len(ALL)
    assert victim.read_text() == "keep me\n"
    assert not target.is_symlink() and len(target.read_bytes().splitlines()) == len(ALL)
    assert not (tmp_path / "events.jsonl.partial").exists()
