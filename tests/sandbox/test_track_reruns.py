"""trackEvents run again never doubles an event: a bulk job refuses events without `time`.

A time taken when an event is sent makes its content id new on every run, so a re-run, a
resumed file or a batch sent but not acknowledged before a resume would store it twice. A bulk
job (several requests, records from a file or a generator, a checkpoint) refuses such events,
by index; the events that carry their time go, and go once however often the job runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import RetryPolicy, TransportError, load_component
from connector.budgets.memory import BudgetRegistry
from connector.cli.exits import EXIT_REFUSED
from connector.sandbox import Sandbox

from .long_jobs import cli_env, run_cli

FAST = RetryPolicy(max_attempts=1)


def _events(count: int, every_untimed: int) -> list[dict[str, Any]]:
    """`count` events; every `every_untimed`-th one has no time."""
    start = int(time.time()) - 3600
    events = []
    for n in range(count):
        properties: dict[str, Any] = {"distinct_id": f"user-{n % 13}", "n": n}
        if n % every_untimed:
            properties["time"] = start + n
        events.append({"event": "Tapped", "properties": properties})
    return events


def _untimed(events: list[dict[str, Any]]) -> list[int]:
    return [n for n, e in enumerate(events) if "time" not in e["properties"]]


def _raw(sandbox: Sandbox) -> int:
    return sum(raw for _, raw, _ in sandbox.store.event_counts())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def test_a_file_tracked_twice_stores_each_sent_event_once(sandbox: Sandbox, tmp_path: Path) -> None:
    events = _events(30, 3)
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in events))
    env = cli_env(sandbox, tmp_path)
    env["MIXPANEL_PROJECT_TOKEN"] = sandbox.project_token
    argv = [
        "run",
        "trackEvents",
        "--input-file",
        f"events={source}",
        "--base-url",
        sandbox.base_url,
    ]
    sent = 0
    for _ in range(2):
        done = run_cli(env, *argv)
        assert done.returncode == EXIT_REFUSED, done.stderr
        data = json.loads(done.stdout)["data"]
        failed = data["failed_records"]
        assert [f["index"] for f in failed] == _untimed(events)
        assert all(f["field"] == "properties.time" for f in failed)
        assert "sending it again sends the same event" in failed[0]["message"]
        sent += data["records_sent"]
    assert sent == 2 * 20 and _raw(sandbox) == 40  # each run sent the 20 timed events
    assert sandbox.store.dedup_event_count() == 20  # and Mixpanel counts them once


def test_many_events_from_python_run_twice_are_stored_once(sandbox: Sandbox) -> None:
    component = load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
    events = _events(2500, 100)  # more than one request: a bulk job
    for _ in range(2):
        data = component.run("trackEvents", {"events": events}, sandbox.connection)["data"]
        assert [f["index"] for f in data["failed_records"]] == _untimed(events)
        assert data["records_sent"] == 2500 - 25
    assert sandbox.store.dedup_event_count() == 2475


class _LostAnswer:
    """A transport whose answer to the `lost`-th request is lost after the sandbox stored it."""

    def __init__(self, inner: Any, lost: int) -> None:
        self.inner, self.lost, self.sent = inner, lost, 0

    def send(self, request: Any, header: Any) -> Any:
        answer = self.inner.send(request, header)
        self.sent += 1
        if self.sent == self.lost:
            raise TransportError("connection reset before the answer", kind="reset", sent=True)
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_batch_sent_but_not_acknowledged_before_a_resume_is_stored_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    events = _events(3000, 7)  # two requests of 2,000 and 1,000
    checkpoint = tmp_path / "track.checkpoint"
    component = load_component(
        base_url=sandbox.base_url, rate_registry=BudgetRegistry(), retry=FAST
    )
    component.transport = _LostAnswer(component.transport, lost=2)  # type: ignore[assignment]
    with pytest.raises(TransportError):
        component.run(
            "trackEvents", {"events": events}, sandbox.connection, workers=1, checkpoint=checkpoint
        )
    stored = _raw(sandbox)
    assert stored == 3000 - len(_untimed(events))  # both batches landed; one answer was lost
    acked = json.loads(checkpoint.read_text())["acknowledged"]
    assert acked == [[0, 0]]

    component.transport = component.transport.inner  # type: ignore[attr-defined]
    data = component.run(
        "trackEvents", {"events": events}, sandbox.connection, workers=1, checkpoint=checkpoint
    )["data"]
    assert data["batches_skipped"] == 1 and _raw(sandbox) > stored  # the lost batch went again
    assert sandbox.store.dedup_event_count() == stored  # and counts once
    assert not checkpoint.exists()


def test_a_single_request_still_fills_the_time_as_the_sdk_does(sandbox: Sandbox) -> None:
    component = load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
    events = [{"event": "App Open", "properties": {"distinct_id": "user-carol"}}]
    assert component.run("trackEvents", {"events": events}, sandbox.connection)["data"] == 1
    assert sandbox.store.dedup_event_count() == 1
