"""Long jobs on the defaults, through the command line: faults, kills, budgets shared by processes.

Each test runs `mixpanel-connector` as a user would (its default options; only the sandbox's
URL, the credentials and where budgets and state live are set) against a sandbox.
"""

from __future__ import annotations

import glob
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox
from tests.budgets.conftest import max_in_window

from .long_jobs import (
    cli,
    cli_env,
    events,
    export_range,
    export_ranges,
    exported_ids,
    run_cli,
    stored_ids,
    write_lines,
)


def test_the_defaults_import_100k_events_and_export_them_back_under_faults(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=15, fail_rate=0.1, reset_rate=0.02, rate_limit=20) as sandbox:
        env = cli_env(sandbox, tmp_path)
        source = tmp_path / "events.jsonl"
        write_lines(source, events(100_000, 3))
        project = ("-i", f"project_id={sandbox.project_id}", "--base-url", sandbox.base_url)
        imported = run_cli(env, "run", "importEvents", "--input-file", f"events={source}", *project)
        assert imported.returncode == 0, imported.stderr
        result = json.loads(imported.stdout)["data"]
        assert result["records_imported"] == 100_000 and "failed_records" not in result
        assert result["requests_retried"] >= 1  # the faults were met, and retried
        assert sandbox.store.dedup_event_count() == 100_000

        first, last = export_range(4)
        target = tmp_path / "out.jsonl"
        dates = ("-i", f"from_date={first}", "-i", f"to_date={last}")
        exported = run_cli(env, "run", "downloadData", *dates, *project, "--output", str(target))
        assert exported.returncode == 0, exported.stderr
        faults = Counter(r["fault"] for r in sandbox.store.requests() if r["fault"])
        # Every event the sandbox holds comes out once: none lost, none doubled by a retry.
        assert Counter(exported_ids(target)) == Counter(stored_ids(sandbox, first, last))
        assert set(exported_ids(target)) == {f"ev-{i:07d}" for i in range(100_000)}
    assert faults["reset-after"] + faults["reset-before"] >= 1 and sum(faults.values()) >= 5


def test_a_killed_export_run_again_keeps_its_windows_and_fetches_the_rest_once(
    tmp_path: Path,
) -> None:
    with Sandbox(latency_ms=250) as sandbox:
        component = load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
        component.run(
            "importEvents",
            {"events": list(events(3_000, 12)), "project_id": sandbox.project_id},
            sandbox.connection,
        )
        env = cli_env(sandbox, tmp_path)
        first, last = export_range(12)
        target = tmp_path / "out.jsonl.gz"
        argv = [
            "run", "downloadData", "-i", f"from_date={first}", "-i", f"to_date={last}",
            "-i", f"project_id={sandbox.project_id}", "-i", "daysPerRequest=1",
            "--base-url", sandbox.base_url, "--output", str(target),
        ]  # fmt: skip
        state = tmp_path / "out.jsonl.gz.partial.json"
        process = subprocess.Popen(
            cli(*argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while not state.exists() or len(json.loads(state.read_text())["windows"]) < 4:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        kept = [tuple(w) for w in json.loads(state.read_text())["windows"]]
        time.sleep(1.0)  # the killed process's request in flight (250 ms) ends and is logged
        before = len(export_ranges(sandbox))

        again = run_cli(env, *argv)
        assert again.returncode == 0, again.stderr
        after = export_ranges(sandbox)[before:]
        assert not set(after) & set(kept)  # no kept window was fetched again
        assert len(after) == len(set(after)) == 13 - len(kept)  # each other window once
        import gzip

        with gzip.open(target, "rt") as lines:
            written = [json.loads(line)["properties"]["$insert_id"] for line in lines]
        assert Counter(written) == Counter(stored_ids(sandbox, first, last))
        assert len(written) == 3_000
        summary = json.loads(again.stdout)
        assert summary["windows_kept"] == len(kept) and summary["windows"] == 13
        assert not state.exists() and not Path(f"{target}.partial").exists()


def test_a_killed_import_run_again_resends_no_acknowledged_batch(tmp_path: Path) -> None:
    with Sandbox(latency_ms=150) as sandbox:
        env = cli_env(sandbox, tmp_path)
        source = tmp_path / "events.jsonl"
        write_lines(source, events(80_000, 2))  # 40 batches
        argv = [
            "run", "importEvents", "--input-file", f"events={source}",
            "-i", f"project_id={sandbox.project_id}", "--base-url", sandbox.base_url,
        ]  # fmt: skip
        process = subprocess.Popen(
            cli(*argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        checkpoints = str(tmp_path / "state" / "*" / "checkpoints" / "*.json")
        deadline = time.monotonic() + 60
        acked: list[list[int]] = []
        while not acked or sum(b - a + 1 for a, b in acked) < 8:
            assert time.monotonic() < deadline and process.poll() is None
            found = glob.glob(checkpoints)
            if found:
                try:
                    acked = json.loads(Path(found[0]).read_text())["acknowledged"]
                except (OSError, ValueError):
                    pass
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        time.sleep(1.0)  # its requests in flight (150 ms each) end and are logged
        [checkpoint] = glob.glob(checkpoints)
        done = {
            n
            for a, b in json.loads(Path(checkpoint).read_text())["acknowledged"]
            for n in range(a, b + 1)
        }
        before = sum(1 for r in sandbox.store.requests() if r["path"] == "/import")

        again = run_cli(env, *argv)
        assert again.returncode == 0, again.stderr
        sent_again = sum(1 for r in sandbox.store.requests() if r["path"] == "/import") - before
        assert sent_again == 40 - len(done)  # the acknowledged batches were not sent again
        assert (
            f"{len(done)} batch(es) the API already acknowledged are not sent again" in again.stderr
        )
        result = json.loads(again.stdout)["data"]
        assert result["batches_skipped"] == len(done)
        assert result["records_skipped"] == 2_000 * len(done)
        assert sandbox.store.dedup_event_count() == 80_000
        assert glob.glob(checkpoints) == []  # removed on completion


def test_six_processes_of_run_download_data_all_succeed_within_the_per_second_budget(
    tmp_path: Path,
) -> None:
    with Sandbox() as sandbox:
        sandbox.faults.advertise_limits = False  # Mixpanel's documented limits hold
        env = cli_env(sandbox, tmp_path)
        first, last = export_range(1)
        argv = [
            "run", "downloadData", "-i", f"from_date={first}", "-i", f"to_date={last}",
            "-i", f"project_id={sandbox.project_id}", "--base-url", sandbox.base_url,
        ]  # fmt: skip
        loop = f"for n in 1 2 3 4 5; do {' '.join(cli(*argv))} > /dev/null || exit 1; done"
        processes = [
            subprocess.Popen(["sh", "-c", loop], env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        codes = []
        for process in processes:
            _, errors = process.communicate(timeout=240)
            codes.append((process.returncode, errors))
        served = [r for r in sandbox.store.requests() if r["path"] == "/api/2.0/export"]
    assert [code for code, _ in codes] == [0] * 6, codes
    assert len(served) == 30 and {r["status"] for r in served} == {200}
    assert max_in_window([r["started"] / 1000 for r in served], 1.0) <= 3


@pytest.mark.parametrize("tty", [False, True])
def test_a_wait_over_a_second_is_announced_with_the_budget_and_where_it_is_shared(
    tmp_path: Path, tty: bool
) -> None:
    import sqlite3

    with Sandbox() as sandbox:
        sandbox.faults.advertise_limits = False  # Mixpanel's documented limits hold
        env = cli_env(sandbox, tmp_path)
        first, last = export_range(1)
        argv = [
            "run", "downloadData", "-i", f"from_date={first}", "-i", f"to_date={last}",
            "-i", f"project_id={sandbox.project_id}", "--base-url", sandbox.base_url,
            "--output", str(tmp_path / "out.jsonl"),
        ]  # fmt: skip
        assert run_cli(env, *argv).returncode == 0  # sets up the budget file
        budgets = tmp_path / "budgets.sqlite3"
        with sqlite3.connect(budgets) as db:  # the hour's other 59 calls, made 3595 s ago
            at = time.time() - 3595
            db.executemany(
                "INSERT INTO grants VALUES (?, ?, ?, ?)",
                [
                    ("export", f"{sandbox.project_id} at {sandbox.base_url}", at, f"t{n}")
                    for n in range(59)
                ],
            )
        began, base_url = time.monotonic(), sandbox.base_url
        stderr = _stderr_of(env, argv, tty=tty)
        assert time.monotonic() - began >= 1.5
    notice = (
        f"Raw Export API budget of 60 queries per hour for project {sandbox.project_id} at "
        f"{base_url} is used up: waiting "
    )
    assert notice in stderr
    assert f"for it to free up (budget shared through sqlite:///{budgets})" in stderr
    # Whose budget it is, and the flags that change it.
    assert "This client keeps this budget itself, for Mixpanel's documented limits" in stderr
    assert "--rate-wait SECONDS" in stderr and "--budgets memory" in stderr
    assert stderr.count(f"WARNING connector.waits: {notice}") == 1  # announced once
    if tty:  # and shown on the bar while it lasts
        assert "waiting: Raw Export API budget" in stderr


def _stderr_of(env: dict[str, str], argv: list[str], *, tty: bool) -> str:
    if not tty:
        done = run_cli(env, *argv)
        assert done.returncode == 0, done.stderr
        return done.stderr
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    # A terminal of 160 columns: one of no size would give tqdm no room to draw in.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
    process = subprocess.Popen(cli(*argv), env=env, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    drawn = b""
    while True:
        ready = select.select([leader], [], [], 0.2)[0]
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return drawn.decode(errors="replace")


@pytest.mark.parametrize("tty", [False, True])
def test_progress_shows_as_a_bar_on_a_terminal_and_as_log_lines_off_one(
    tmp_path: Path, tty: bool
) -> None:
    with Sandbox() as sandbox:
        component = load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
        component.run(
            "importEvents",
            {"events": list(events(500, 40)), "project_id": sandbox.project_id},
            sandbox.connection,
        )
        env = cli_env(sandbox, tmp_path)
        first, last = export_range(40)
        argv = [
            "run", "downloadData", "-i", f"from_date={first}", "-i", f"to_date={last}",
            "-i", f"project_id={sandbox.project_id}", "--base-url", sandbox.base_url,
            "--output", str(tmp_path / "out.jsonl"),
        ]  # fmt: skip
        stderr = _stderr_of(env, argv, tty=tty)
        quiet = _stderr_of(env, [*argv, "--quiet"], tty=tty)
    if tty:
        assert "downloadData" in stderr and "500 records" in stderr
        assert "windows 2/2" in stderr and "MB" in stderr and "\r" in stderr
        assert "INFO" not in stderr
    else:
        assert "INFO connector.progress: downloadData (done): 500 records" in stderr
        assert "windows 2/2" in stderr
    assert "records" not in quiet
