"""The component the workflow engine loads: run actions, preview requests, fetch picklists."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from .attempts import DEFAULT_RETRY, Clock, SystemClock, policy_for, send_with_retries
from .auth import authorization_header, describe_scheme, scheme_for
from .budgets import resolve_budgets
from .errors import InputError, InputProblem
from .inputs import validate_inputs
from .jsonlines import raise_on_cut_marker
from .paging import collect_pages
from .parse import RawResponse, parse_response
from .ratelimit import Registry
from .redact import Redactor
from .render import render_request
from .request import HTTPRequest
from .retry import RetryPolicy
from .spec import ComponentSpec, OperationSpec
from .stream import RecordStream, iter_records
from .templates import render_value
from .transport import Transport
from .values import closest

if TYPE_CHECKING:
    from .modes.batched.aimd import AdaptiveLimit as Gate
    from .modes.batched.pool import Progress

T = TypeVar("T")


class Component:
    """A loaded component. Each call validates, renders, sends (unless previewing) and parses.

    Keyword options (see the README, "Errors, retries and limits"):
        retry: the default RetryPolicy of every call (Mixpanel's guidance when omitted); an
            action's Max Retry Count / Retry Delay / Use Exponential Backoff / Retry On All
            Errors inputs override it field by field.
        rate_wait_s: how long a call may wait for a client-side rate budget (0: fail fast
            with a RateLimitError saying when the budget frees up).
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
        self.spec = spec
        self.workers = workers
        # A plugin's in-process server (`load_component(sandbox=True)`): it supplies the
        # connection, and each result carries its note under a key of its own.
        self.embedded = embedded
        self.base_url = base_url.rstrip("/") if base_url else None
        self.transport = transport or Transport()
        self.retry = self._guided(retry or DEFAULT_RETRY, statuses=retry is None)
        self.rate_wait_s = rate_wait_s
        self.rate_registry = rate_registry or resolve_budgets(
            budgets, spec.environment.get("budgets", ""), f"{spec.key}-connector"
        )
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()

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
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Run an action and return `{"data": ...}`.

        `retry` and `rate_wait_s` override the component's settings for this call. An action
        with a `batch:` spec takes any number of records (a list, iterable or generator) and
        sends them in requests within its limits: as many at once as its spec's
        `batch.concurrency` allows and the server's answers sustain, or exactly `workers`
        (default: the component's) when given; `progress.update(figures)` hears each answer.
        """
        op = self._operation(action_key, self.spec.actions, "action")
        if op.batch:
            from .batch import DEFAULT_WORKERS  # batching loads only for batched actions
            from .bulk import run_batched
            from .modes.batched.pool import concurrency_of

            chosen = concurrency_of(op.batch, workers or self.workers, DEFAULT_WORKERS)
            data = run_batched(self, op, inputs, connection, chosen, retry, rate_wait_s, progress)
            return self._noted({"data": data})
        if op.paging:
            options: dict[str, Any] = {"retry": retry, "rate_wait_s": rate_wait_s}
            return self._noted({"data": collect_pages(self, op, inputs, connection, **options)})
        data = self._call(op, inputs, connection, retry=retry, rate_wait_s=rate_wait_s)
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
        """Yield an action's records one by one, with flat memory (see connector.stream).

        Streamed actions (a spec `stream:` section, e.g. exports) are read as they arrive and
        resume after a cut; paged actions (`paging:`) walk every page when their spec says so;
        any other action yields the items of its result. Inputs are checked before this
        returns, so bad input raises here and nothing is sent. A stream's requests wait up
        to `rate_wait_s` (default: a minute, stream.STREAM_RATE_WAIT_S) for the rate budget.
        """
        op = self._operation(action_key, {**self.spec.actions, **self.spec.data_sources}, "action")
        return iter_records(self, op, inputs, connection, retry=retry, rate_wait_s=rate_wait_s)

    def preview(
        self, action_key: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Return the requests `run` would send (secrets masked), sending nothing."""
        op = self._operation(action_key, {**self.spec.actions, **self.spec.data_sources}, "action")
        if op.batch:
            from .bulk import batch_requests

            requests = batch_requests(self, op, inputs, connection)
            return [request.to_dict() for request, _ in requests]
        request, _ = self._prepare(op, inputs, connection)
        return [request.to_dict()]

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
        op = self._operation(data_source_key, self.spec.data_sources, "data source")
        body = self._call(op, inputs, connection, retry=retry, rate_wait_s=rate_wait_s)
        picklist = op.picklist
        context = {"body": body, "status": 200, "headers": {}}
        items = render_value(picklist["items"], context, action=op.key, field="picklist.items")
        result = []
        for item in items or []:
            scope = {**context, "item": item}
            label = render_value(picklist["label"], scope, action=op.key, field="picklist.label")
            key = render_value(picklist["key"], scope, action=op.key, field="picklist.key")
            result.append({"label": str(label), "key": str(key)})
        return self._noted({"result": result})

    def _noted(self, result: dict[str, Any]) -> dict[str, Any]:
        if self.embedded is not None:
            result["sandbox"] = self.embedded.note
        return result

    # --- pipeline -----------------------------------------------------------------------------

    def _guided(self, policy: RetryPolicy, *, statuses: bool = False) -> RetryPolicy:
        """Apply the spec's retry guidance to `policy`.

        Not-processed statuses fill in where the policy leaves them open; `statuses` also sets
        the statuses to retry (for the component's own default policy).
        """
        guidance = self.spec.retry
        if policy.not_processed_statuses is None:
            policy = replace(
                policy,
                not_processed_statuses=frozenset(guidance.get("not_processed_statuses") or ()),
            )
        if statuses and "statuses" in guidance:
            policy = replace(policy, retry_statuses=frozenset(guidance["statuses"]))
        return policy

    def _operation(self, key: str, table: Mapping[str, OperationSpec], kind: str) -> OperationSpec:
        if key in table:
            return table[key]
        near = closest(key, table, n=3)
        hint = f" Did you mean {', '.join(near)}?" if near else f" Known: {', '.join(table)}."
        raise InputError(key, [InputProblem("key", kind.capitalize(), f"no {kind} {key!r}.{hint}")])

    def _secrets(
        self, op: OperationSpec, connection: Mapping[str, Any], raw: Mapping[str, Any]
    ) -> Redactor:
        secrets = Redactor()
        for field in self.spec.connection.inputs:
            if field.is_secret and connection.get(field.key):
                secrets.add(str(connection[field.key]))
        for spec in op.value_inputs:
            if spec.is_secret and raw.get(spec.key):
                secrets.add(str(raw[spec.key]))
        return secrets

    def _prepare(
        self, op: OperationSpec, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> tuple[HTTPRequest, str | None]:
        """The one request of an action (of a batched action: its first request)."""
        if op.batch:
            from .bulk import batch_requests

            return next(iter(batch_requests(self, op, inputs, connection)))
        inputs, connection = self._adapted(op, inputs, connection)
        secrets = self._secrets(op, connection, inputs)
        values = validate_inputs(op, inputs, connection)
        return self._render(op, values, connection, secrets)

    def _adapted(
        self, op: OperationSpec, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """The inputs and a copy of the connection, as an embedded plugin server adapts them."""
        connection = {k: v for k, v in (connection or {}).items()}
        if self.embedded is not None:
            keys = [spec.key for spec in op.value_inputs]
            inputs, adapted = self.embedded.adapt(keys, inputs, connection)
            connection = dict(adapted)
        return inputs, connection

    def _render(
        self,
        op: OperationSpec,
        values: Mapping[str, Any],
        connection: dict[str, Any],
        secrets: Redactor,
    ) -> tuple[HTTPRequest, str | None]:
        request = render_request(
            op,
            values,
            connection,
            base_url=self.base_url,
            rebase_hosts=self.spec.trusted_hosts,
            secrets=secrets,
        )
        request = replace(request, api=self.spec.name)
        header = authorization_header(
            request,
            self.spec.connection,
            connection,
            trusted_hosts=self.spec.trusted_hosts,
            base_url=self.base_url,
            secrets=secrets,
        )
        return request, header

    def _call(
        self,
        op: OperationSpec,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        rate_wait_s: float | None = None,
    ) -> Any:
        request, header = self._prepare(op, inputs, connection)
        return self._send(request, header, retry=retry, rate_wait_s=rate_wait_s)

    def _send(
        self,
        request: HTTPRequest,
        header: str | None,
        *,
        retry: RetryPolicy | None = None,
        rate_wait_s: float | None = None,
        attempts: list[int] | None = None,
        gate: Gate | None = None,
    ) -> Any:
        """Send one rendered request with retries; `attempts[0]` counts the tries.

        With a `gate`, each attempt holds one of its slots while on the wire (not while
        waiting to retry) and gives it back with the answer's status.
        """
        hint = self._auth_hint(request)
        op = self.spec.operation(request.action)

        def send() -> RawResponse:
            if attempts is not None:
                attempts[0] += 1
            if gate is None:
                return self.transport.send(request, header)
            slot, status = gate.acquire(), None
            try:
                response = self.transport.send(request, header)
                status = response.status
                return response
            finally:
                gate.release(slot, status)

        def parse(response: RawResponse) -> Any:
            raise_on_cut_marker(op, request, response)
            return parse_response(request, response, auth_hint=hint)

        return self._with_retries(request, send, parse, retry=retry, rate_wait_s=rate_wait_s)

    def _auth_hint(self, request: HTTPRequest) -> str:
        return describe_scheme(scheme_for(request, self.spec.connection), self.spec.connection)

    def _with_retries(
        self,
        request: HTTPRequest,
        send: Callable[[], RawResponse],
        parse: Callable[[RawResponse], T],
        *,
        retry: RetryPolicy | None,
        rate_wait_s: float | None,
    ) -> T:
        """One call's attempts: the retry policy, the rate budgets and the clock."""
        return send_with_retries(
            send,
            parse,
            request=request,
            policy=policy_for(request, retry or self.retry),
            clock=self.clock,
            rng=self.rng,
            registry=self.rate_registry,
            limits=self.spec.rate_limits,
            rate_wait_s=self.rate_wait_s if rate_wait_s is None else rate_wait_s,
        )
