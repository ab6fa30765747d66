"""Sends a stream of batches with a bounded pool of workers, stopping at the first error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ...errors import ConnectorError
from .chunks import Batch
from .results import Totals

__all__ = ["Send", "send_all"]

Send = Callable[[Batch], tuple[Any, int]]  # -> (the action's answer, attempts made)


def send_all(
    stream: Iterator[Batch],
    send: Send,
    count: Callable[[Batch, Any, Totals], None],
    *,
    workers: int,
    totals: Totals,
) -> None:
    """Send batches with at most `workers` in flight (and as many queued); stop at an error.

    The first batch is sent alone, so an error that every request would meet (credentials,
    a rule) costs one request. Raises the first error, noting what had been sent.
    """
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch") as pool:
        pending: dict[Future[tuple[Any, int]], Batch] = {}

        def collect(done: Iterable[Future[tuple[Any, int]]]) -> None:
            nonlocal error
            for future in done:
                batch = pending.pop(future)
                try:
                    answer, attempts = future.result()
                except BaseException as exc:  # noqa: BLE001 - re-raised below, once
                    error = error or exc
                    continue
                totals.batches += 1
                totals.requests += attempts
                totals.retried += attempts - 1
                totals.sent += len(batch.indexes)
                count(batch, answer, totals)

        try:
            for batch in stream:
                pending[pool.submit(send, batch)] = batch
                if batch.number == 0 or len(pending) >= 2 * workers:
                    first = batch.number == 0
                    when = ALL_COMPLETED if first else FIRST_COMPLETED
                    collect(wait(pending, return_when=when)[0])
                if error is not None:
                    break
        except Exception as exc:  # the input itself broke mid-stream (a bad line in a file)
            error = error or exc
        collect(wait(pending).done)
    if error is not None:
        if isinstance(error, ConnectorError) and totals.requests:
            note = (
                f" ({totals.sent} record(s) had been sent in {totals.requests} request(s), "
                f"{totals.imported} imported, when this error stopped the run)"
            )
            error.args = (f"{error.args[0] if error.args else ''}{note}",) + error.args[1:]
        raise error
