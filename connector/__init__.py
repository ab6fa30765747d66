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
    "TransportError",
    "UnsafeURL",
    "YAMLProblem",
    "check_specs",
    "load_component",
    "load_specs",
]
