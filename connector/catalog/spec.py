"""Frozen dataclasses for the component, connection, inputs and operations."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ..budgets.memory import RateLimit

SECRET_TYPES = frozenset({"password"})


@dataclass(frozen=True)
class InputSpec:
    """One input: its key, label, type, default, choices and help text."""

    key: str
    label: str
    type: str
    required: bool = False
    default: Any = None
    notes: str = ""
    example: Any = None
    choices: tuple[Any, ...] = ()
    choice_labels: tuple[str, ...] = ()
    schema: dict[str, Any] = field(default_factory=dict)
    secret: bool = False
    deprecated: str = ""
    group: str = ""
    data_source: str = ""
    env: str = ""  # connection fields: the environment variable the CLI reads

    @property
    def is_secret(self) -> bool:
        """True when values of this input must be masked everywhere."""
        return self.secret or self.type in SECRET_TYPES

    def describe(self) -> str:
        """Name the input as messages do: Label (`key`)."""
        return f"{self.label} (`{self.key}`)"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSpec:
        """Build from a checked spec mapping."""
        values: list[Any] = []
        labels: list[str] = []
        for choice in data.get("choices") or ():
            if isinstance(choice, dict):
                values.append(choice["value"])
                labels.append(str(choice.get("label", choice["value"])))
            else:
                values.append(choice)
                labels.append(str(choice))
        return cls(
            key=data["key"],
            label=data["label"],
            type=data["type"],
            required=bool(data.get("required", False)),
            default=data.get("default"),
            notes=data.get("notes", ""),
            example=data.get("example"),
            choices=tuple(values),
            choice_labels=tuple(labels),
            schema=dict(data.get("schema") or {}),
            secret=bool(data.get("secret", False)),
            deprecated=data.get("deprecated", ""),
            group=data.get("group") or "",
            data_source=data.get("data_source", ""),
            env=data.get("env", ""),
        )


@dataclass(frozen=True)
class AuthSchemeSpec:
    """A named way to authenticate with the connection's fields."""

    name: str
    type: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    description: str = ""
    lifecycle: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionSpec:
    """The connection: its fields and auth schemes."""

    key: str
    label: str
    description: str
    setup: str
    inputs: tuple[InputSpec, ...]
    auth_schemes: dict[str, AuthSchemeSpec]
    lifecycle: tuple[dict[str, Any], ...] = ()

    def scheme_fields(self, scheme: AuthSchemeSpec) -> tuple[str, ...]:
        """The connection fields an auth scheme sends (none for `none`)."""
        if scheme.type == "bearer":
            return tuple(f for f in (scheme.token,) if f)
        if scheme.type == "basic":
            return tuple(f for f in (scheme.username, scheme.password) if f)
        return ()

    def field(self, key: str) -> InputSpec:
        """Return the connection field `key`."""
        return next(i for i in self.inputs if i.key == key)


@dataclass(frozen=True)
class OperationSpec:
    """An action or a data source: inputs, rules, request and response templates, sample."""

    key: str
    kind: str  # "action" or "data_source"
    label: str
    description: str
    inputs: tuple[InputSpec, ...]
    request: dict[str, Any]
    sample: Any
    notes: str = ""
    type: str = ""
    rules: tuple[dict[str, Any], ...] = ()
    response: dict[str, Any] = field(default_factory=dict)
    retry: dict[str, Any] = field(default_factory=dict)
    picklist: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)
    openapi: dict[str, Any] = field(default_factory=dict)
    earlier_sample: Any = None  # what earlier versions documented, where it differs
    file: str = ""
    batch: dict[str, Any] = field(default_factory=dict)
    source: str = "shipped"  # "shipped", or the overlay folder it came from
    #: Where an overlay the caller opted in to widens credential trust for this operation.
    trust_widened: tuple[str, ...] = ()
    lifecycle: dict[str, Any] = field(default_factory=dict)
    stream: dict[str, Any] = field(default_factory=dict)
    paging: dict[str, Any] = field(default_factory=dict)
    wait: dict[str, Any] = field(default_factory=dict)
    limits: tuple[dict[str, Any], ...] = ()
    sync: dict[str, Any] = field(default_factory=dict)

    def input(self, key: str) -> InputSpec:
        """Return the input `key`."""
        return next(i for i in self.inputs if i.key == key)

    @property
    def value_inputs(self) -> tuple[InputSpec, ...]:
        """Every input except the connection itself."""
        return tuple(i for i in self.inputs if i.type != "connection")


@dataclass(frozen=True)
class ComponentSpec:
    """The whole component: metadata, connection, actions and data sources."""

    key: str
    name: str
    description: str
    overview: str
    documentation_url: str
    trusted_hosts: tuple[str, ...]
    rate_limits: dict[str, RateLimit]
    connection: ConnectionSpec
    actions: MutableMapping[str, OperationSpec]  # a dict, or built on first use (spec cache)
    data_sources: MutableMapping[str, OperationSpec]
    environment: dict[str, str] = field(default_factory=dict)
    retry: dict[str, Any] = field(default_factory=dict)  # the API's retry guidance
    waits: dict[str, float] = field(default_factory=dict)  # rate-budget wait caps, seconds
    compatibility: dict[str, Any] = field(default_factory=dict)  # departures, with reasons

    def operation(self, key: str) -> OperationSpec:
        """Return the action or data source `key`; KeyError if there is none."""
        if key in self.actions:
            return self.actions[key]
        return self.data_sources[key]
