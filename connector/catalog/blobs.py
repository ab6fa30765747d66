"""A spec cache entry's operations, stored after its index and read back one at a time.

An entry holds a small index (the component, the connection, and for each operation its kind,
key, and its blob's offset, size and SHA-256), then every operation's pickled blob end to end.
The entry's HMAC covers the index alone, and the index authenticates each blob by its SHA-256:
a start reads and checks only the index, and an operation's blob is read and checked when the
operation is first looked up (connector.catalog.lazy), so neither grows with the number of specs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any


class BlobError(ValueError):
    """A stored operation that is missing, cut short or not the one its index authenticated."""


@dataclass(frozen=True)
class Blobs:
    """Where an entry's blobs are: the entry file and the offset of its first blob."""

    path: str
    start: int

    def fetch(self, at: int, size: int, sha256: str) -> bytes:
        """The blob at `at` (from the first blob), `size` bytes long, if its SHA-256 matches."""
        if at < 0 or size < 0:
            raise BlobError("an operation stored at a negative offset")
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.start + at)
                blob = handle.read(size)
        except OSError as exc:
            raise BlobError(f"the entry cannot be read: {exc}") from None
        found = hashlib.sha256(blob).hexdigest()
        if len(blob) != size or not hmac.compare_digest(found, str(sha256)):
            raise BlobError("an operation that is not the one the entry's index names")
        return blob


def split(resolved: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """`resolved` with each packed operation's blob moved out: the index, and the blobs."""
    operations: list[dict[str, Any]] = []
    parts: list[bytes] = []
    at = 0
    for stored in resolved["operations"]:
        blob = stored.get("blob")
        if not isinstance(blob, bytes):
            operations.append(stored)
            continue
        digest = hashlib.sha256(blob).hexdigest()
        place = {"at": at, "size": len(blob), "sha256": digest}
        operations.append({"kind": stored["kind"], "key": stored["key"], **place})
        parts.append(blob)
        at += len(blob)
    return {**resolved, "operations": operations}, b"".join(parts)
