"""The component the workflow engine loads: run actions, preview requests, fetch picklists."""

from __future__ import annotations

import difflib
import os
import random
from collections.abc import Mapping
from typing import Any

from .attempts import DEFAULT_RETRY, Clock, SystemClock, policy_for, send_with_retries
from .auth import authorization_header, describe_scheme, scheme_for
from .batch import DEFAULT_WORKERS
from .bulk import batch_requests, run_batched
from .catalog import load_specs
from .errors import InputError, InputProblem
from .inputs import validate_inputs
from .parse import RawResponse, parse_response
from .ratelimit import BudgetRegistry
from .redact import Redactor
from .render import render_request, render_value
from .request import HTTPRequest
from .retry import RetryPolicy
from .spec import ComponentSpec, OperationSpec
from .transport import Transport

BASE_URL_ENV = "MIXPANEL_BASE_URL"


class Component:
    """A loaded component. Each call validates, renders, sends (unless previewing) and parses.

    Keyword options (see the README, "Errors, retries and limits"):
        retry: the default RetryPolicy of every call (Mixpanel's guidance when omitted); an
            action's Max Retry Count / Retry Delay / Use Exponential Backoff / Retry On All
            Errors inputs override it field by field.
        rate_wait_s: how long a call may wait for a client-side rate budget (0: fail fast
            with a RateLimitError saying when the budget frees up).
        rate_registry: the budgets to draw from (default: the process-wide registry).
        clock: monotonic time, wall time and sleep for retries (inject a fake in tests).
        rng: random source for backoff jitter.
        workers: requests a batched action (one whose spec has `batch:`) keeps in flight
            (default: the spec's `batch.workers`, else 4).
    """

    def __init__(
        self,
        spec: ComponentSpec,
        *,
        base_url: str | None = None,
        transport: Transport | None = None,
        retry: RetryPolicy | None = None,
        rate_wait_s: float = 0.0,
        rate_registry: BudgetRegistry | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        workers: int | None = None,
    ) -> None:
        self.spec = spec
        self.workers = workers
        self.base_url = base_url.rstrip("/") if base_url else None
        self.transport = transport or Transport()
        self.retry = retry or DEFAULT_RETRY
        self.rate_wait_s = rate_wait_s
        self.rate_registry = rate_registry
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
    ) -> dict[str, Any]:
        """Run an action and return `{"data": ...}`.

        `retry` and `rate_wait_s` override the component's settings for this call. An action
        with a `batch:` spec takes any number of records (a list, iterable or generator) and
        sends them in requests within its limits, `workers` (default: the component's) at once.
        """
        op = self._operation(action_key, self.spec.actions, "action")
        if op.batch:
            pool = max(1, int(workers or self.workers or op.batch.get("workers", DEFAULT_WORKERS)))
            data = run_batched(self, op, inputs, connection, pool, retry, rate_wait_s)
            return {"data": data}
        return {"data": self._call(op, inputs, connection, retry=retry, rate_wait_s=rate_wait_s)}

    def preview(
        self, action_key: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Return the requests `run` would send (secrets masked), sending nothing."""
        op = self._operation(action_key, {**self.spec.actions, **self.spec.data_sources}, "action")
        if op.batch:
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
        return {"result": result}

    # --- pipeline -----------------------------------------------------------------------------

    def _operation(self, key: str, table: Mapping[str, OperationSpec], kind: str) -> OperationSpec:
        if key in table:
            return table[key]
        near = difflib.get_close_matches(key, list(table), n=3, cutoff=0.5)
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
            return next(iter(batch_requests(self, op, inputs, connection)))
        connection = {k: v for k, v in (connection or {}).items()}
        secrets = self._secrets(op, connection, inputs)
        values = validate_inputs(op, inputs, connection)
        return self._render(op, values, connection, secrets)

    def _render(
        self,
        op: OperationSpec,
        values: Mapping[str, Any],
        connection: dict[str, Any],
        secrets: Redactor,
    ) -> tuple[HTTPRequest, str | None]:
        request = render_request(op, values, connection, base_url=self.base_url, secrets=secrets)
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
    ) -> Any:
        policy = policy_for(request, retry or self.retry)
        hint = describe_scheme(scheme_for(request, self.spec.connection), self.spec.connection)

        def send() -> RawResponse:
            if attempts is not None:
                attempts[0] += 1
            return self.transport.send(request, header)

        def parse(response: RawResponse) -> Any:
            return parse_response(request, response, auth_hint=hint)

        return send_with_retries(
            send,
            parse,
            request=request,
            policy=policy,
            clock=self.clock,
            rng=self.rng,
            registry=self.rate_registry,
            limits=self.spec.rate_limits,
            rate_wait_s=self.rate_wait_s if rate_wait_s is None else rate_wait_s,
        )


def load_component(
    base_url: str | None = None,
    *,
    transport: Transport | None = None,
    retry: RetryPolicy | None = None,
    rate_wait_s: float = 0.0,
    rate_registry: BudgetRegistry | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    workers: int | None = None,
) -> Component:
    """Load the shipped specs; `base_url` (or $MIXPANEL_BASE_URL) redirects every request there.

    The keyword options are Component's: retry policy, rate-budget wait cap, budget registry,
    clock, jitter source and the workers of batched actions.
    """
    return Component(
        load_specs(),
        base_url=base_url or os.environ.get(BASE_URL_ENV) or None,
        transport=transport,
        retry=retry,
        rate_wait_s=rate_wait_s,
        rate_registry=rate_registry,
        clock=clock,
        rng=rng,
        workers=workers,
    )
