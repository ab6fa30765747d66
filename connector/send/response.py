"""What came back from one request: the raw response the transport hands to the parser."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RawResponse"]


@dataclass(frozen=True)
class RawResponse:
    """What came back: status, headers (lower-cased names) and the body bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    retry_after_s: float | None = None
