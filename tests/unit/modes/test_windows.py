from __future__ import annotations

from datetime import date, timedelta

import pytest

from connector.modes.windows import Window, plan_windows, remaining_windows

JAN1 = date(2024, 1, 1)


def _covers(windows: list[Window]) -> list[date]:
    days = []
    for w in windows:
        days.extend(w.first + timedelta(days=n) for n in range(w.days))
    return days


@pytest.mark.parametrize(
    ("span", "size", "count"),
    [(365, 30, 13), (31, 30, 2), (30, 30, 1), (1, 30, 1), (10, 1, 10), (366, 7, 53)],
)
def test_windows_cover_every_day_once_in_order(span: int, size: int, count: int) -> None:
    last = JAN1 + timedelta(days=span - 1)
    windows = plan_windows(JAN1, last, size)
    assert len(windows) == count
    assert _covers(windows) == [JAN1 + timedelta(days=n) for n in range(span)]
    assert all(w.days <= size for w in windows)
    assert all(a.last < b.first for a, b in zip(windows, windows[1:], strict=False))


def test_a_year_of_30_day_windows() -> None:
    windows = plan_windows(date(2024, 1, 1), date(2024, 12, 30), 30)
    assert windows[0] == Window(date(2024, 1, 1), date(2024, 1, 30))
    assert windows[-1] == Window(date(2024, 12, 26), date(2024, 12, 30))


def test_an_empty_range_has_no_window_and_a_zero_size_is_refused() -> None:
    assert plan_windows(JAN1, JAN1 - timedelta(days=1), 30) == []
    with pytest.raises(ValueError, match="at least 1 day"):
        plan_windows(JAN1, JAN1, 0)


@pytest.mark.parametrize("days", [2, 3, 30, 31])
def test_halves_do_not_overlap_and_cover_the_window(days: int) -> None:
    window = Window(JAN1, JAN1 + timedelta(days=days - 1))
    halves = window.halves()
    assert halves is not None
    left, right = halves
    assert left.first == window.first and right.last == window.last
    assert left.last + timedelta(days=1) == right.first
    assert left.days - right.days in (0, 1)


def test_a_day_cannot_be_halved_and_a_backwards_window_is_refused() -> None:
    assert Window(JAN1, JAN1).halves() is None
    with pytest.raises(ValueError, match="before it starts"):
        Window(JAN1, JAN1 - timedelta(days=1))


def test_labels_and_state_round_trip() -> None:
    window = Window(JAN1, date(2024, 1, 30))
    assert window.label() == "2024-01-01..2024-01-30"
    assert Window(JAN1, JAN1).label() == "2024-01-01"
    assert Window.from_list(window.to_list()) == window
    with pytest.raises(ValueError):
        Window.from_list(["2024-01-01"])


def test_remaining_windows_skip_kept_days_and_never_bridge_a_gap() -> None:
    last = date(2024, 3, 31)  # 91 days
    done = [
        Window(date(2024, 1, 1), date(2024, 1, 30)),
        Window(date(2024, 2, 15), date(2024, 2, 29)),
    ]
    remaining = remaining_windows(JAN1, last, 30, done)
    assert remaining == [
        Window(date(2024, 1, 31), date(2024, 2, 14)),
        Window(date(2024, 3, 1), date(2024, 3, 30)),
        Window(date(2024, 3, 31), date(2024, 3, 31)),
    ]
    kept = set(_covers(done))
    assert set(_covers(remaining)) == set(_covers(plan_windows(JAN1, last, 30))) - kept
    assert remaining_windows(JAN1, last, 30, plan_windows(JAN1, last, 30)) == []
    assert remaining_windows(JAN1, last, 30, []) == plan_windows(JAN1, last, 30)
