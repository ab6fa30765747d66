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
import subprocess
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
        pytest.param(
            b'[{"event": "e"}, {"event": ',
            r"test \(item \[1\] of the array\): not valid JSON: parse error",
            id="cut-array",
        ),
        pytest.param(
            b'{"event": "e"}\n{"event": \n',
            "test, line 2, column 11: not valid JSON",
            id="bad-line",
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


def _drain(terminal: bool, quiet: bool, tmp_path: Path) -> str:
    path = tmp_path / "events.json"
    path.write_bytes(_lines(EVENTS * 500))
    stderr = _Tty(terminal)
    with input_files(OP, [f"events={path}"], quiet=quiet, stderr=stderr) as files:
        assert sum(1 for _ in files["events"]) == 2500
    return stderr.getvalue()


def test_the_progress_bar_shows_records_mb_and_rate_only_on_a_terminal(tmp_path: Path) -> None:
    shown = _drain(terminal=True, quiet=False, tmp_path=tmp_path)
    assert "2.50k records" in shown and "MB" in shown and "records/s" in shown
    assert _drain(terminal=False, quiet=False, tmp_path=tmp_path) == ""
    assert _drain(terminal=True, quiet=True, tmp_path=tmp_path) == ""


def test_the_progress_line_shows_the_requests_in_flight_and_throttled() -> None:
    from connector.core.progress import describe

    line = describe({"records": 2000, "requests": 1, "concurrency": 8, "throttled": 3})
    assert "8 in flight, 3 throttled" in line
    assert "in flight" not in describe({"records": 2000, "requests": 1})


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
    assert main([*argv, "--base-url", sink, "--dry-run", "--dry-run-all"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [len(request["body"]) for request in shown] == [2000, 500]
    assert RECEIVED[0].bodies == []


@pytest.mark.usefixtures("env")
def test_a_file_broken_midway_stops_the_run_and_says_what_was_sent(
    sink: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the checkpoint stays in tmp
    path = tmp_path / "events.jsonl"
    good = b"".join(json.dumps(e).encode() + b"\n" for e in EVENTS * 800)
    path.write_bytes(good + b'{"event": "cut\n')  # line 4,001 is broken
    argv = ["run", "importEvents", "--input-file", f"events={path}", "-i", "project_id=1"]
    assert main([*argv, "--base-url", sink]) == 2
    error = capsys.readouterr().err
    assert f"{path}, line 4001, column 11: not valid JSON" in error
    assert "4000 record(s) had been sent in 2 request(s), 4000 imported" in error
    assert sorted(len(b) for b in RECEIVED[0].bodies) == [2000, 2000]
    # The acknowledged batches are noted for a rerun, in the state directory given.
    assert len(list((tmp_path / "state").rglob("checkpoints/*.json"))) == 1


def _gzip_stream(chunks: Any, total: int) -> bytes:
    """A gzip member of `total` bytes written by `chunks` (compresses to a few kB)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
        for chunk in chunks(total):
            packed.write(chunk)
    return out.getvalue()


def test_a_one_line_gzip_bomb_fails_at_the_cap_with_the_record_index() -> None:
    from connector.files.input_files import MAX_RECORD_BYTES

    def endless_line(total: int) -> Any:
        yield b'{"event": "ok"}\n{"event": "ok"}\n'
        for _ in range(total // (1 << 20)):
            yield b"x" * (1 << 20)

    bomb = _gzip_stream(endless_line, MAX_RECORD_BYTES + (4 << 20))
    assert len(bomb) < 200_000
    records = read_records(_Counting(io.BytesIO(bomb)), "events", "bomb.json.gz")
    assert next(records) == {"event": "ok"} and next(records) == {"event": "ok"}
    with pytest.raises(InputError) as caught:
        next(records)
    [problem] = caught.value.errors
    assert problem.key == "events[2]"
    assert "record 2 (line 3) of bomb.json.gz is larger than 16 MB once decompressed" in str(
        caught.value
    )


def test_a_huge_array_item_fails_at_the_cap_with_its_index() -> None:
    def huge_item(total: int) -> Any:
        yield b'[{"event": "a"}, {"event": "'
        for _ in range(total // (1 << 20)):
            yield b"y" * (1 << 20)
        yield b'"}]'

    bomb = _gzip_stream(huge_item, 8 << 20)
    records = read_records(_Counting(io.BytesIO(bomb)), "events", "f", max_record_bytes=1 << 20)
    assert next(records) == {"event": "a"}
    with pytest.raises(InputError, match=r"\(`events\[1\]`\): record 1 of f is larger than 1 MB"):
        next(records)


def test_records_under_the_cap_still_read_in_both_formats() -> None:
    lines = b"".join(b'{"n": %d}\n' % n for n in range(5000))
    array = b"[" + b",".join(b'{"n": %d}' % n for n in range(5000)) + b"]"
    for data in (lines, array, gzip.compress(lines), gzip.compress(array)):
        got = list(read_records(_Counting(io.BytesIO(data)), "events", "f", max_record_bytes=64))
        assert got == [{"n": n} for n in range(5000)]


def test_a_long_line_inside_one_chunk_is_caught_at_a_small_cap() -> None:
    data = b'{"n": 1}\n{"n": "' + b"z" * 500 + b'"}\n{"n": 3}\n'
    records = read_records(_Counting(io.BytesIO(data)), "events", "f", max_record_bytes=100)
    assert next(records) == {"n": 1}
    with pytest.raises(InputError, match=r"record 1 \(line 2\) of f is larger than 100 bytes"):
        next(records)


SECRET = "s3cr3t-Value-9x"


@pytest.mark.parametrize(
    ("data", "line", "column", "item"),
    [
        pytest.param(
            b'[{"a": 1},\n {"b": 2},\n  {"password": ' + SECRET.encode() + b"}]",
            3,
            16,
            2,
            id="bad-value",
        ),
        pytest.param(
            b'[{"a": "x,]\\\\"},\n {"b": 2} {"c": ' + SECRET.encode() + b"}]",
            2,
            11,
            2,
            id="missing-comma",
        ),
        pytest.param(b'[\n  {"a": "' + SECRET.encode() + b'"},\n  {"b": ', 3, 9, 1, id="cut"),
    ],
)
def test_a_broken_array_file_names_line_and_column_never_the_content(
    tmp_path: Path, data: bytes, line: int, column: int, item: int
) -> None:
    for name, content in (("events.json", data), ("events.json.gz", gzip.compress(data))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError) as caught:
            with input_files(OP, [f"events={path}"]) as files:
                list(files["events"])
        message = str(caught.value)
        assert f"{path}, line {line}, column {column} (item [{item}] of the array)" in message
        assert SECRET not in message and "right here" not in message


def test_a_broken_array_on_standard_input_names_the_item() -> None:
    data = b'[{"a": 1}, {"password": ' + SECRET.encode() + b"}]"
    with pytest.raises(InputError) as caught:
        with input_files(OP, ["events=-"], stdin=io.BytesIO(data)) as files:
            list(files["events"])
    message = str(caught.value)
    assert "standard input (item [1] of the array): not valid JSON: lexical error" in message
    assert SECRET not in message


_DEEP_FILE = """
import gzip, io, resource, sys
from connector.files.input_files import read_records, _Counting
depth = int(sys.argv[1])
data = gzip.compress(b"[" * depth + b"]" * depth)
resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
try:
    list(read_records(_Counting(io.BytesIO(data)), "events", "deep.json.gz"))
except Exception as exc:
    print(type(exc).__name__, exc)
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(int(status.split()[0]) // 1024)  # peak RSS (MB) of this program, not of the parent forked
"""


@pytest.mark.parametrize("depth", [102, 30_000, 300_000, 3_000_000])
def test_a_deep_array_file_is_refused_in_memory_linear_in_its_size(depth: int) -> None:
    """ijson keeps a prefix per level: 30,000 levels took 2.25 GB. Under a 512 MB cap: refused."""
    done = subprocess.run(
        [sys.executable, "-c", _DEEP_FILE, str(depth)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    error, peak = done.stdout.strip().splitlines()
    assert error.startswith("InputError") and "deeper than 100 levels" in error, error
    assert "record 0 of deep.json.gz" in error
    assert int(peak) < 120


def test_a_deep_record_of_a_lines_file_is_refused_with_its_path() -> None:
    deep = b'{"a": ' + b'{"b": ' * 150 + b"1" + b"}" * 151 + b"\n"
    with pytest.raises(
        InputError,
        match=r"record 1 \(line 2\) of test nests .* than 100 levels at events\[1\]\.a\.b\.b",
    ):
        _records(b'{"ok": 1}\n' + deep)


def test_records_at_the_depth_limit_are_read_in_both_formats() -> None:
    record = b'{"a": ' + b"[" * 99 + b"]" * 99 + b"}"
    assert len(_records(record + b"\n" + record + b"\n")) == 2
    assert len(_records(b"[" + record + b"," + record + b"]")) == 2
