"""mixpanel-connector: Mixpanel actions and data sources declared in YAML, run by a runtime."""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .call import Call, CallOptions
from .catalog import check_specs, load_specs
from .component import Component
from .errors import (
    APIError,
    AuthError,
    BudgetExceeded,
    BudgetStoreError,
    ClientError,
    ConnectorError,
    InputError,
    InputProblem,
    JobError,
    JobFailed,
    JobTimeout,
    JSONTooDeep,
    MappingError,
    PayloadTooLargeError,
    RateLimitError,
    RecordTooLarge,
    RedirectError,
    RenderError,
    ResponseTooLarge,
    ServerError,
    SpecError,
    SpecProblem,
    StateError,
    TransportError,
    UnsafeURL,
    YAMLProblem,
)
from .loading import load_component
from .prepare.request import HTTPRequest
from .send.policy import RetryPolicy

if _TYPE_CHECKING:
    from .sync.members import MembershipChanges, sync_members
    from .sync.runner import Checkpointed, SyncResult, run_sync

#: Public names whose modules load on first use: a plain `run` does not pay for them.
_LAZY = {
    "MembershipChanges": "sync.members",
    "sync_members": "sync.members",
    "SyncResult": "sync.runner",
    "Checkpointed": "sync.runner",
    "run_sync": "sync.runner",
}


def __getattr__(name: str) -> _Any:
    """Import a lazily exported name's module when the name is first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'connector' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "APIError",
    "AuthError",
    "BudgetExceeded",
    "BudgetStoreError",
    "Call",
    "CallOptions",
    "Checkpointed",
    "ClientError",
    "Component",
    "ConnectorError",
    "HTTPRequest",
    "InputError",
    "InputProblem",
    "JSONTooDeep",
    "JobError",
    "JobFailed",
    "JobTimeout",
    "MappingError",
    "MembershipChanges",
    "PayloadTooLargeError",
    "RateLimitError",
    "RecordTooLarge",
    "RedirectError",
    "RenderError",
    "ResponseTooLarge",
    "RetryPolicy",
    "ServerError",
    "SpecError",
    "SpecProblem",
    "StateError",
    "SyncResult",
    "TransportError",
    "UnsafeURL",
    "YAMLProblem",
    "check_specs",
    "load_component",
    "load_specs",
    "run_sync",
    "sync_members",
]


def __dir__() -> list[str]:
    """The module's names, the lazily exported ones included."""
    return sorted({*globals(), *_LAZY})
