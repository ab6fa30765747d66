"""The component the workflow engine loads: run actions, preview requests, fetch picklists."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .budgets import resolve_budgets
from .budgets.limits import Registry
from .call import Call, CallOptions
from .catalog.lookup import every_operation, find_operation
from .catalog.spec import ComponentSpec, OperationSpec
from .core.digest import inputs_digest
from .core.progress import Progress
from .core.urls import checked_base_url
from .modes.paged import collect_pages, iter_pages, paging_enabled
from .modes.single import items_of, iter_items, send_once
from .modes.streamed import (
    STREAM_RATE_WAIT_S,
    RecordStream,
    StreamStats,
    stream_plan,
    stream_windows,
)
from .parse.picklist import picklist
from .prepare.request import HTTPRequest
from .send.attempts import DEFAULT_RETRY, SHORT_WAIT_S, Clock, SystemClock
from .send.policy import RetryPolicy, guided
from .send.settings import Settings, SettingsAttributes
from .send.transport import Transport

if TYPE_CHECKING:  # files/ loads only when a checkpoint is given (cold start)
    from .files.checkpoint import Checkpoint


class Component(SettingsAttributes):
    """A loaded component. Each call validates, renders, sends (unless previewing) and parses.

    Keyword options (see the README, "Errors, retries and limits"):
        retry: the default RetryPolicy of every call (Mixpanel's guidance when omitted); an
            action's Max Retry Count / Retry Delay / Use Exponential Backoff / Retry On All
            Errors inputs override it field by field.
        rate_wait_s: how long a call may wait for the hourly client-side rate budget (0, the
            default: fail at once with a RateLimitError saying when it frees up). Per-second
            windows and concurrency slots are always waited for (up to the spec's
            `waits.short_max_s`); each wait over a second is logged once on `connector.waits`.
        rate_registry: the budgets to draw from; overrides `budgets`.
        budgets: where the budgets live: "sqlite:///PATH" (every process on this host),
            "redis://HOST:PORT/DB" (every host) or "memory" (this process only); when None,
            the environment variable the spec declares (`environment.budgets`), else a SQLite
            file in the user state directory.
        clock: monotonic time, wall time and sleep for retries (inject a fake in tests).
        rng: random source for backoff jitter.
        workers: pins the requests a batched action (one whose spec has `batch:`) keeps in
            flight; by default the spec's `batch.concurrency` adapts up to its `max` (fewer
            after 429/503 answers), else its fixed `batch.workers`, else 4.
    """

    def __init__(
        self,
        spec: ComponentSpec,
        *,
        base_url: str | None = None,
        transport: Transport | None = None,
        retry: RetryPolicy | None = None,
        rate_wait_s: float = 0.0,
        rate_registry: Registry | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        embedded: Any = None,
        budgets: str | None = None,
        workers: int | None = None,
    ) -> None:
        # A plugin's in-process server (`load_component(sandbox=True)`) supplies the
        # connection, and each result carries its note under a key of its own.
        self.settings = Settings(
            spec=spec,
            base_url=checked_base_url(base_url) if base_url else None,
            transport=transport or Transport(),
            retry=guided(retry or DEFAULT_RETRY, spec.retry, statuses=retry is None),
            rate_wait_s=rate_wait_s,
            registry=rate_registry or _budgets(spec, budgets),
            clock=clock or SystemClock(),
            rng=rng or random.Random(),
            embedded=embedded,
            workers=workers,
            short_wait_s=float(spec.waits.get("short_max_s", SHORT_WAIT_S)),
        )

    def __repr__(self) -> str:
        where = f" base_url={self.base_url!r}" if self.base_url else ""
        return f"<Component {self.spec.key}: {len(self.spec.actions)} actions{where}>"

    # --- public API ---------------------------------------------------------------------------

    def run(
        self,
        action_key: str,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        rate_wait_s: float | None = None,
        workers: int | None = None,
        checkpoint: str | Path | Checkpoint | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Run an action and return `{"data": ...}`.

        `retry` and `rate_wait_s` override the component's settings for this call. An action
        with a `batch:` spec takes any number of records (a list, iterable or generator) and
        sends them in requests within its limits: as many at once as its spec's
        `batch.concurrency` allows and the server's answers sustain, or exactly `workers`
        (default: the component's) when given; `progress.update(figures)` (default: the
        component's `progress`) hears each answer.

        `checkpoint` (a batched action only): a file recording which batches the API
        acknowledged. Run again with the same records in the same order, the same other
        inputs, server and credentials, the call skips those batches and sends the rest; the
        file is removed when every batch was sent. A file written for another server,
        credential or other inputs is not used: every batch is sent, and the result says why
        (`started_over`). One run at a time may use a checkpoint (StateError for a second).

        An action with a `wait:` spec creates a job and, when its inputs ask, polls the job's
        status until it is done (returning the last status answer): one blocking call that
        announces each wait and reports the status to `progress`; a failed job raises
        JobFailed, a job still running after the maximum wait JobTimeout (both name the job's
        id, which the action's resume input takes to wait again).
        """
        op = find_operation(self.spec, action_key, self.spec.actions, "action")
        options = CallOptions(retry=retry, rate_wait_s=rate_wait_s, workers=workers)
        if op.batch:
            from .modes.batched.pool import concurrency_of  # loads when needed
            from .modes.batched.run import DEFAULT_WORKERS, run_batched

            call = self.bind(op, inputs, connection, options)
            chosen = concurrency_of(op.batch, workers or self.workers, DEFAULT_WORKERS)
            if checkpoint is None:  # files/ (and its file locks) load only for a checkpoint
                return self._noted({"data": run_batched(call, chosen, progress)})
            from .files.checkpoint import as_checkpoint
            from .files.scope import scope_of

            store = as_checkpoint(checkpoint, op.key)
            assert store is not None
            records_key = op.batch["input"]
            others = {**call.values, **store.extra}
            store.scope = scope_of(call, others, records_key)
            with store.hold():
                return self._noted({"data": run_batched(call, chosen, progress, store)})
        call = self.bind(op, inputs, connection, options)
        if op.wait:
            from .modes.waited import run_waited  # loads when needed

            return self._noted({"data": run_waited(call)})
        data = collect_pages(call) if op.paging else send_once(call)
        return self._noted({"data": data})

    def iter(
        self,
        action_key: str,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        rate_wait_s: float | None = None,
    ) -> RecordStream:
        """Yield an action's records one by one, with flat memory (see connector.modes).

        Streamed actions (a spec `stream:` section, e.g. exports) are read as they arrive and
        resume after a cut; paged actions (`paging:`) walk every page when their spec says so;
        any other action yields the items of its result. Inputs are checked before this
        returns, so bad input raises here and nothing is sent. A stream's requests wait up
        to `rate_wait_s` (default: a minute, STREAM_RATE_WAIT_S) for the rate budget.
        """
        op = find_operation(self.spec, action_key, every_operation(self.spec), "action")
        call = self.bind(op, inputs, connection, CallOptions(retry=retry, rate_wait_s=rate_wait_s))
        first = self._first_request(call)  # renders once: template and auth errors now
        stats = StreamStats()
        records: Any
        if op.stream:
            from .files.scope import scope_of  # loads when needed

            wait = max(self.rate_wait_s, STREAM_RATE_WAIT_S) if rate_wait_s is None else rate_wait_s
            plan = stream_plan(op, call.values)  # now: a date like 2024-02-30 is an input error
            waiting = call.with_options(rate_wait_s=wait)
            return RecordStream(
                None,
                stats,
                identity=inputs_digest(op.key, call.values),
                scope=lambda: scope_of(call, call.values),
                plan=plan,
                start=lambda chosen: stream_windows(waiting, chosen, stats),
            )
        if op.paging and paging_enabled(op, call.values):
            records = iter_pages(call, stats)
        elif op.batch:  # its first request, as `prepare` shows it
            tries = [0]

            def answer() -> Any:
                try:
                    return call.send(*first, attempts=tries)
                finally:
                    stats.requests += tries[0]

            records = items_of(op, answer)
        else:
            records = iter_items(call, stats)
        return RecordStream(records, stats)

    def preview(
        self, action_key: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Return the requests `run` would send (secrets masked), sending nothing."""
        return list(self.preview_requests(action_key, inputs, connection))

    def preview_requests(
        self, action_key: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """`preview`, one request at a time: a batched action's records are read as it goes.

        Its inputs are checked when it is called (InputError then; nothing is sent).
        """
        op = find_operation(self.spec, action_key, every_operation(self.spec), "action")
        call = self.bind(op, inputs, connection)
        if op.batch:
            from .modes.batched.run import batch_requests

            return (request.to_dict() for request, _ in batch_requests(call))
        request, _ = call.render()
        return iter([request.to_dict()])

    def prepare(
        self, action: str | OperationSpec, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> tuple[HTTPRequest, str | None]:
        """The request an action sends (a batched action: its first) and its Authorization header.

        Pure: inputs are checked and the request rendered, nothing is sent.
        """
        op = self._as_operation(action)
        return self._first_request(self.bind(op, inputs, connection))

    def fetch(
        self,
        data_source_key: str,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        rate_wait_s: float | None = None,
    ) -> dict[str, Any]:
        """Fetch a data source and return `{"result": [{"label", "key"}, ...]}`.

        `retry` and `rate_wait_s` override the component's settings for this call.
        """
        op = find_operation(self.spec, data_source_key, self.spec.data_sources, "data source")
        call = self.bind(op, inputs, connection, CallOptions(retry=retry, rate_wait_s=rate_wait_s))
        return self._noted({"result": picklist(op, send_once(call))})

    def bind(
        self,
        action: str | OperationSpec,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any],
        options: CallOptions | None = None,
    ) -> Call:
        """The Call of an action or data source: its inputs checked once, its secrets noted.

        A batched action's records are left to the batches, which check them one by one.

        Raises:
            InputError: an input is invalid (or there is no such operation); nothing is sent.
        """
        op = self._as_operation(action)
        deferred = op.batch["input"] if op.batch else ""
        return Call.bind(self.settings, op, inputs, connection, options, deferred=deferred)

    # --- helpers ------------------------------------------------------------------------------

    def _first_request(self, call: Call) -> tuple[HTTPRequest, str | None]:
        if call.op.batch:
            from .modes.batched.run import batch_requests

            return next(iter(batch_requests(call)))
        return call.render()

    def _noted(self, result: dict[str, Any]) -> dict[str, Any]:
        if self.embedded is not None:
            result["sandbox"] = self.embedded.note
        return result

    def _as_operation(self, action: str | OperationSpec) -> OperationSpec:
        if isinstance(action, OperationSpec):
            return action
        return find_operation(self.spec, action, every_operation(self.spec), "action")


def _budgets(spec: ComponentSpec, url: str | None) -> Registry:
    """The budgets at `url`, else where the spec's environment variable says, else the default."""
    return resolve_budgets(url, spec.environment.get("budgets", ""), f"{spec.key}-connector")
