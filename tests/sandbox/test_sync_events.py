"""sync events against the sandbox: ten daily runs, late events injected between them, each once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connector import Component, StateError
from connector.sandbox import Sandbox
from connector.sync.runner import run_sync
from connector.sync.stores import open_state

FIRST = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=45)


def _event(day: dt.date, n: int, *, insert_id: str | None = None) -> dict[str, Any]:
    at = dt.datetime.combine(day, dt.time(12), dt.UTC) + dt.timedelta(seconds=n)
    return {
        "event": "Purchase",
        "properties": {
            "distinct_id": f"u{n % 3}",
            "time": int(at.timestamp()),
            "$insert_id": insert_id or f"{day:%Y%m%d}-{n}",
        },
    }


def _inject(component: Component, sandbox: Sandbox, events: list[dict[str, Any]]) -> None:
    inputs = {"events": events, "project_id": sandbox.project_id}
    component.run("importEvents", inputs, sandbox.connection)


def _sync(
    component: Component, sandbox: Sandbox, state: str, day: dt.date, out: list[Any], **kw: Any
) -> Any:
    return run_sync(
        component,
        "downloadData",
        {"project_id": sandbox.project_id},
        sandbox.connection,
        state,
        out.extend,
        until=day,
        start=kw.pop("start", FIRST),
        **kw,
    )


@pytest.mark.parametrize("store", ["file", "sqlite"])
def test_ten_daily_runs_deliver_every_event_once_late_ones_included(
    sandbox: Sandbox, component: Component, tmp_path: Path, store: str
) -> None:
    state = str(tmp_path / "events.state") if store == "file" else f"sqlite:///{tmp_path}/s.db"
    delivered: list[Any] = []
    sent: list[dict[str, Any]] = []
    late_ones = []
    for run in range(10):
        day = FIRST + dt.timedelta(days=run)
        today = [_event(day, n) for n in range(4)]
        if run >= 3:  # an event for three days ago arrives only now
            late = _event(day - dt.timedelta(days=3), 100 + run)
            today.append(late)
            late_ones.append(late["properties"]["$insert_id"])
        if run == 5:  # Mixpanel stores a resent event twice; it is delivered once
            today.append(_event(day, 0))
        _inject(component, sandbox, today)
        sent.extend(today)
        result = _sync(component, sandbox, state, day, delivered)
        assert result.delivered == len({e["properties"]["$insert_id"] for e in today})
        late_day = (day - dt.timedelta(days=3)).isoformat()
        assert result.late == ({late_day: 1} if run >= 3 else {})
    ids = Counter(e["properties"]["$insert_id"] for e in delivered)
    assert set(ids) == {e["properties"]["$insert_id"] for e in sent}
    assert max(ids.values()) == 1
    assert set(late_ones) <= set(ids) and len(late_ones) == 7
    again = _sync(component, sandbox, state, FIRST + dt.timedelta(days=9), delivered)
    assert (again.delivered, again.read > 0) == (0, True)  # a rerun delivers nothing new


def test_an_event_later_than_the_lookback_is_not_read(
    sandbox: Sandbox, component: Component, tmp_path: Path
) -> None:
    state, delivered = str(tmp_path / "s"), []
    _inject(component, sandbox, [_event(FIRST, 1)])
    for run in range(4):
        _sync(component, sandbox, state, FIRST + dt.timedelta(days=run), delivered, lookback_days=2)
    _inject(component, sandbox, [_event(FIRST, 2)])  # for day 0, arriving on day 4
    day = FIRST + dt.timedelta(days=4)
    result = _sync(component, sandbox, state, day, delivered, lookback_days=2)
    assert result.first == (FIRST + dt.timedelta(days=2)).isoformat()
    assert [e["properties"]["$insert_id"] for e in delivered] == [f"{FIRST:%Y%m%d}-1"]


@pytest.mark.parametrize("lookback", [2, 5])
def test_the_state_after_30_runs_holds_the_lookback_window_not_the_history(
    sandbox: Sandbox, component: Component, tmp_path: Path, lookback: int
) -> None:
    state, delivered, sizes, kept = str(tmp_path / "s"), [], [], []
    for run in range(30):
        day = FIRST + dt.timedelta(days=run)
        _inject(component, sandbox, [_event(day, n) for n in range(20)])
        result = _sync(component, sandbox, state, day, delivered, lookback_days=lookback)
        sizes.append(Path(state).stat().st_size)
        kept.append(result.keys_kept)
    assert len(delivered) == 600
    # The lookback's days, the run's own day and one day of zone margin, 20 keys each.
    window = (lookback + 2) * 20
    assert kept[-1] == window and kept[lookback + 3 :] == [window] * (27 - lookback)
    assert max(sizes[10:]) - min(sizes[10:]) < 100  # flat, whatever the history
    assert sizes[-1] < window * 16 * 4 // 3 + 600  # 16-byte digests in base64, little else


def test_a_state_changed_by_hand_is_refused_and_delivers_nothing(
    sandbox: Sandbox, component: Component, tmp_path: Path
) -> None:
    state, delivered = tmp_path / "s", []
    _inject(component, sandbox, [_event(FIRST, 1)])
    _sync(component, sandbox, str(state), FIRST, delivered)
    state.write_bytes(state.read_bytes().replace(b'"cursor":"', b'"cursor":"1'))
    with pytest.raises(StateError, match="digest does not match"):
        _sync(component, sandbox, str(state), FIRST, delivered)
    assert len(delivered) == 1


def test_a_failed_delivery_is_offered_again(
    sandbox: Sandbox, component: Component, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path}/s.db"
    _inject(component, sandbox, [_event(FIRST, 1), _event(FIRST, 2)])

    def refuse(records: list[Any]) -> None:
        raise OSError("the warehouse is down")

    with pytest.raises(OSError):
        run_sync(
            component, "downloadData", {"project_id": sandbox.project_id}, sandbox.connection,
            state, refuse, until=FIRST, start=FIRST,
        )  # fmt: skip
    delivered: list[Any] = []
    assert _sync(component, sandbox, state, FIRST, delivered).delivered == 2
    assert open_state(state, "x").load() is None  # slots are named by the sync and its inputs
