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
    PayloadTooLargeError,
    RateLimitError,
    RecordTooLarge,
    RedirectError,
    RenderError,
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
    "JobError",
    "JobFailed",
    "JobTimeout",
    "PayloadTooLargeError",
    "RateLimitError",
    "RecordTooLarge",
    "RedirectError",
    "RenderError",
    "RetryPolicy",
    "ServerError",
    "SpecError",
    "SpecProblem",
    "StateError",
    "TransportError",
    "UnsafeURL",
    "YAMLProblem",
    "check_specs",
    "load_component",
    "load_specs",
]
