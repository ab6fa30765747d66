"""Reads an answer's body within a ceiling and a deadline, and says whether its end is proven.

`BodyReader.chunks` reads the socket one receive at a time (`read1`), so a deadline is checked
between receives and a server dripping a byte at a time fails at it; it decompresses gzip
itself, a bounded piece at a time, so a small bomb stops at the ceiling; and it knows when the
answer provably ended: the Content-Length reached, the terminating chunk read (the HTTP client
raises on a chunked answer cut before it), or a gzip stream's end with its CRC and length
checked. An answer framed by closing the connection proves nothing.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["DEFAULT_READS", "BodyFailures", "BodyReader", "ReadLimits"]

#: Decompressed bytes handed on at a time.
PIECE_BYTES = 256 * 1024

#: The defaults of `response.reads` (specs/component.yaml declares the component's own).
DEFAULT_READS: dict[str, float] = {
    "max_answer_bytes": 64 << 20,
    "max_error_bytes": 1 << 20,
    "max_line_bytes": 16 << 20,
    "max_depth": 100,
    "deadline_s": 600.0,
}


@dataclass(frozen=True)
class ReadLimits:
    """The ceilings and the deadline of one request's answer (`response.reads` of its spec)."""

    max_answer_bytes: int
    max_error_bytes: int
    max_line_bytes: int
    max_depth: int
    deadline_s: float

    @classmethod
    def of(cls, response_spec: dict[str, Any]) -> ReadLimits:
        """The limits an operation's `response` section declares, defaults filled in."""
        reads = {**DEFAULT_READS, **(response_spec.get("reads") or {})}
        return cls(
            max_answer_bytes=int(reads["max_answer_bytes"]),
            max_error_bytes=int(reads["max_error_bytes"]),
            max_line_bytes=int(reads["max_line_bytes"]),
            max_depth=int(reads["max_depth"]),
            deadline_s=float(reads["deadline_s"]),
        )


class BodyFailures(Protocol):
    """The errors a reader raises, made by whoever knows the request (send.answer.Answer)."""

    def too_large(self, limit: int) -> Exception:
        """The decoded body passed `limit` bytes."""

    def deadline_passed(self) -> Exception:
        """The answer was not whole when its deadline passed."""

    def corrupt(self, reason: str) -> Exception:
        """The body's compressed data is damaged (a bad CRC or length, a broken stream)."""


class _Gunzip:
    """gzip members one after another, each checked at its end (CRC and length) by zlib."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(wbits=31)
        self.fed = False

    def feed(self, data: bytes, failures: BodyFailures) -> Iterator[bytes]:
        self.fed = self.fed or bool(data)
        try:
            while True:
                if self._z.eof and data:  # the next member
                    self._z = zlib.decompressobj(wbits=31)
                out = self._z.decompress(data, PIECE_BYTES)
                data = self._z.unused_data if self._z.eof else self._z.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < PIECE_BYTES:
                    return
        except zlib.error as exc:
            raise failures.corrupt(f"its gzip data is damaged ({exc})") from None

    @property
    def ended(self) -> bool:
        """The last member ended with a valid CRC and length (or no byte came at all)."""
        return self._z.eof or not self.fed


class BodyReader:
    """One answer's body, read within `limit` decoded bytes and before `deadline` (monotonic).

    Raises (from `chunks`): what `failures` makes of a body too large, a deadline passed or
    damaged data, and the network library's own errors for a broken connection.
    """

    def __init__(
        self,
        raw: Any,
        headers: dict[str, str],
        *,
        limit: int | None,
        deadline: float,
        failures: BodyFailures,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._raw = raw
        encoding = headers.get("content-encoding", "").strip().lower()
        self._gunzip = _Gunzip() if encoding in ("gzip", "x-gzip") else None
        self._other = encoding not in ("", "identity", "gzip", "x-gzip")
        self.limit = limit
        self.deadline = deadline
        self._failures = failures
        self._clock = clock
        self.size = 0
        self.finished = False

    def chunks(self) -> Iterator[bytes]:
        """The decoded body, piece by piece; `finished` is True once the connection ended."""
        raw = self._raw
        while True:
            if self._clock() > self.deadline:
                raise self._failures.deadline_passed()
            # the raw bytes (requests opens answers undecoded), or an encoding other than gzip
            # decoded by urllib3 (framing still proves the end)
            data = (
                raw.read1(PIECE_BYTES, decode_content=True)
                if self._other
                else raw.read1(PIECE_BYTES)
            )
            if not data:
                break
            pieces = (
                self._gunzip.feed(data, self._failures) if self._gunzip is not None else (data,)
            )
            for piece in pieces:
                if self.limit is not None and self.size + len(piece) > self.limit:
                    room = self.limit - self.size
                    if room > 0:  # what fits first: an error answer's body is cut there
                        self.size += room
                        yield piece[:room]
                    raise self._failures.too_large(self.limit)
                self.size += len(piece)
                yield piece
        self.finished = True

    @property
    def proven(self) -> bool:
        """The answer's framing proves it whole (call once `chunks` is exhausted)."""
        if not self.finished:
            return False
        if self._gunzip is not None and self._gunzip.fed:
            return self._gunzip.ended
        raw = self._raw
        return bool(getattr(raw, "chunked", False)) or getattr(raw, "length_remaining", 1) == 0

    @property
    def gzip_cut(self) -> bool:
        """A gzip body ended before its last member's end (no CRC and length trailer)."""
        return self.finished and self._gunzip is not None and not self._gunzip.ended
