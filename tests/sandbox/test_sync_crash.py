"""A sync stopped between writing a batch to its file and saving its state: each event once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connector import Component
from connector.sandbox import Sandbox
from connector.sync.runner import run_sync
from connector.sync.sinks import appending_jsonl
from connector.sync.stores import FileStore

FIRST = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=45)
DAYS = 3  # one window (one batch) a day: daysPerRequest 1


class Stopped(Exception):
    """The run stopped here, as a killed process would."""


def _event(day: dt.date, n: int) -> dict[str, Any]:
    at = dt.datetime.combine(day, dt.time(12), dt.UTC) + dt.timedelta(seconds=n)
    props = {"distinct_id": f"u{n}", "time": int(at.timestamp()), "$insert_id": f"{day:%Y%m%d}-{n}"}
    return {"event": "Purchase", "properties": props}


def _inject(component: Component, sandbox: Sandbox, events: list[dict[str, Any]]) -> None:
    component.run("importEvents", {"events": events, "project_id": sandbox.project_id},
                  sandbox.connection)  # fmt: skip


def _sync_to_file(component: Component, sandbox: Sandbox, state: Path, out: Path) -> Any:
    inputs = {"project_id": sandbox.project_id, "daysPerRequest": 1}
    with appending_jsonl(str(out)) as deliver:
        return run_sync(
            component, "downloadData", inputs, sandbox.connection, str(state), deliver,
            until=FIRST + dt.timedelta(days=DAYS - 1), start=FIRST,
        )  # fmt: skip


def _stop_at_save(monkeypatch: pytest.MonkeyPatch, number: int, *, after: bool) -> list[int]:
    """Make FileStore's `number`th save stop the run (before it writes, or after).

    The first save of a first run records where the file starts; each batch's follows.
    """
    real, calls = FileStore.save, [0]

    def save(self: FileStore, document: bytes) -> None:
        calls[0] += 1
        if calls[0] == number and not after:
            raise Stopped
        real(self, document)
        if calls[0] == number:
            raise Stopped

    monkeypatch.setattr(FileStore, "save", save)
    return calls


def _ids(out: Path) -> Counter[str]:
    lines = out.read_bytes().splitlines()
    return Counter(json.loads(line)["properties"]["$insert_id"] for line in lines)


@pytest.mark.parametrize("after", [False, True], ids=["before-the-save", "after-the-save"])
@pytest.mark.parametrize("number", [2, 3], ids=["first-batch", "second-batch"])
def test_a_run_stopped_around_a_batchs_save_leaves_each_event_once_after_the_next(
    sandbox: Sandbox,
    component: Component,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    number: int,
    after: bool,
) -> None:
    state, out = tmp_path / "events.state", tmp_path / "out" / "events.jsonl"
    sent = [_event(FIRST + dt.timedelta(days=d), n) for d in range(DAYS) for n in range(3)]
    _inject(component, sandbox, sent)
    with monkeypatch.context() as patch:
        calls = _stop_at_save(patch, number, after=after)
        with pytest.raises(Stopped):
            _sync_to_file(component, sandbox, state, out)
    assert calls[0] == number
    written = _ids(out)
    assert sum(written.values()) == 3 * (number - 1) and max(written.values()) == 1
    late = _event(FIRST, 99)  # arrives between the runs
    _inject(component, sandbox, [late])
    result = _sync_to_file(component, sandbox, state, out)
    expected = {e["properties"]["$insert_id"] for e in [*sent, late]}
    assert _ids(out) == Counter(expected)
    cut = [note for note in result.notes if note.startswith("cut ")]
    assert bool(cut) is not after
    again = _sync_to_file(component, sandbox, state, out)
    assert again.delivered == 0 and _ids(out) == Counter(expected)


_KILLED_AT_SAVE = """
import os, sys
from connector.cli.main import main
from connector.sync import stores
real, calls = stores.FileStore.save, [0]
def save(self, document):
    calls[0] += 1
    if calls[0] == int(os.environ["STOP_AT_SAVE"]):
        os._exit(9)  # the process dies: no finally, no flush, no lock released by hand
    real(self, document)
stores.FileStore.save = save
sys.exit(main(sys.argv[1:]))
"""


def test_the_command_killed_between_a_batch_and_its_save_delivers_it_once(
    sandbox: Sandbox, component: Component, tmp_path: Path
) -> None:
    sent = [_event(FIRST + dt.timedelta(days=d), n) for d in range(DAYS) for n in range(3)]
    _inject(component, sandbox, sent)
    out, state = tmp_path / "events.jsonl", tmp_path / "events.state"
    argv = ["sync", "events", "--base-url", sandbox.base_url, "--state", str(state)]
    argv += ["-o", str(out), "-i", f"project_id={sandbox.project_id}", "-i", "daysPerRequest=1"]
    argv += ["--start", FIRST.isoformat(), "--until", (FIRST + dt.timedelta(days=2)).isoformat()]
    env = {**os.environ, "MIXPANEL_USERNAME": sandbox.connection["username"]}
    env["MIXPANEL_PASSWORD"] = sandbox.connection["password"]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AT_SAVE, *argv], env={**env, "STOP_AT_SAVE": "3"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == 9, killed.stderr
    assert sum(_ids(out).values()) == 6  # two days' batches written, the second not recorded
    done = subprocess.run(
        [sys.executable, "-m", "connector.cli", *argv],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _ids(out) == Counter(e["properties"]["$insert_id"] for e in sent)
    assert json.loads(done.stdout)["notes"][0].startswith("cut ")
