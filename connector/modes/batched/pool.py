"""Sends a call's batches: an adaptive number in flight, ordered lanes when declared."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from ...core.progress import Progress
from ...errors import APIError, AuthError, ConnectorError
from .aimd import AdaptiveLimit, Learned
from .lanes import LanePool
from .live import Live
from .remembered import Recalled

#: Requests built (rendered, gzip-compressed) at once beside the thread reading the input: gzip
#: releases the GIL, so compression overlaps the next chunk's checks, and only these few batches
#: hold their records (a built request holds only the JSON it sends).
BUILDERS = 2
#: The longest the end of a run waits for the recall of the kept limit (a store that hangs).
RECALL_WAIT_S = 10.0

log = logging.getLogger("connector.batch")


class Counted(Protocol):
    """The running totals a batched call keeps (connector.batch.Totals)."""

    sent: int
    imported: int
    batches: int
    requests: int
    retried: int
    concurrency: int
    throttled: int
    decisions: list[str]


@dataclass(frozen=True)
class Concurrency:
    """How many requests a batched call keeps in flight, and whether lanes keep an order."""

    ceiling: int
    start: int | None = None
    fixed: bool = False
    order_by: str | None = None
    key: str | None = None  # the template of whose limit it is, kept between runs

    def limit(self) -> AdaptiveLimit:
        """A fresh in-flight limit for one call."""
        return AdaptiveLimit(self.ceiling, start=self.start, fixed=self.fixed)


def concurrency_of(batch: Mapping[str, Any], workers: int | None, default: int) -> Concurrency:
    """The spec's `batch.concurrency` (adaptive, up to `max`), unless `workers` pins a number.

    Without a declaration the spec's `batch.workers` (else `default`) is a fixed number.
    """
    order_by = batch.get("order_by")
    declared = batch.get("concurrency")
    if workers:
        return Concurrency(max(1, int(workers)), fixed=True, order_by=order_by)
    if declared:
        start = declared.get("start")
        return Concurrency(int(declared["max"]), start, order_by=order_by, key=declared.get("key"))
    return Concurrency(int(batch.get("workers") or default), fixed=True, order_by=order_by)


Ack = Callable[[Any, Any], None]  # (batch, answer): called once per batch, after its answer


class Memory(Protocol):
    """Where a limit is kept between runs (remembered.RememberedLimit)."""

    def recall(self) -> Recalled | None:
        """What the last run kept, if anything."""
        ...

    def keep(self, learned: Learned, accepted: bool | None) -> None:
        """Keep where the limit ended and whether the credential worked."""
        ...


def send_all(
    stream: Iterator[tuple[int, Any]],
    prepare: Callable[[Any], Any],
    send: Callable[[Any, AdaptiveLimit], tuple[Any, int]],
    on_ack: Ack,
    *,
    concurrency: Concurrency,
    totals: Counted,
    progress: Progress | None = None,
    memory: Callable[[], Memory | None] | None = None,
    limit: AdaptiveLimit | None = None,
    live: Live | None = None,
) -> None:
    """Send each `(lane, batch)`: `prepare` it on a builder, `send` it on a worker.

    Every HTTP attempt takes a slot of the adaptive limit. The first batch is answered before
    any other is sent, so an error that every request would meet (credentials, a rule) costs
    one request; the next batches are prepared (rendered, compressed) meanwhile. Requests are
    built by BUILDERS threads ahead of the workers, not by the workers: with 16 workers each
    holding a batch mid-compression, memory held 16 batches of records (profiled: 60 MB peak
    for 1,000,000 small events on a loaded machine, against 50 MB allowed). With `order_by`,
    lane n's batches go one at a time, in order, on worker n. `on_ack` runs after each batch's
    answer, one call at a time. Stops at the first error and raises it, noting what had been
    sent. With `live`, the limit is the one runs of this process share (connector.modes.
    batched.live): a run that joined it does not apply the kept level over it.
    """
    limit = live.limit if live is not None else limit or concurrency.limit()
    first_done, failed = threading.Event(), threading.Event()
    if live is not None and live.answered.is_set():  # a run sharing the limit proved the key
        first_done.set()
    first: list[int] = []  # the number of the first batch sent (0 unless a resume skipped some)
    lock = threading.Lock()
    totals.concurrency = limit.limit
    kept: list[Memory] = []
    joined = live is not None and live.joined  # the level stands: the first run recalled it
    recalling = (
        _recall(memory, limit, first_done, kept, resume=not joined) if memory is not None else None
    )

    def work(item: tuple[Any, Any]) -> None:
        batch, prepared = item
        try:
            if batch.number != first[0]:
                first_done.wait()
            if failed.is_set():
                return  # the run stops at its first error
            answer, attempts = send(prepared, limit)
            if live is not None:
                live.answered.set()
            with lock:
                totals.batches += 1
                totals.requests += attempts
                totals.retried += attempts - 1
                totals.sent += len(batch.indexes)
                totals.concurrency, totals.throttled = limit.limit, limit.throttled
                on_ack(batch, answer)
                if progress is not None:
                    progress.update(_figures(totals))
        except BaseException:
            failed.set()
            raise
        finally:
            if batch.number == first[0]:
                first_done.set()

    pool: LanePool[Any] = LanePool(
        concurrency.ceiling, work, ordered=concurrency.order_by is not None
    )
    error: BaseException | None = None
    builders = ThreadPoolExecutor(BUILDERS, thread_name_prefix="batch-build")
    ahead: deque[tuple[int, Any, Future[Any]]] = deque()  # in input order

    def hand_over() -> bool:
        lane, batch, built = ahead.popleft()
        return not failed.is_set() and pool.submit((batch, built.result()), lane)

    try:
        try:
            for lane, batch in stream:
                if not first:
                    first.append(batch.number)
                ahead.append((lane, batch, builders.submit(prepare, batch)))
                # Each request goes out as soon as it is built, in input order: the first at
                # once (the reading waits for it), the next ones when the reading finds them
                # built or BUILDERS of them are being built.
                while ahead and (
                    len(ahead) > BUILDERS or ahead[0][2].done() or ahead[0][1].number == first[0]
                ):
                    if not hand_over():
                        break
                if failed.is_set():
                    break
        except Exception as exc:  # the input broke mid-stream (a bad line): send what came before
            error = exc
        while ahead and hand_over():
            pass
    except Exception as exc:  # a request did not build (a rule, a template)
        error = error or exc
    finally:
        builders.shutdown(wait=True, cancel_futures=True)
        try:
            pool.close()
        except BaseException as exc:  # noqa: BLE001 - the first failure wins, raised below
            error = error or exc
    totals.concurrency, totals.throttled = limit.limit, limit.throttled
    totals.decisions = limit.decisions
    if recalling is not None:
        recalling.join(RECALL_WAIT_S)
        if kept and not recalling.is_alive():
            refused = isinstance(error, AuthError)
            kept[0].keep(limit.learned(), False if refused else bool(totals.batches) or None)
    if error is not None:
        if isinstance(error, ConnectorError) and totals.requests:
            note = (
                f" ({totals.sent} record(s) had been sent in {totals.requests} request(s), "
                f"{totals.imported} imported, when this error stopped the run)"
            )
            error.args = (f"{error.args[0] if error.args else ''}{note}",) + error.args[1:]
        elif isinstance(error, APIError):  # the first request failed: say that none went in
            error.add_note_to_message(
                " (0 records had been imported: no request was accepted before this error)"
            )
        raise error


def _recall(
    memory: Callable[[], Memory | None],
    limit: AdaptiveLimit,
    first_done: threading.Event,
    kept: list[Memory],
    *,
    resume: bool = True,
) -> threading.Thread:
    """Start the recall of what the last run kept; it applies it to `limit` when it comes."""

    def recall() -> None:
        try:
            found = memory()
            if found is None:
                return
            kept.append(found)
            recalled = found.recall()
        except Exception as exc:  # noqa: BLE001 - a hint, never a reason to fail the run
            log.warning("the concurrency limit kept by earlier runs was not used: %s", exc)
            return
        if recalled is None:
            return
        if resume:
            limit.resume(recalled.learned, "where the last run ended")
        if recalled.accepted:  # the credentials worked last time: no need to wait and see
            first_done.set()

    thread = threading.Thread(target=recall, name="batch-recall", daemon=True)
    thread.start()
    return thread


def _figures(totals: Counted) -> dict[str, int]:
    return {
        "sent": totals.sent,
        "imported": totals.imported,
        "requests": totals.requests,
        "retried": totals.retried,
        "concurrency": totals.concurrency,
        "throttled": totals.throttled,
    }
