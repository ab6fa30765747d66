"""One answer being read: its body within the ceilings and deadline, failures made errors."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

import requests
import urllib3.exceptions

from ..errors import ERROR_READ_TIMEOUT, ERROR_RESET, ResponseTooLarge, TransportError
from ..prepare.request import HTTPRequest
from .body import BodyCorrupt, BodyReader, DeadlinePassed, ReadLimits, TooLarge
from .failures import as_requests_error, endpoint, transport_error

__all__ = ["Answer", "read_whole"]


@dataclass
class Answer:
    """One answer being read: what its errors name (action, URL, limits, timeouts)."""

    request: HTTPRequest
    response: requests.Response
    headers: dict[str, str]
    limits: ReadLimits
    deadline: float
    default_timeout: float
    timeout: float | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.response.status_code < 300

    def reader(self, limit: int | None) -> BodyReader:
        """A reader of the body within `limit` decoded bytes and the answer's deadline."""
        raw = self.response.raw
        if raw is None:  # a response a custom requests adapter built with its body in memory
            raw = io.BytesIO(self.response.content or b"")
        return BodyReader(raw, self.headers, limit=limit, deadline=self.deadline)

    @contextlib.contextmanager
    def mapped(self) -> Iterator[None]:
        """Turn a failed read into the connector's error (TransportError, ResponseTooLarge)."""
        request = self.request
        timeout = self.timeout or request.timeout_s or self.default_timeout
        try:
            yield
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise transport_error(
                as_requests_error(exc), request, self.response.url, timeout, self.default_timeout
            ) from None
        except DeadlinePassed:
            self.response.close()
            message = (
                f"{request.action}: the answer from {endpoint(self.response.url)} was not whole "
                f"within the deadline of {self.limits.deadline_s:g} s per request "
                "(response.reads.deadline_s)"
            )
            raise TransportError(
                message, request=request, kind=ERROR_READ_TIMEOUT, sent=True, timeout_s=timeout
            ) from None
        except BodyCorrupt as exc:
            self.response.close()
            message = f"{request.action}: the answer from {endpoint(self.response.url)}: {exc}"
            raise TransportError(message, request=request, kind=ERROR_RESET, sent=True) from None
        except TooLarge as exc:
            self.response.close()
            raise ResponseTooLarge(
                f"{request.action}: the answer from {endpoint(self.response.url)} is larger "
                f"than {_size(exc.limit)} once decompressed (response.reads.max_answer_bytes); "
                "refused",
                status=self.response.status_code,
                request=request,
            ) from None

    def cut(self, reader: BodyReader) -> TransportError:
        """The error of an answer whose end nothing proves: a cut, asked again."""
        self.response.close()
        why = (
            "its gzip stream stopped before its end (no CRC and length trailer)"
            if reader.gzip_cut
            else "the connection closed with no Content-Length, terminating chunk or gzip end "
            "to prove the answer whole"
        )
        return TransportError(
            f"{self.request.action}: the answer from {endpoint(self.response.url)} was cut: {why}",
            request=self.request,
            kind=ERROR_RESET,
            sent=True,
        )


def read_whole(answer: Answer, *, proof: bool) -> bytes:
    """The whole body within its ceiling; an error answer's body is cut at `max_error_bytes`."""
    limits = answer.limits
    ok = answer.ok
    reader = answer.reader(limits.max_answer_bytes if ok else limits.max_error_bytes)
    pieces: list[bytes] = []
    with answer.mapped():
        try:
            for piece in reader.chunks():
                pieces.append(piece)
        except TooLarge:
            if ok:
                raise
            answer.response.close()
            return b"".join(pieces)
    if ok and (reader.gzip_cut or (proof and not reader.proven)):
        raise answer.cut(reader)
    return b"".join(pieces)


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 and not limit % (1 << 20) else f"{limit} bytes"
