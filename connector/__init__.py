"""mixpanel-connector: Mixpanel actions and data sources declared in YAML, run by a runtime."""

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
from .sync.members import MembershipChanges, sync_members
from .sync.runner import SyncResult, run_sync

__all__ = [
    "APIError",
    "AuthError",
    "BudgetExceeded",
    "BudgetStoreError",
    "Call",
    "CallOptions",
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
