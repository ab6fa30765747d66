"""Reads the windows an export's state file records, refusing any out of bounds or order."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..modes.windows import Window

__all__ = ["MAX_STATE_WINDOWS", "Recorded", "recorded_windows"]

#: Windows a state file records at most; later windows are written but not recorded (a rerun
#: fetches them again), and a state file listing more is not ours: it is refused.
MAX_STATE_WINDOWS = 10_000

#: One recorded window: the window, its record count, the file's size after it, its digest.
Recorded = tuple[Window, int, int, str]


def recorded_windows(data: dict[str, Any], bounds: tuple[date, date] | None) -> list[Recorded]:
    """A state file's windows with their counts, ends and digests, checked against `bounds`.

    Raises:
        ValueError: too many windows, one outside the export's dates, overlapping or out
            of order, or counts and sizes that are not whole numbers in order.
    """
    windows, counts = data["windows"], data["counts"]
    ends, digests = data["ends"], data["digests"]
    if not all(isinstance(x, list) for x in (windows, counts, ends, digests)):
        raise ValueError("windows, counts, ends and digests must be lists")
    if len(windows) > MAX_STATE_WINDOWS:
        raise ValueError(f"{len(windows)} windows recorded, more than {MAX_STATE_WINDOWS}")
    if not len(windows) == len(counts) == len(ends) == len(digests):
        raise ValueError("windows, counts, ends and digests differ in length")
    if windows and bounds is None:
        raise ValueError("this export is not read in windows")
    recorded: list[Recorded] = []
    previous: Window | None = None
    previous_end = 0
    for pair, count, end, digest in zip(windows, counts, ends, digests, strict=True):
        if not isinstance(pair, list):
            raise ValueError(f"a window is not a pair of dates: {str(pair)[:80]}")
        window = Window.from_list(pair)
        assert bounds is not None
        if window.first < bounds[0] or window.last > bounds[1]:
            raise ValueError(f"window {window.label()} is outside the export's dates")
        if previous is not None and window.first <= previous.last:
            raise ValueError(f"window {window.label()} overlaps or precedes another")
        if type(count) is not int or type(end) is not int or count < 0 or end < previous_end:
            raise ValueError(f"window {window.label()} has a bad count or size")
        if not isinstance(digest, str):
            raise ValueError(f"window {window.label()} has no digest")
        recorded.append((window, count, end, digest))
        previous, previous_end = window, end
    return recorded
