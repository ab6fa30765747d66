"""Overlapping window imports: at most two at once, errors raised, progress added up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connector.errors import ConnectorError
from connector.migrate.overlap import Overlap, Running


class Shown:
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def update(self, figures: Any) -> None:
        self.seen.append(dict(figures))


def test_the_next_import_starts_once_the_last_handed_over_its_records_never_three() -> None:
    imports, lock = Overlap(), threading.Lock()
    state = {"now": 0, "peak": 0}
    order: list[str] = []

    def job(label: str) -> Callable[[Callable[[Iterator[Any]], Iterator[Any]]], None]:
        def run(watch: Callable[[Iterator[Any]], Iterator[Any]]) -> None:
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            order.append(f"start {label}")
            for _ in watch(iter(range(3))):
                time.sleep(0.01)
            time.sleep(0.3)  # the last answers come back after the records were read
            order.append(f"end {label}")
            with lock:
                state["now"] -= 1

        return run

    for label in "abcd":
        imports.start(label, job(label), lambda: None)
    imports.finish()
    assert state["peak"] == 2
    # b starts before a ended (overlap); c waits for a to end (never three at once).
    assert order.index("start b") < order.index("end a") < order.index("start c")


def test_an_import_that_failed_is_raised_and_the_one_still_reading_stops() -> None:
    imports = Overlap()
    read_b: list[int] = []
    dropped: list[str] = []
    gate = threading.Event()

    def failing(watch: Callable[[Iterator[Any]], Iterator[Any]]) -> None:
        list(watch(iter([1])))
        gate.wait(5)
        raise ConnectorError("window a: refused")

    def slow(watch: Callable[[Iterator[Any]], Iterator[Any]]) -> None:
        def records() -> Iterator[int]:
            for n in range(1000):
                if n == 5:
                    gate.set()  # a fails while b is still reading
                time.sleep(0.005)
                yield n

        for n in watch(records()):
            read_b.append(n)

    imports.start("a", failing, lambda: None)
    with pytest.raises(ConnectorError, match="window a: refused"):
        imports.start("b", slow, lambda: None)
        imports.start("c", slow, lambda: dropped.append("c"))
        imports.finish()
    imports.close()
    assert len(read_b) < 1000  # b stopped with an error: it can never be recorded as done


def test_progress_adds_up_two_windows_in_flight_and_keeps_finished_ones() -> None:
    shown = Shown()
    running = Running(shown)
    a, b = running.window("a"), running.window("b")
    a.update({"sent": 100, "requests": 2, "concurrency": 16})
    b.update({"sent": 50, "requests": 1, "concurrency": 16})
    assert shown.seen[-1] == {"sent": 150, "requests": 3, "concurrency": 16}
    a.update({"sent": 200, "requests": 4, "concurrency": 16})
    assert shown.seen[-1]["sent"] == 250
    running.window_done("a")
    b.update({"sent": 60, "requests": 2, "concurrency": 12})
    assert shown.seen[-1] == {"sent": 260, "requests": 6, "concurrency": 12}
    running.window_done("b")
    running.window("c").update({"sent": 1, "requests": 1})
    assert shown.seen[-1] == {"sent": 261, "requests": 7}
    sent = [figures["sent"] for figures in shown.seen]
    assert sent == sorted(sent)  # never goes back
