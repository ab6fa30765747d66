"""The connector's exception hierarchy, grouped by the stage that raises each error.

ConnectorError
├── SpecError            a spec file is wrong: file, line, JSON pointer
├── YAMLProblem          a YAML file cannot be read within its bounds: file, line, column
├── InputError           caller inputs are wrong (also ValueError): .errors = [InputProblem]
├── UnsafeURL            a URL that parsers may read differently (also ValueError): .marker
├── RecordTooLarge       an input file's record passed its size cap (reported as InputError)
├── JSONTooDeep          JSON nested deeper than its bound (also ValueError): .where, .path
├── RenderError          a template failed: names the spec field and the undefined variable
├── BudgetStoreError     the rate budgets' store (SQLite file, Redis) is unusable: .url, masked
├── StateError           a file kept between runs (the local key, a locked output) is unusable
└── APIError             Mixpanel (or the network) answered badly: .status, .request (redacted)
    ├── AuthError            401/403, fatal
    ├── ClientError          other 4xx and Mixpanel's "200 but rejected" answers, fatal
    │   └── PayloadTooLargeError  413, fatal
    ├── RateLimitError       429, retriable; also a client-side budget used up
    │   └── BudgetExceeded       the client-side budget is used up, with .wait_s
    ├── ServerError          5xx, retriable
    ├── TransportError       timeout / connection failure, retriable: .kind, .sent, .timeout_s
    └── RedirectError        an unsafe or endless redirect was refused, fatal

Every APIError carries `.attempts`: how many requests were made before it was raised.

Every error pickles (to cross a process boundary) as its type, message and attributes, rebuilt
without calling `__init__`; an APIError masks them with its request's secrets first, and the
request pickles masked. The cause and traceback are not carried (a library's exception may quote
a secret URL), as Python's own exceptions do.

The classes live by stage (`inputs`, `state`, `api`, the root in `base`) and are all imported
from here, which stays their home: `__module__`, pickles and tracebacks name `connector.errors`.
"""

from __future__ import annotations

# The names the classes' hints use, so that they resolve here as they did when every class was
# defined in this module: typing.get_type_hints(cls.__init__, vars(connector.errors)).
from pathlib import Path  # noqa: F401
from typing import Any  # noqa: F401

from .api import (
    ERROR_CONNECT,
    ERROR_READ_TIMEOUT,
    ERROR_RESET,
    APIError,
    AuthError,
    BudgetExceeded,
    ClientError,
    PayloadTooLargeError,
    RateLimitError,
    RedirectError,
    ResponseTooLarge,
    ServerError,
    TransportError,
)

# Outside `__all__` (a star import never took them), yet exported by name.
from .api import JobError as JobError
from .api import JobFailed as JobFailed
from .api import JobTimeout as JobTimeout
from .base import ConnectorError
from .inputs import (
    InputError,
    InputProblem,
    JSONTooDeep,
    MappingError,
    RecordTooLarge,
    RenderError,
    SpecError,
    SpecProblem,
    UnsafeURL,
    YAMLProblem,
)
from .state import BudgetStoreError, StateError

__all__ = [
    "APIError",
    "AuthError",
    "BudgetExceeded",
    "BudgetStoreError",
    "ClientError",
    "ConnectorError",
    "ERROR_CONNECT",
    "ERROR_READ_TIMEOUT",
    "ERROR_RESET",
    "InputError",
    "InputProblem",
    "JSONTooDeep",
    "MappingError",
    "PayloadTooLargeError",
    "RateLimitError",
    "RecordTooLarge",
    "RedirectError",
    "RenderError",
    "ResponseTooLarge",
    "ServerError",
    "SpecError",
    "SpecProblem",
    "StateError",
    "TransportError",
    "UnsafeURL",
    "YAMLProblem",
]

for _cls in (
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
):
    _cls.__module__ = __name__
del _cls
