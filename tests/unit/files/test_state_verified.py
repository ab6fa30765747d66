"""State files are data to verify: windows against the bytes really kept, bounds, one run at a time.

A partial export's state names windows; each is kept only when the partial file holds its
bytes (a keyed digest over them and the window's count), else it is fetched again. Window
counts, dates and import checkpoint ranges are bounded; a second run on the same output or
checkpoint is refused with the first one named.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connector import RetryPolicy, StateError
from connector.cli.main import main
from connector.files.checkpoint import MAX_CHECKPOINT_BATCHES, Checkpoint
from connector.files.resume import MAX_STATE_WINDOWS
from tests.conftest import ROOT, TEST_CONNECTION
from tests.unit.export_server import ExportServer, Plan, day_lines, event

DAYS = [f"2024-03-0{d}" for d in range(1, 6)]
EVENTS = {day: [event(day, n) for n in range(4)] for day in DAYS}
ALL_IDS = [e["properties"]["$insert_id"] for day in DAYS for e in EVENTS[day]]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExportServer]:
    monkeypatch.setenv("MIXPANEL_USERNAME", TEST_CONNECTION["username"])
    monkeypatch.setenv("MIXPANEL_PASSWORD", TEST_CONNECTION["password"])
    with ExportServer(day_lines(EVENTS)) as running:
        yield running


def _argv(url: str, target: Path, first: str = DAYS[0], last: str = DAYS[-1]) -> list[str]:
    return [
        "run", "downloadData", "-i", f"from_date={first}", "-i", f"to_date={last}",
        "-i", "project_id=7", "-i", "daysPerRequest=1",
        "--base-url", url, "--output", str(target),
    ]  # fmt: skip


def _three_windows_kept(server: ExportServer, target: Path) -> dict[str, Any]:
    """An export that failed after three complete windows; its state."""
    server.plans[DAYS[3]] = [Plan(status=401)]
    assert main(_argv(server.url, target)) == 1
    state: dict[str, Any] = json.loads(_state(target).read_text())
    assert len(state["windows"]) == 3
    return state


def _state(target: Path) -> Path:
    return target.with_name(target.name + ".partial.json")


def _partial(target: Path) -> Path:
    return target.with_name(target.name + ".partial")


def _written(target: Path) -> list[str]:
    data = target.read_bytes()
    if target.suffix == ".gz":
        data = gzip.decompress(data)
    return [json.loads(line)["properties"]["$insert_id"] for line in data.splitlines()]


def _rerun(server: ExportServer, target: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    server.requests.clear()
    assert main(_argv(server.url, target)) == 0
    summary = json.loads(capsys.readouterr().out)
    assert _written(target) == ALL_IDS  # every event once, in order: none lost, none doubled
    assert summary["events"] == len(ALL_IDS)
    return summary, sorted(q["from_date"][0] for _, q, _ in server.requests)


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
@pytest.mark.parametrize(
    ("tamper", "kept"),
    [
        ("count", 1),  # the second window's count raised: it and the next are fetched again
        ("empty", 0),  # the partial file emptied: every window is fetched
        ("truncated", 2),  # the last window's bytes cut short
        ("inserted", 1),  # bytes inserted in the second window
        ("appended", 3),  # bytes after the last window (a torn append): dropped, all kept
        ("digest", 2),  # the third window's digest replaced
    ],
)
def test_a_window_is_kept_only_when_the_partial_file_holds_its_bytes(
    server: ExportServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    name: str,
    tamper: str,
    kept: int,
) -> None:
    target = tmp_path / name
    state = _three_windows_kept(server, target)
    partial = _partial(target)
    data = partial.read_bytes()
    ends = state["ends"]
    if tamper == "count":
        state["counts"][1] += 1000
        state["records"] += 1000
    elif tamper == "empty":
        partial.write_bytes(b"")
        state["records"] = 123456
    elif tamper == "truncated":
        partial.write_bytes(data[: ends[2] - 3])
    elif tamper == "inserted":
        partial.write_bytes(data[: ends[0] + 2] + b"{}\n" + data[ends[0] + 2 :])
    elif tamper == "appended":
        partial.write_bytes(data + b'{"event": "not fetched"}\n')
    elif tamper == "digest":
        state["digests"][2] = state["digests"][0]
    _state(target).write_text(json.dumps(state))

    summary, fetched = _rerun(server, target, capsys)
    assert fetched == DAYS[kept:]
    assert summary.get("windows_kept", 0) == kept
    assert summary.get("windows_refetched", 0) == 3 - kept
    if kept < 3:
        assert "does not match the bytes" in caplog.text


def test_a_state_with_windows_outside_the_export_or_too_many_starts_over_at_once(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.jsonl"
    state = _three_windows_kept(server, target)
    forged = [
        {**state, "windows": [[f"{y:04d}-01-01", f"{y + 4:04d}-12-31"] for y in range(1, 9995, 5)]},
        {**state, "windows": [[DAYS[0], DAYS[0]]] * (MAX_STATE_WINDOWS + 1)},
        {**state, "windows": [[DAYS[1], DAYS[1]], [DAYS[0], DAYS[0]], [DAYS[2], DAYS[2]]]},
        {**state, "windows": [[DAYS[0], "9999-12-31"]] + state["windows"][1:]},
    ]
    for case in forged:
        case["counts"] = case["ends"] = [0] * len(case["windows"])
        case["digests"] = [""] * len(case["windows"])
        _partial(target).write_bytes(b"")
        _state(target).write_text(json.dumps(case))
        summary, fetched = _rerun(server, target, capsys)
        assert fetched == DAYS and "started_over" in summary
        server.plans[DAYS[3]] = [Plan(status=401)]
        assert main(_argv(server.url, target)) == 1  # a partial export again, for the next


def test_2000_windows_spanning_years_1_to_9999_do_not_hang_a_rerun(
    server: ExportServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    state = _three_windows_kept(server, target)
    state["windows"] = [[f"{y:04d}-01-01", f"{y + 4:04d}-12-31"] for y in range(1, 10000, 5)]
    state["counts"] = state["ends"] = [0] * 2000
    state["digests"] = [""] * 2000
    state.update(records=123456, bytes=0)
    _state(target).write_text(json.dumps(state))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "connector.cli", *_argv(server.url, target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["events"] == len(ALL_IDS) and "outside the export" in summary["started_over"]


def test_the_last_day_a_date_can_be_is_exported_without_overflow(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MIXPANEL_USERNAME", TEST_CONNECTION["username"])
    monkeypatch.setenv("MIXPANEL_PASSWORD", TEST_CONNECTION["password"])
    asked: list[str] = []

    def answer(request: Request) -> Response:
        asked.append(request.args["to_date"])
        return Response("", 200, content_type="application/json")

    httpserver.expect_request("/api/2.0/export").respond_with_handler(answer)
    target = tmp_path / "out.jsonl"
    url = httpserver.url_for("/").rstrip("/")
    code = main(_argv(url, target, "9999-12-29", "9999-12-31"))
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["windows"] == 3 and summary["events"] == 0
    assert asked == ["9999-12-29", "9999-12-30", "9999-12-31"]


@pytest.mark.parametrize(
    "ranges",
    [
        [[0, MAX_CHECKPOINT_BATCHES]],  # one more batch than a checkpoint may hold
        [[0, 10**15]],  # would take the machine's memory as a set
        [[n * 2, n * 2] for n in range(20_000)],  # too many ranges
        [[0, 5], [3, 9]],  # overlapping
        [[5, 9], [0, 2]],  # out of order
        [[True, 3]],  # not whole numbers
        [["0", "3"]],
        [[0.0, 3.5]],
        [[0, 1, 2]],
        {"0": 3},
        [[-3, 1]],
    ],
)
def test_import_checkpoint_ranges_are_bounded_and_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ranges: Any
) -> None:
    path = tmp_path / "import.json"
    path.write_text(json.dumps({"version": 2, "key": "k", "acknowledged": ranges}))
    checkpoint = Checkpoint(path, "k")
    assert checkpoint.load() == frozenset()
    assert "cannot be read" in checkpoint.started_over and "every batch is sent" in caplog.text


def test_valid_checkpoint_ranges_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "import.json"
    path.write_text(json.dumps({"version": 2, "key": "k", "acknowledged": [[0, 2], [5, 5]]}))
    assert Checkpoint(path, "k").load() == {0, 1, 2, 5}


_HOLD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from connector.files.checkpoint import Checkpoint
    from connector.files.resume import ExportFile

    kind, where = sys.argv[1], Path(sys.argv[2])
    if kind == "export":
        export = ExportFile(where, "someone else's")
        export.open()
    else:
        holding = Checkpoint(where, "k").hold()
        holding.__enter__()
    print("held", flush=True)
    sys.stdin.read()
    """
)


def _holder(kind: str, where: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, kind, str(where)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_export_to_the_same_output_is_refused_naming_the_first(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.jsonl"
    first = _holder("export", target)
    try:
        assert main(_argv(server.url, target)) == 1
        err = capsys.readouterr().err
        assert f"another run is writing the same output or checkpoint (process {first.pid}" in err
        assert f"exporting to {target}" in err and not server.requests
    finally:
        first.communicate("", timeout=10)
    assert main(_argv(server.url, target)) == 0  # the first run ended: its lock went with it
    assert not target.with_name("out.jsonl.partial.lock").exists()


def test_two_export_processes_at_once_one_completes_the_other_is_refused(
    server: ExportServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    answer, gate = server.lines, threading.Event()
    server.lines = lambda day: (gate.wait(60), answer(day))[1]  # the first run waits on day 1
    command = [sys.executable, "-m", "connector.cli", *_argv(server.url, target)]
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    first = subprocess.Popen(command, env=env, **pipes)
    try:
        deadline = time.monotonic() + 60
        while not server.requests:  # the first run holds the output and waits for its answer
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = subprocess.run(command, env=env, timeout=120, **pipes)
    finally:
        gate.set()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.returncode == 1 and f"(process {first.pid} on" in second.stderr
    assert "FileNotFoundError" not in second.stderr and len(server.requests) == len(DAYS)
    written = [
        json.loads(line)["properties"]["$insert_id"] for line in target.read_bytes().splitlines()
    ]
    assert written == ALL_IDS and json.loads(out)["events"] == len(ALL_IDS)


def test_a_second_run_on_the_same_import_checkpoint_is_refused(tmp_path: Path) -> None:
    from connector import load_component
    from connector.budgets.memory import BudgetRegistry

    path = tmp_path / "import.json"
    first = _holder("checkpoint", path)
    component = load_component(
        "http://127.0.0.1:9", rate_registry=BudgetRegistry(), retry=RetryPolicy(max_attempts=1)
    )
    events = [{"event": "e", "properties": {"time": 1618716477, "distinct_id": "u1"}}]
    try:
        with pytest.raises(StateError) as raised:
            component.run(
                "importEvents",
                {"events": events, "project_id": "1"},
                TEST_CONNECTION,
                checkpoint=path,
            )
        assert f"process {first.pid}" in str(raised.value)
        assert f"importing with checkpoint {path}" in str(raised.value)
    finally:
        first.communicate("", timeout=10)


@pytest.mark.parametrize("depth", [150, 100_000])
def test_a_deeply_nested_checkpoint_is_refused_not_a_recursion_error(
    tmp_path: Path, depth: int
) -> None:
    path = tmp_path / "import.json"
    path.write_text('{"version": 2, "key": "k", "acknowledged": ' + "[" * depth + "]" * depth + "}")
    checkpoint = Checkpoint(path, "k")
    assert checkpoint.load() == frozenset()
    assert "deep" in checkpoint.started_over


@pytest.mark.parametrize("depth", [150, 100_000])
def test_a_deeply_nested_partial_state_starts_the_export_over(
    server: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    target = tmp_path / "out.jsonl"
    _three_windows_kept(server, target)
    _state(target).write_text('{"windows": ' + "[" * depth + "]" * depth + "}")
    summary, fetched = _rerun(server, target, capsys)
    assert fetched == DAYS and "deep" in summary["started_over"]
