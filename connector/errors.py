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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

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

#: TransportError kinds. The connection could not be established; the request was never sent.
ERROR_CONNECT = "connect"
#: The request was sent but no (complete) response arrived in time.
ERROR_READ_TIMEOUT = "read_timeout"
#: The connection was reset or closed after the request was (possibly) sent.
ERROR_RESET = "reset"


class ConnectorError(Exception):
    """Base class of every error this package raises."""

    retriable: ClassVar[bool] = False

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as type, message and attributes, whatever `__init__` takes (see module doc)."""
        return (_rebuilt, (type(self), self._travelling(self.args), self._travelling(vars(self))))

    def _travelling(self, value: Any) -> Any:
        """`value` as it may leave the process (APIError masks it with its request's secrets)."""
        return value


def _rebuilt(cls: type[ConnectorError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An error of type `cls` with `args` and attributes `state`, its `__init__` not called."""
    error = cls.__new__(cls, *args)
    error.args = tuple(args)
    error.__dict__.update(state)
    return error


# --- spec stage -------------------------------------------------------------------------------


class YAMLProblem(ConnectorError, ValueError):
    """A YAML file that cannot be read: `.path`, `.reason`, `.line` and `.column` (1-based)."""

    def __init__(
        self, path: Path, reason: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path, self.reason, self.line, self.column = path, reason, line, column
        super().__init__(f"{path}{self.where}: {reason}")

    @property
    def where(self) -> str:
        """`, line L, column C` (or nothing when the position is unknown)."""
        if self.line is None:
            return ""
        return f", line {self.line}" + (f", column {self.column}" if self.column else "")


@dataclass(frozen=True)
class SpecProblem:
    """One problem in one spec file."""

    file: str
    line: int | None
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.pointer or '/'}: {self.message}"


class SpecError(ConnectorError):
    """The spec files are invalid; `.problems` lists every problem found."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the specs:\n{lines}")


# --- input stage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputProblem:
    """One invalid input: its key, label and what would be valid."""

    key: str
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label} (`{self.key}`): {self.message}"


class InputError(ConnectorError, ValueError):
    """Caller inputs failed validation; nothing was sent. `.errors` lists every problem."""

    def __init__(self, action: str, errors: list[InputProblem]) -> None:
        self.action = action
        self.errors = errors
        if len(errors) == 1:
            text = f"Invalid input for {action}: {errors[0]}"
        else:
            text = f"{len(errors)} invalid inputs for {action}:\n" + "\n".join(
                f"  - {e}" for e in errors
            )
        super().__init__(text)


class UnsafeURL(ConnectorError, ValueError):
    """A URL refused before anything is sent; str() says why, never quoting the URL.

    `.marker` is the text that made it unsafe (for finding the input that holds it), or "".
    """

    def __init__(self, reason: str, marker: str = "") -> None:
        self.marker = marker
        super().__init__(reason)


class RecordTooLarge(ConnectorError):
    """A record of an input file passed its size cap while being read (then an InputError)."""


class JSONTooDeep(ConnectorError, ValueError):
    """JSON nested deeper than its bound, refused before parsing: `.where`, `.limit`, `.path`.

    `.path` points at the first value too deep (`[0].properties.a[3]`, shortened).
    """

    def __init__(self, where: str, limit: int, path: str = "") -> None:
        self.where, self.limit, self.path = where, limit, path
        at = f" at {path}" if path else ""
        what = where or "JSON"
        super().__init__(f"{what} nests objects and arrays deeper than {limit} levels{at}")


class MappingError(ConnectorError, ValueError):
    """A source record's field cannot be mapped (a migration's mapping): `.path` names it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


# --- render stage -----------------------------------------------------------------------------


class RenderError(ConnectorError):
    """A spec template could not be rendered (for example an undefined variable)."""

    def __init__(self, action: str, field: str, reason: str) -> None:
        self.action = action
        self.field = field
        super().__init__(f"Cannot render `{field}` of {action}: {reason}")


# --- budget store -----------------------------------------------------------------------------


class BudgetStoreError(ConnectorError):
    """The store that holds the shared rate budgets cannot be used; nothing was sent.

    `.url` is the store's URL with any password masked.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"Rate budgets at {url} cannot be used: {reason}")


# --- state kept between runs -----------------------------------------------------------------


class StateError(ConnectorError):
    """A file the connector keeps between runs cannot be used; nothing was sent.

    The local key is untrustworthy (a link, another owner, readable by others), another run
    holds the output or import checkpoint this run would write, or a sync's state is altered,
    too large or another sync's. `.path` names the file (or store); str() says what to do.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


# --- API stage --------------------------------------------------------------------------------


class APIError(ConnectorError):
    """Mixpanel or the network answered badly. Messages and attributes carry no secrets."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request: Any = None,
        body: Any = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.status = status
        self.request = request
        self.body = body
        self.retry_after_s = retry_after_s
        self.attempts = 1
        super().__init__(message)

    def add_note_to_message(self, text: str) -> None:
        """Append `text` to the message (str() of the error), e.g. how often it was retried.

        `text` is a new sentence (". Not retried: ...") or a parenthesis (" (gave up after
        ...)"); either joins the message without doubling its final period.
        """
        base = str(self.args[0]) if self.args else ""
        self.args = (_join_note(base, text),) + tuple(self.args[1:])

    def _travelling(self, value: Any) -> Any:
        secrets = getattr(self.request, "secrets", None)
        masks = getattr(secrets, "data", None)
        if masks is None:
            return value
        if isinstance(value, tuple):
            return tuple(masks(list(value)))
        # The request pickles itself masked (HTTPRequest.__reduce__); the rest is masked here.
        return {k: v if k == "request" else masks(v) for k, v in value.items()}


def _join_note(message: str, note: str) -> str:
    """`message` followed by `note`, punctuated once.

    "a." + ". b" is "a. b"; "a." + " (b)" is "a (b)."; anything else is appended as it is.
    """
    if not message.endswith("."):
        return message + note
    if note.startswith(". "):
        return message + note[1:]
    if note.startswith(" ("):
        return message[:-1] + note + ("" if note.endswith(".") else ".")
    return message + note


class AuthError(APIError):
    """401/403: the credentials were refused or lack a permission."""


class ClientError(APIError):
    """Another 4xx, or a 200 whose body says Mixpanel rejected the data."""


class PayloadTooLargeError(ClientError):
    """413: the request exceeded one of Mixpanel's size limits."""


class RateLimitError(APIError):
    """429 from Mixpanel, or a client-side rate budget is used up."""

    retriable = True


class BudgetExceeded(RateLimitError):
    """A call does not fit its client-side rate budget within the allowed wait.

    A ``RateLimitError`` (so callers catch one class for the API's 429 and the client-side
    budget); ``retry_after_s`` equals ``wait_s`` and ``status`` is None (nothing was sent).

    Attributes:
        limit_name: Name of the exhausted ``RateLimit``.
        retry_at_s: Budget-clock time (same clock as the budget) when a call fits again, or
            None when unknown (waiting for a concurrency slot).
        wait_s: Seconds from now until a call fits, or None when unknown.
        key: The key (e.g. project id) whose budget is used up.
    """

    def __init__(
        self,
        limit_name: str,
        retry_at_s: float | None,
        wait_s: float | None,
        *,
        key: str = "",
        message: str | None = None,
    ) -> None:
        self.limit_name = limit_name
        self.retry_at_s = retry_at_s
        self.wait_s = wait_s
        self.key = key
        if message is None:
            when = "an unknown time" if wait_s is None else f"{wait_s:.1f} s"
            message = f"{limit_name} budget is used up; it frees up in {when}"
        super().__init__(message, retry_after_s=wait_s)


class ServerError(APIError):
    """5xx from Mixpanel."""

    retriable = True


class TransportError(APIError):
    """The request timed out or the connection failed.

    `.kind` is one of ERROR_CONNECT, ERROR_READ_TIMEOUT, ERROR_RESET above (or "other");
    `.sent` tells whether the request may have reached Mixpanel (False only when the
    connection was never established); `.timeout_s` is the timeout in force.
    """

    retriable = True

    def __init__(
        self,
        message: str,
        *,
        request: Any = None,
        kind: str = "other",
        sent: bool = True,
        timeout_s: float | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.kind = kind
        self.sent = sent
        self.timeout_s = timeout_s


class ResponseTooLarge(APIError):
    """An answer larger than its ceiling (the spec's `response.reads.max_answer_bytes`), fatal."""


# --- jobs waited for ---------------------------------------------------------------------------


class JobError(ConnectorError):
    """A job an action waited for did not finish well; `.job_id` resumes the wait, `.status`.

    `JobFailed`: the job reported a failed status. `JobTimeout`: the maximum wait passed and the
    job may still finish (run the action again with the job's id to wait on).
    """

    def __init__(self, message: str, *, job_id: str = "", status: str = "") -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status


class JobFailed(JobError):
    """The job reported one of the spec's failed statuses."""


class JobTimeout(JobError):
    """The job was still running when the maximum wait passed."""


class RedirectError(APIError):
    """A redirect was not followed: too many hops, or it would carry secrets to another host."""
