"""Errors of the remote side: bad answers, transport failures, refused redirects, failed jobs."""

from __future__ import annotations

from typing import Any

from .base import ConnectorError

__all__ = [
    "APIError",
    "AuthError",
    "BudgetExceeded",
    "ClientError",
    "ERROR_CONNECT",
    "ERROR_READ_TIMEOUT",
    "ERROR_RESET",
    "JobError",
    "JobFailed",
    "JobTimeout",
    "PayloadTooLargeError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLarge",
    "ServerError",
    "TransportError",
]

#: TransportError kinds. The connection could not be established; the request was never sent.
ERROR_CONNECT = "connect"
#: The request was sent but no (complete) response arrived in time.
ERROR_READ_TIMEOUT = "read_timeout"
#: The connection was reset or closed after the request was (possibly) sent.
ERROR_RESET = "reset"

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
        # The concurrency limit the request went through lowered itself for this throttling
        # answer: the retry waits for a slot under it instead of a backoff (send.retry.decide).
        self.paced = False
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


class RedirectError(APIError):
    """A redirect was not followed: too many hops, or it would carry secrets to another host."""


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
