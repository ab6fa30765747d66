"""--input-file: JSON arrays, JSON lines, gzip and stdin, streamed; the bar only on a terminal."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import io
import json
import os
import pty
import select
import struct
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import InputError, load_component
from connector.cli.main import main
from connector.files.input_files import _Counting, input_files, read_records
from tests.unit.import_server import import_server

OP = load_component().spec.actions["importEvents"]
EVENTS = [
    {"event": "e", "properties": {"time": 1618716477 + n, "distinct_id": f"u{n}", "x": 1.5}}
    for n in range(5)
]


def _array(events: list[Any]) -> bytes:
    return json.dumps(events, indent=1).encode()


def _lines(events: list[Any]) -> bytes:
    return b"\n".join(json.dumps(e).encode() for e in events) + b"\n\n"


def _records(data: bytes) -> list[Any]:
    return list(read_records(_Counting(io.BytesIO(data)), "events", "test"))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_array(EVENTS), id="json-array"),
        pytest.param(b"  \n\t" * 40 + _array(EVENTS), id="array-after-whitespace"),
        pytest.param(_lines(EVENTS), id="json-lines"),
        pytest.param(gzip.compress(_array(EVENTS)), id="gzip-array"),
        pytest.param(gzip.compress(_lines(EVENTS)), id="gzip-lines"),
    ],
)
def test_each_format_reads_the_same_records(data: bytes) -> None:
    assert _records(data) == EVENTS


def test_a_big_array_is_read_as_it_streams_not_whole() -> None:
    big = _array([{"event": "e", "properties": {"n": n, "pad": "x" * 100}} for n in range(20_000)])
    counter = _Counting(io.BytesIO(big))
    records = read_records(counter, "events", "test")
    first = next(records)
    assert first["properties"]["n"] == 0
    assert counter.count < len(big) / 10  # only the first buffers were read


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b'[{"event": "e"}, {"event": ', "is not a valid JSON array", id="cut-array"),
        pytest.param(
            b'{"event": "e"}\n{"event": \n', "test line 2 is not valid JSON", id="bad-line"
        ),
    ],
)
def test_broken_files_name_where(data: bytes, words: str) -> None:
    with pytest.raises(InputError, match=words):
        _records(data)


def test_only_the_batched_input_can_come_from_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="takes its records in `events`; 'project_id' cannot"):
        with input_files(OP, ["project_id=x.json"]):
            pass
    with pytest.raises(InputError, match="cannot read .*missing.json"):
        with input_files(OP, [f"events={tmp_path / 'missing.json'}"]):
            pass


class _Tty(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def _drain(
    terminal: bool, quiet: bool, tmp_path: Path, figures: dict[str, Any] | None = None
) -> str:
    path = tmp_path / "events.json"
    path.write_bytes(_lines(EVENTS * 500))
    stderr = _Tty(terminal)
    options: dict[str, Any] = {"quiet": quiet, "stderr": stderr, "figures": figures}
    with input_files(OP, [f"events={path}"], **options) as files:
        assert sum(1 for _ in files["events"]) == 2500
    return stderr.getvalue()


def test_the_progress_bar_shows_records_mb_and_rate_only_on_a_terminal(tmp_path: Path) -> None:
    shown = _drain(terminal=True, quiet=False, tmp_path=tmp_path)
    assert "2.50k records" in shown and "MB" in shown and "records/s" in shown
    assert _drain(terminal=False, quiet=False, tmp_path=tmp_path) == ""
    assert _drain(terminal=True, quiet=True, tmp_path=tmp_path) == ""


def test_the_progress_bar_shows_the_requests_in_flight_and_throttled(tmp_path: Path) -> None:
    figures = {"concurrency": 8, "throttled": 3}
    shown = _drain(terminal=True, quiet=False, tmp_path=tmp_path, figures=figures)
    assert "8 in flight, 3 throttled" in shown
    assert "in flight" not in _drain(terminal=True, quiet=False, tmp_path=tmp_path, figures={})


# --- the command, end to end over loopback HTTP -------------------------------------------------


@pytest.fixture
def sink() -> Iterator[str]:
    with import_server() as (url, received):
        RECEIVED[:] = [received]
        yield url


RECEIVED: list[Any] = []


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXPANEL_USERNAME", "u")
    monkeypatch.setenv("MIXPANEL_PASSWORD", "p-secret")
    monkeypatch.delenv("MIXPANEL_BASE_URL", raising=False)


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("name", ["events.json", "events.jsonl.gz", "-"])
def test_run_imports_a_file_or_stdin(
    name: str,
    sink: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = EVENTS * 900  # 4,500 events: three requests
    data = _array(events) if name.endswith(".json") else _lines(events)
    if name.endswith(".gz"):
        data = gzip.compress(data)
    if name == "-":
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    else:
        (tmp_path / name).write_bytes(data)
    path = name if name == "-" else str(tmp_path / name)
    argv = ["run", "importEvents", "--input-file", f"events={path}", "-i", "project_id=1"]
    assert main([*argv, "--base-url", sink]) == 0
    result = json.loads(capsys.readouterr().out)["data"]
    assert (result["records_imported"], result["requests"]) == (4500, 3)
    assert sorted(len(b) for b in RECEIVED[0].bodies) == [500, 2000, 2000]


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(("option", "expected"), [([], 16), (["--workers", "2"], 2)])
def test_workers_pins_the_requests_in_flight(
    option: list[str],
    expected: int,
    sink: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "events.jsonl").write_bytes(_lines(EVENTS * 900))
    argv = ["run", "importEvents", "--input-file", f"events={tmp_path / 'events.jsonl'}"]
    assert main([*argv, "-i", "project_id=1", "--base-url", sink, *option]) == 0
    result = json.loads(capsys.readouterr().out)["data"]
    assert (result["records_imported"], result["concurrency"]) == (4500, expected)
    assert result["requests_throttled"] == 0


@pytest.mark.usefixtures("env")
def test_run_on_a_real_terminal_draws_the_bar_on_stderr(sink: str, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(_lines(EVENTS * 400))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    with os.fdopen(follower, "w", closefd=True) as terminal:
        with contextlib.redirect_stderr(terminal), contextlib.redirect_stdout(io.StringIO()):
            assert sys.stderr.isatty()
            argv = ["run", "importEvents", "--input-file", f"events={path}", "-i", "project_id=1"]
            assert main([*argv, "--base-url", sink]) == 0
        terminal.flush()
        drawn = ""
        while select.select([leader], [], [], 0.2)[0]:
            drawn += os.read(leader, 65536).decode()
    os.close(leader)
    assert "2.00k records" in drawn and "MB" in drawn


@pytest.mark.usefixtures("env")
def test_dry_run_with_an_input_file_prints_the_requests_and_sends_nothing(
    sink: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(_lines(EVENTS * 500))  # 2,500 events: two requests
    argv = ["run", "importEvents", "--input-file", f"events={path}", "-i", "project_id=1"]
    assert main([*argv, "--base-url", sink, "--dry-run"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [len(request["body"]) for request in shown] == [2000, 500]
    assert RECEIVED[0].bodies == []


@pytest.mark.usefixtures("env")
def test_a_file_broken_midway_stops_the_run_and_says_what_was_sent(
    sink: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.jsonl"
    good = b"".join(json.dumps(e).encode() + b"\n" for e in EVENTS * 800)
    path.write_bytes(good + b'{"event": "cut\n')  # line 4,001 is broken
    argv = ["run", "importEvents", "--input-file", f"events={path}", "-i", "project_id=1"]
    assert main([*argv, "--base-url", sink]) == 2
    error = capsys.readouterr().err
    assert "line 4001 is not valid JSON" in error
    assert "4000 record(s) had been sent in 2 request(s), 4000 imported" in error
    assert sorted(len(b) for b in RECEIVED[0].bodies) == [2000, 2000]
