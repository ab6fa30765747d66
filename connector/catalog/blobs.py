"""A spec cache entry's operations, stored after its index and read back one at a time.

An entry holds a small index (the component, the connection, and for each operation a record of
its kind, key, and its blob's offset, size and SHA-256), then every operation's blob end to end,
each with the stamps of the files it was checked from (connector.catalog.stamps). The entry's
HMAC covers the index alone, and the index authenticates each blob by its SHA-256: a start reads
and checks only the index, and an operation's blob is read and checked when the operation is
first looked up (connector.catalog.lazy).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import pickle
from dataclasses import dataclass
from typing import Any

#: An operation stored after the index: kind, key, offset, size, SHA-256 (32 bytes).
Record = tuple[str, str, int, int, bytes]


_ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta", "timezone")}


class DataOnly(pickle.Unpickler):
    """Unpickles plain data only: no class may be loaded except the datetime types YAML makes."""

    def find_class(self, module: str, name: str) -> Any:
        """Only the datetime types; anything else is refused."""
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the spec cache")


@dataclass(frozen=True)
class Blobs:
    """Where an entry's blobs are: the entry file and the offset of its first blob."""

    path: str
    start: int

    def fetch(self, record: Record) -> tuple[Any, bytes]:
        """The record's blob, checked against its SHA-256: the stamps, and the operation's blob.

        A record, blob or entry that is missing, cut short or not the one the index
        authenticated raises ValueError, as any other refused cache entry does: the caller
        checks the specs again from their files.
        """
        _, _, at, size, digest = record
        if type(at) is not int or type(size) is not int or type(digest) is not bytes:
            raise ValueError("an operation record of the wrong shape")
        if at < 0 or size < 0:
            raise ValueError("an operation stored at a negative offset")
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.start + at)
                blob = handle.read(size)
        except OSError as exc:
            raise ValueError(f"the entry cannot be read: {exc}") from None
        found = hashlib.sha256(blob).digest()
        if len(blob) != size or not hmac.compare_digest(found, digest):
            raise ValueError("an operation that is not the one the entry's index names")
        stored = DataOnly(io.BytesIO(blob)).load()
        if not isinstance(stored, dict) or not isinstance(stored.get("blob"), bytes):
            raise ValueError("a stored operation of the wrong shape")
        return stored.get("files"), stored["blob"]


def is_record(stored: Any) -> bool:
    """Whether `stored` looks like the index's record of an operation stored after it.

    Only its outline: the parts' types are checked when the operation is first used.
    """
    return type(stored) is tuple and len(stored) == 5


def split(resolved: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """`resolved` with each packed operation moved out, with its stamps: the index, the blobs."""
    operations: list[Any] = []
    parts: list[bytes] = []
    at = 0
    for stored in resolved["operations"]:
        if not isinstance(stored.get("blob"), bytes):
            operations.append(stored)
            continue
        moved = {"files": stored.get("files"), "blob": stored["blob"]}
        blob = pickle.dumps(moved, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(blob).digest()
        operations.append((stored["kind"], stored["key"], at, len(blob), digest))
        parts.append(blob)
        at += len(blob)
    return {**resolved, "operations": operations}, b"".join(parts)


def well_shaped(data: Any) -> bool:
    """The outline of what check_layers returns; anything else is treated as no entry."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("component"), dict)
        and isinstance(data.get("connection"), dict)
        and isinstance(data.get("operations"), list)
        and all(type(op) is dict or is_record(op) for op in data["operations"])
    )
