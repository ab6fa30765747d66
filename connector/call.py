"""One operation bound to its checked inputs, connection, secrets and options: render and send."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from .catalog.spec import ComponentSpec, OperationSpec
from .catalog.widening import secret_reads
from .core.redact import Redactor
from .core.urls import host_matches, origin_of
from .errors import APIError
from .parse.response import parse_response
from .prepare.auth import authorization_header, credentials_to, describe_scheme, scheme_for
from .prepare.inputs import validate_inputs
from .prepare.render import render_request
from .prepare.request import HTTPRequest
from .send.attempts import policy_for, send_with_retries
from .send.response import RawResponse
from .send.retry import RetryPolicy
from .send.settings import CallOptions, Settings

__all__ = ["Call", "CallOptions", "Check", "Gate", "Settings"]

T = TypeVar("T")


class Gate(Protocol):
    """Slots for requests on the wire (connector.modes.batched.aimd.AdaptiveLimit is one)."""

    def acquire(self, again: bool = False) -> Any:
        """Wait for a slot and take it (`again`: for a request sent before, not a new one)."""

    def release(self, slot: Any, status: int | None) -> bool | None:
        """Give the slot back with the answer's status (None: no answer).

        True when the gate lowered its limit for this throttling answer (or since the slot
        was taken): the retry waits for a slot under it instead of a backoff.
        """


#: Throttled attempts of one request retried at once when its gate lowered the limit for them.
PACED_RETRIES = 2

#: A look at a response before it is parsed; it raises to make the attempt fail.
Check = Callable[[HTTPRequest, RawResponse], None]


class Call:
    """One operation bound to its inputs (checked once), connection, secrets and options.

    `Call.bind` checks the inputs; `render` turns them (or a page's or a day's values built
    from them) into the request, and `send` sends it within the retry policy and rate budget.
    The modes (connector.modes) run a Call; they never see the component.
    """

    def __init__(
        self,
        settings: Settings,
        op: OperationSpec,
        values: dict[str, Any],
        connection: dict[str, Any],
        secrets: Redactor,
        options: CallOptions,
        inputs: Mapping[str, Any],
    ) -> None:
        self.settings = settings
        self.op = op
        self.values = values
        self.connection = connection
        self.secrets = secrets
        self.options = options
        self.inputs = inputs  # as given (adapted), for a batch's records

    def __repr__(self) -> str:
        return f"<Call {self.op.key}>"

    @classmethod
    def bind(
        cls,
        settings: Settings,
        op: OperationSpec,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any],
        options: CallOptions | None = None,
        *,
        deferred: str = "",
    ) -> Call:
        """Adapt the inputs (for an embedded server), note the secrets, check the inputs once.

        `deferred` names an input checked elsewhere (a batch's records, one by one).

        Raises:
            InputError: listing every invalid input; nothing was sent.
        """
        inputs, adapted = _adapted(settings, op, inputs, connection)
        secrets = _secrets(settings.spec, op, adapted, inputs)
        values = validate_inputs(op, inputs, adapted, deferred=deferred, component=settings.spec)
        return cls(settings, op, values, adapted, secrets, options or CallOptions(), inputs)

    # --- options in force ------------------------------------------------------------------------

    @property
    def rate_wait_s(self) -> float:
        """How long each request may wait for its rate budget."""
        wait = self.options.rate_wait_s
        return self.settings.rate_wait_s if wait is None else wait

    def with_options(self, **changes: Any) -> Call:
        """The same call with some of its options changed."""
        options = replace(self.options, **changes)
        return Call(
            self.settings, self.op, self.values, self.connection, self.secrets, options, self.inputs
        )

    def policy(self, request: HTTPRequest) -> RetryPolicy:
        """The retry policy of `request`: the call's, overridden by the action's retry inputs."""
        return policy_for(request, self.options.retry or self.settings.retry)

    # --- the pipeline ----------------------------------------------------------------------------

    def render(self, values: Mapping[str, Any] | None = None) -> tuple[HTTPRequest, str | None]:
        """The request and its Authorization header, from the checked values (or `values`).

        Pure: nothing is sent. `values` are the checked values with a page's or a day's
        changes (connector.modes); they are not checked again.
        """
        spec = self.settings.spec
        request = render_request(
            self.op,
            self.values if values is None else values,
            self.connection,
            base_url=self.settings.base_url,
            rebase_hosts=spec.trusted_hosts,
            secrets=self.secrets,
        )
        at = origin_of(request.url)
        server = "" if host_matches(at.host, spec.trusted_hosts) else str(at)
        request = replace(
            request, api=spec.name, server=server, trust_widened=self.op.trust_widened
        )
        header = authorization_header(
            request,
            spec.connection,
            self.connection,
            trusted_hosts=spec.trusted_hosts,
            base_url=self.settings.base_url,
            secrets=self.secrets,
        )
        if header is not None or self.renders_secret():
            where = credentials_to(request, spec.trusted_hosts, self.settings.base_url)
            request = replace(request, credentials_to=where)
        return request, header

    def renders_secret(self) -> bool:
        """True when the operation's templates put a secret connection field into the request.

        (The project token in a body, say.) Such a request goes only where credentials may go.
        """
        return bool(self.secrets_rendered())

    def secrets_rendered(self) -> tuple[str, ...]:
        """The secret connection fields the operation's templates put into the request."""
        known = self.settings.secret_ops.get(self.op.key)
        if known is None:
            op = self.op
            secret = [f.key for f in self.settings.spec.connection.inputs if f.is_secret]
            parts = {"request": op.request, "batch": op.batch, "paging": op.paging}
            reads = set().union(*secret_reads(parts, secret).values())
            known = self.settings.secret_ops[op.key] = tuple(k for k in secret if k in reads)
        return known

    def auth_hint(self, request: HTTPRequest) -> str:
        """The credentials `request` uses, for messages (no values).

        Its auth scheme and the connection fields it sends: in the Authorization header, or
        for a scheme of none, the secret fields its templates put in the request itself.
        """
        connection = self.settings.spec.connection
        scheme = scheme_for(request, connection)
        rendered = self.secrets_rendered() if scheme.type == "none" else ()
        if not rendered:
            return describe_scheme(scheme, connection)
        fields = " and ".join(connection.field(key).describe() for key in rendered)
        return f"{fields}, in the request itself ({scheme.name}: no Authorization header)"

    def send(
        self,
        request: HTTPRequest,
        header: str | None,
        *,
        check: Check | None = None,
        attempts: list[int] | None = None,
        gate: Gate | None = None,
    ) -> Any:
        """Send `request` with retries and parse the answer; `attempts[0]` counts the tries.

        `check` looks at each response first (a streamed action's cut marker, say). With a
        `gate`, each attempt holds one of its slots while on the wire (not while waiting to
        retry) and gives it back with the answer's status.

        Raises:
            APIError: the typed error of the last failed attempt.
        """
        hint = self.auth_hint(request)
        transport = self.settings.transport
        paced = [False]  # the gate lowered its limit for the last attempt's throttling answer
        paced_count = [0]  # this request's throttling answers paced so far
        attempts_here = [0]  # this request's attempts (`attempts` may count a whole batch's)

        def send_once() -> RawResponse:
            attempts_here[0] += 1
            if attempts is not None:
                attempts[0] += 1
            if gate is None:
                return transport.send(request, header)
            slot, status = gate.acquire(again=attempts_here[0] > 1), None
            try:
                response = transport.send(request, header)
                status = response.status
                return response
            finally:
                # Two fast retries per request, then backoffs, so it cannot spend its attempts
                # within a second. A retry never takes a slot above the proven level (`again`),
                # but it may still reach the server after a probe sent beside it and draw
                # the probe's throttle: the second fast retry is for that.
                paced[0] = bool(gate.release(slot, status)) and paced_count[0] < PACED_RETRIES
                paced_count[0] += paced[0]

        def parse(response: RawResponse) -> Any:
            if check is not None:
                check(request, response)
            try:
                return parse_response(request, response, auth_hint=hint)
            except APIError as exc:
                exc.paced = paced[0]
                raise

        return self.attempt(request, send_once, parse)

    def attempt(
        self,
        request: HTTPRequest,
        send: Callable[[], RawResponse],
        parse: Callable[[RawResponse], T],
    ) -> T:
        """Run `send` then `parse` as the attempt loop allows (connector.send.attempts)."""
        return send_with_retries(
            send,
            parse,
            request=request,
            policy=self.policy(request),
            clock=self.settings.clock,
            rng=self.settings.rng,
            registry=self.settings.registry,
            limits=self.settings.spec.rate_limits,
            rate_wait_s=self.rate_wait_s,
            short_wait_s=self.settings.short_wait_s,
            on_wait=self.settings.show_wait,
            advice=self.settings.wait_advice,
        )


def _adapted(
    settings: Settings,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """The inputs and a copy of the connection, as an embedded plugin server adapts them."""
    copied = {k: v for k, v in (connection or {}).items()}
    if settings.embedded is None:
        return inputs, copied
    keys = [spec.key for spec in op.value_inputs]
    inputs, adapted = settings.embedded.adapt(keys, inputs, copied)
    return inputs, dict(adapted)


def _secrets(
    spec: ComponentSpec, op: OperationSpec, connection: Mapping[str, Any], raw: Mapping[str, Any]
) -> Redactor:
    """The secret values of the connection and of the inputs, to mask wherever they show."""
    secrets = Redactor()
    for connection_field in spec.connection.inputs:
        if connection_field.is_secret and connection.get(connection_field.key):
            secrets.add(str(connection[connection_field.key]))
    for input_spec in op.value_inputs:
        if input_spec.is_secret and raw.get(input_spec.key):
            secrets.add(str(raw[input_spec.key]))
    return secrets
