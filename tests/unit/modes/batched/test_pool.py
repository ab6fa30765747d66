"""The batched pool: its concurrency, the first batch alone, acks after answers, stop at errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from connector.errors import APIError
from connector.modes.batched.aimd import AdaptiveLimit
from connector.modes.batched.pool import Concurrency, concurrency_of, send_all
from connector.modes.batched.results import Totals


@pytest.mark.parametrize(
    ("spec", "workers", "expected"),
    [
        ({"concurrency": {"max": 16}}, None, Concurrency(16)),
        ({"concurrency": {"max": 16, "start": 4}}, None, Concurrency(16, 4)),
        ({"concurrency": {"max": 16}, "order_by": "$id"}, None, Concurrency(16, order_by="$id")),
        ({"concurrency": {"max": 16}, "order_by": "$id"}, 3, Concurrency(3, None, True, "$id")),
        ({"workers": 2}, None, Concurrency(2, fixed=True)),
        ({}, None, Concurrency(4, fixed=True)),
        ({"workers": 2}, 7, Concurrency(7, fixed=True)),
    ],
)
def test_the_spec_declares_and_workers_pin(
    spec: dict[str, Any], workers: int | None, expected: Concurrency
) -> None:
    assert concurrency_of(spec, workers, 4) == expected


@dataclass
class Batch:
    number: int
    indexes: list[int] = field(default_factory=lambda: [0, 1])


@dataclass
class Recorder:
    started: list[int] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    answered: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, batch: Batch, gate: AdaptiveLimit) -> tuple[Any, int]:
        slot = gate.acquire()
        with self.lock:
            self.started.append(batch.number)
            if batch.number != 0:
                assert 0 in self.answered, "a batch went out before the first was answered"
        time.sleep(0.001)
        status = 429 if batch.number == 1 else 200
        gate.release(slot, status)
        with self.lock:
            self.answered.add(batch.number)
        return {"n": batch.number}, 2 if status == 429 else 1

    def ack(self, batch: Batch, answer: Any) -> None:
        assert batch.number in self.answered and answer == {"n": batch.number}
        self.acked.append(batch.number)

    def update(self, figures: Mapping[str, float | int | str]) -> None:
        self.figures.append(dict(figures))


def test_every_batch_is_acked_after_its_answer_and_the_totals_add_up() -> None:
    recorder, totals = Recorder(), Totals()
    stream = ((0, Batch(n)) for n in range(30))
    send_all(
        stream,
        lambda b: b,
        recorder.send,
        recorder.ack,
        concurrency=Concurrency(8),
        totals=totals,
        progress=recorder,
    )
    assert recorder.started[0] == 0 and sorted(recorder.acked) == list(range(30))
    assert (totals.batches, totals.sent, totals.requests, totals.retried) == (30, 60, 31, 1)
    assert totals.throttled == 1 and totals.concurrency >= 4
    assert recorder.figures[-1]["throttled"] == 1 and len(recorder.figures) == 30


def test_ordered_lanes_keep_each_lane_in_order() -> None:
    recorder, totals = Recorder(), Totals()
    stream = ((n % 3, Batch(n)) for n in range(30))
    concurrency = Concurrency(3, fixed=True, order_by="key")
    send_all(
        stream, lambda b: b, recorder.send, recorder.ack, concurrency=concurrency, totals=totals
    )
    for lane in range(3):
        assert [n for n in recorder.started if n % 3 == lane] == list(range(lane, 30, 3))


def test_a_failing_first_batch_costs_one_request() -> None:
    sent: list[int] = []

    def send(batch: Batch, gate: AdaptiveLimit) -> tuple[Any, int]:
        sent.append(batch.number)
        raise APIError("HTTP 401: bad credentials", status=401)

    with pytest.raises(APIError, match="401"):
        send_all(
            ((0, Batch(n)) for n in range(50)),
            lambda b: b,
            send,
            lambda b, a: None,
            concurrency=Concurrency(8),
            totals=Totals(),
        )
    assert sent == [0]


def test_an_error_stops_the_run_and_says_what_had_been_sent() -> None:
    def send(batch: Batch, gate: AdaptiveLimit) -> tuple[Any, int]:
        if batch.number == 5:
            raise APIError("HTTP 500: boom", status=500)
        return {}, 1

    totals = Totals()
    with pytest.raises(APIError, match=r"boom \(\d+ record\(s\) had been sent in \d+ request"):
        send_all(
            ((0, Batch(n)) for n in range(10_000)),
            lambda b: b,
            send,
            lambda b, a: None,
            concurrency=Concurrency(1, fixed=True),
            totals=totals,
        )
    assert totals.batches == 5


def test_an_input_that_breaks_mid_stream_stops_after_what_was_queued() -> None:
    def stream() -> Any:
        yield 0, Batch(0)
        yield 0, Batch(1)
        raise ValueError("line 3 is not valid JSON")

    totals = Totals()
    with pytest.raises(ValueError, match="line 3"):
        send_all(
            stream(),
            lambda b: b,
            lambda b, g: ({}, 1),
            lambda b, a: None,
            concurrency=Concurrency(4),
            totals=totals,
        )
    assert totals.batches == 2


def test_the_first_request_goes_out_while_the_next_batches_are_still_being_read() -> None:
    sent = threading.Event()

    def stream() -> Any:
        yield 0, Batch(0)
        yield 0, Batch(1)  # the reading reaches the next batches only once the first was sent
        assert sent.wait(10), "the first request waited for the input's next batches"
        yield 0, Batch(2)

    def send(batch: Batch, gate: AdaptiveLimit) -> tuple[Any, int]:
        sent.set()
        return {}, 1

    totals = Totals()
    send_all(
        stream(), lambda b: b, send, lambda b, a: None, concurrency=Concurrency(4), totals=totals
    )
    assert totals.batches == 3
