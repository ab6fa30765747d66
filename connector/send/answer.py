"""One answer being read: its body within the ceilings and deadline, failures made errors."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

import requests
import urllib3.exceptions

from ..errors import ERROR_RESET, ResponseTooLarge, TransportError
from ..prepare.request import HTTPRequest
from .body import BodyReader, ReadLimits
from .failures import as_requests_error, deadline_error, endpoint, transport_error

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
        return BodyReader(raw, self.headers, limit=limit, deadline=self.deadline, failures=self)

    @contextlib.contextmanager
    def mapped(self) -> Iterator[None]:
        """Turn a broken connection met while reading into a TransportError."""
        try:
            yield
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise transport_error(
                as_requests_error(exc),
                self.request,
                self.response.url,
                self._timeout,
                self.default_timeout,
            ) from None

    @property
    def _timeout(self) -> float:
        return self.timeout or self.request.timeout_s or self.default_timeout

    def deadline_passed(self) -> TransportError:
        """The answer was not whole at its deadline: a timeout (retried as one)."""
        self.response.close()
        return deadline_error(
            self.request, self.response.url, self.limits.deadline_s, self._timeout
        )

    def corrupt(self, reason: str) -> TransportError:
        """The body's compressed data is damaged: a cut (asked again)."""
        self.response.close()
        message = f"{self.request.action}: the answer from {endpoint(self.response.url)}: {reason}"
        return TransportError(message, request=self.request, kind=ERROR_RESET, sent=True)

    def too_large(self, limit: int) -> ResponseTooLarge:
        """The body passed its ceiling: refused, not retried."""
        self.response.close()
        return ResponseTooLarge(
            f"{self.request.action}: the answer from {endpoint(self.response.url)} is larger "
            f"than {_size(limit)} once decompressed (response.reads.max_answer_bytes); refused",
            status=self.response.status_code,
            request=self.request,
        )

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
        except ResponseTooLarge:
            if ok:
                raise
            return b"".join(pieces)  # an error answer's body, cut at its ceiling
    if ok and (reader.gzip_cut or (proof and not reader.proven)):
        raise answer.cut(reader)
    return b"".join(pieces)


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 and not limit % (1 << 20) else f"{limit} bytes"
