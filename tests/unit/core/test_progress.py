from __future__ import annotations

import io
import logging

import pytest

from connector.core.progress import (
    BarProgress,
    LogProgress,
    NoProgress,
    describe,
    open_progress,
)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_describe_orders_the_figures_it_has() -> None:
    figures = {"records": 12000, "windows": "3/13", "requests": 6, "mb": 3.25, "retried": 1}
    assert describe(figures, rate=2400.4) == (
        "12,000 records, 2,400 records/s, 6 requests, 1 retried, 3.2 MB, windows 3/13"
    )
    assert (
        describe({"waiting": "Raw budget, 12 s", "records": 1})
        == "1 records, waiting: Raw budget, 12 s"
    )
    assert describe({}) == ""


def test_the_choice_follows_the_stream_and_quiet() -> None:
    assert isinstance(open_progress("x", quiet=True, stream=_Tty()), NoProgress)
    bar = open_progress("x", quiet=False, stream=_Tty())
    assert isinstance(bar, BarProgress)
    bar.close()
    assert isinstance(open_progress("x", quiet=False, stream=io.StringIO()), LogProgress)


def test_the_bar_counts_records_and_shows_the_other_figures() -> None:
    out = _Tty()
    bar = BarProgress("importEvents", out)
    bar.update({"records": 2000, "requests": 1})
    bar.update({"waiting": "Raw Export API, 12 s"})
    bar.update({"records": 4000, "requests": 2, "retried": 1, "waiting": ""})
    bar.close()
    text = out.getvalue()
    assert "importEvents" in text and "4.00k records" in text
    assert "waiting: Raw Export API, 12 s" in text
    assert "2 requests, 1 retried" in text


def test_log_lines_come_every_interval_and_once_at_the_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    progress = LogProgress("downloadData", interval_s=10.0, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="connector.progress")
    for second in range(1, 26):
        now[0] = float(second)
        progress.update({"records": second * 100, "windows": f"{second // 10}/3"})
    progress.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "connector.progress"]
    assert lines == [
        "downloadData: 1,000 records, 100 records/s, windows 1/3",
        "downloadData: 2,000 records, 100 records/s, windows 2/3",
        "downloadData (done): 2,500 records, 100 records/s, windows 2/3",
    ]


def test_no_progress_is_silent() -> None:
    quiet = NoProgress()
    quiet.update({"records": 1})
    quiet.close()
