"""one_ahead: the next window read while the caller holds the current one; errors and stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from connector.migrate.ahead import one_ahead


class Buffer:
    def __init__(self, number: int) -> None:
        self.number, self.closed = number, False

    def close(self) -> None:
        self.closed = True


def _windows(made: list[Buffer], fail_at: int | None = None) -> Iterator[tuple[Any, Buffer]]:
    for number in range(5):
        if number == fail_at:
            raise OSError("cut")
        made.append(Buffer(number))
        yield number, made[-1]


def test_the_windows_come_in_order_and_the_next_is_read_ahead() -> None:
    made: list[Buffer] = []
    seen = []
    for number, _ in one_ahead(_windows(made)):
        seen.append(number)
        if number == 1:
            deadline = threading.Event()
            deadline.wait(0.3)  # the reader fetches window 2 while window 1 is held
            assert len(made) >= 3
    assert seen == [0, 1, 2, 3, 4]


def test_an_error_reading_is_raised_at_its_window() -> None:
    made: list[Buffer] = []
    seen = []
    with pytest.raises(OSError, match="cut"):
        for number, _ in one_ahead(_windows(made, fail_at=3)):
            seen.append(number)
    assert seen == [0, 1, 2]


def test_stopping_early_closes_the_window_fetched_ahead() -> None:
    made: list[Buffer] = []
    for number, _ in one_ahead(_windows(made)):
        if number == 1:
            threading.Event().wait(0.3)
            break
    ahead = [b for b in made if b.number >= 2]
    assert ahead and all(b.closed for b in ahead)
