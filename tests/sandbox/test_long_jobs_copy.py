"""A copy between two sandboxes through the command line, killed at random points and rerun.

The source stands for a US project and the target for an EU one (their own credentials,
hosts and budgets). Whatever moment the copy is killed at, rerunning the same command leaves
exactly the source's events in the target, each once, with the time offset applied.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox

from .long_jobs import cli, cli_env, events, export_range, run_cli


def _connection(path: Path, sandbox: Sandbox) -> str:
    path.write_text(json.dumps(sandbox.connection))
    return str(path)


def _argv(source: Sandbox, target: Sandbox, tmp_path: Path, days: int) -> list[str]:
    first, last = export_range(days)
    return [
        "copy", "--from-date", first, "--to-date", last, "--time-offset-hours", "-3",
        "--source-connection", _connection(tmp_path / "us.json", source),
        "--source-project-id", source.project_id, "--source-region", "us",
        "--source-base-url", source.base_url, "--source-input", "daysPerRequest=1",
        "--source-budgets", f"sqlite:///{tmp_path / 'us-budgets.sqlite3'}",
        "--target-connection", _connection(tmp_path / "eu.json", target),
        "--target-project-id", target.project_id, "--target-region", "eu",
        "--target-base-url", target.base_url,
        "--target-budgets", f"sqlite:///{tmp_path / 'eu-budgets.sqlite3'}",
        "--state", str(tmp_path / "copy-state.json"), "--quiet",
    ]  # fmt: skip


def _load(source: Sandbox, count: int, days: int, prefix: str) -> None:
    """`count` events over `days` days imported into the source project."""
    load_component(base_url=source.base_url, rate_registry=BudgetRegistry()).run(
        "importEvents",
        {"events": list(events(count, days, prefix=prefix)), "project_id": source.project_id},
        source.connection,
    )


def _times(sandbox: Sandbox) -> dict[str, int]:
    return {
        e["properties"]["$insert_id"]: e["properties"]["time"]
        for e, _ in sandbox.store.raw_events(0, 2**31)
    }


def test_a_copy_killed_twice_at_random_points_leaves_exactly_the_sources_events(
    tmp_path: Path,
) -> None:
    rng = random.Random(2501)
    with Sandbox(latency_ms=60) as source, Sandbox(latency_ms=40) as target:
        _load(source, 24_000, 8, "cp")
        env = cli_env(source, tmp_path)
        argv = _argv(source, target, tmp_path, 8)
        state = tmp_path / "copy-state.json"
        kills = []
        for _ in range(2):
            landed = target.store.raw_event_count()
            # A random point, mid-window or between windows (before the last event lands).
            wanted = min(landed + rng.randint(1, 9_000), 23_000)
            process = subprocess.Popen(
                cli(*argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 120
            while target.store.raw_event_count() < wanted:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
            kept = json.loads(state.read_text())["windows"] if state.exists() else []
            kills.append((target.store.raw_event_count(), len(kept)))
        assert kills[-1][0] > 0  # the kills came after some events had landed

        final = run_cli(env, *argv)
        assert final.returncode == 0, final.stderr
        summary = json.loads(final.stdout)["events"]
        source_times, target_times = _times(source), _times(target)
        assert set(target_times) == set(source_times)  # same $insert_id set: none lost
        assert target.store.dedup_event_count() == source.store.dedup_event_count() == 24_000
        for insert_id, seconds in source_times.items():
            assert target_times[insert_id] == seconds - 3 * 3600
        assert summary["source"]["windows_resumed"] == kills[-1][1]
        assert summary["source"]["windows"] == 9
        assert not state.exists()
        # Batches in flight at a kill may land twice; the target deduplicates them by $insert_id.
        assert target.store.raw_event_count() - 24_000 <= 2 * 16 * 2000


def test_the_copy_holds_flat_memory_however_many_events(tmp_path: Path) -> None:
    with Sandbox() as source, Sandbox() as target:
        _load(source, 60_000, 2, "mem")
        argv = [a for a in _argv(source, target, tmp_path, 2) if a != "daysPerRequest=1"]
        argv.remove("--source-input")
        # VmHWM, the peak of this program's own memory: ru_maxrss would count the pages the
        # child shared with this test process (and its sandboxes) before exec.
        measure = (
            "import re, sys; from connector.cli import main; code = main(sys.argv[1:]); "
            "status = open('/proc/self/status').read(); "
            "print(re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr); "
            "sys.exit(code)"
        )
        done = subprocess.run(
            [sys.executable, "-c", measure, *argv],
            env=cli_env(source, tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
        assert target.store.dedup_event_count() == 60_000
        # One window of 60,000 events (about 12 MB of JSON lines) spooled to disk, not held.
        assert peak_mb < 150, peak_mb


def test_a_copy_killed_while_two_windows_are_in_flight_leaves_each_event_once(
    tmp_path: Path,
) -> None:
    with Sandbox() as source, Sandbox(latency_ms=150) as target:
        _load(source, 48_000, 4, "two")
        env = cli_env(source, tmp_path)
        argv = _argv(source, target, tmp_path, 4)
        process = subprocess.Popen(
            cli(*argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        # Each window in flight has its own batch checkpoint: two of them, two windows.
        while len(list(tmp_path.glob("copy-state.*.batches.json"))) < 2:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        landed = target.store.raw_event_count()
        assert 0 < landed < 48_000

        final = run_cli(env, *argv)
        assert final.returncode == 0, final.stderr
        resumed = json.loads(final.stdout)["events"]["target"]
        assert resumed["events_skipped_as_already_sent"] > 0  # the windows' own checkpoints
        assert set(_times(target)) == set(_times(source))  # none lost
        assert target.store.dedup_event_count() == 48_000
        # Only the batches in flight at the kill (16 at most, both windows together) twice.
        assert target.store.raw_event_count() - 48_000 <= 16 * 2000
        assert not list(tmp_path.glob("copy-state*"))
