"""The days a sync run reads: the lookback before the day after the cursor, not past the horizon."""

from __future__ import annotations

import datetime as dt

import pytest

from connector.sync.plan import plan_run

D = dt.date(2026, 1, 10)
DAY = dt.timedelta(days=1)


def test_the_first_run_reads_the_lookback_window_or_from_start() -> None:
    assert (plan_run(None, None, D, 5, None).first, plan_run(None, None, D, 5, None).until) == (
        D - 5 * DAY,
        D,
    )
    assert plan_run(None, None, D, 5, D - 30 * DAY).first == D - 30 * DAY


def test_a_daily_run_reads_the_lookback_before_its_day() -> None:
    assert plan_run(D - DAY, D - 6 * DAY, D, 5, None).first == D - 5 * DAY


def test_missed_runs_are_caught_up_with_their_lookback() -> None:
    plan = plan_run(D - 10 * DAY, D - 15 * DAY, D, 5, None)
    assert (plan.first, plan.notes) == (D - 14 * DAY, [])


def test_a_rerun_never_reads_before_the_horizon_and_says_so() -> None:
    plan = plan_run(D, D - 5 * DAY, D - 3 * DAY, 5, None)
    assert plan.first == D - 5 * DAY
    assert plan.notes and "not read" in plan.notes[0]
    assert plan_run(D, D, D - 3 * DAY, 5, None).empty


def test_a_zero_lookback_reads_only_new_days_and_a_negative_one_is_refused() -> None:
    assert plan_run(D - DAY, None, D, 0, None).first == D
    with pytest.raises(ValueError, match="0 days or more"):
        plan_run(None, None, D, -1, None)
