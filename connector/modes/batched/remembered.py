"""A concurrency limit kept between runs: a note in the budget store, per origin and key.

A batched action whose spec declares `batch.concurrency.key` (a template: whose limit it is,
such as the project id) keeps where its limit ended in the budget store the runtime already
has (`memory`, a SQLite file on one host, Redis across hosts), under a digest of the request's
origin and that key (the credential's digest when the key renders empty). The next run with
the same origin and key starts from that level instead of climbing or halving its way there,
which is most of the time of a job of a few batches. The note also records a digest of the
credential the server last accepted: a run with that same credential need not send its first
batch alone to find out whether the credentials work, and sends its next batches at once.

The store holds digests only (SHA-256; no origin, key or credential in clear). They are plain
digests, not keyed by a host's local key, so that every host sharing a Redis store finds the
same note. A store that cannot be reached costs the memory, never the run: a warning is logged
and the run starts as if nothing was kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from ...budgets.limits import Registry
from .aimd import Learned

__all__ = ["Recalled", "RememberedLimit", "note_name"]

log = logging.getLogger("connector.batch")

_PURPOSE = "connector concurrency limit"
#: Characters of a digest kept: 128 bits.
_DIGEST = 32


def _digest(*parts: str) -> str:
    data = "\0".join((_PURPOSE, *parts)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:_DIGEST]


def note_name(origin: str, key: str, credential: str) -> str:
    """The note's name for `origin` and `key` (`credential` when `key` is empty)."""
    whose = _digest(origin, "key", key) if key else _digest(origin, "credential", credential)
    return f"concurrency {whose}"


@dataclass(frozen=True)
class Recalled:
    """What an earlier run kept: where its limit ended, and whether this credential worked."""

    learned: Learned
    accepted: bool


class RememberedLimit:
    """The note of one origin and key in a registry: `recall` at the start, `keep` at the end."""

    def __init__(self, registry: Registry, origin: str, key: str, credential: str) -> None:
        self._registry = registry
        self.name = note_name(origin, key, credential)
        self._credential = _digest(origin, "accepted", credential)

    @property
    def whose(self) -> str:
        """The note's name with the credential's digest: runs that may share one live limit."""
        return f"{self.name} {self._credential}"

    def recall(self) -> Recalled | None:
        """What the last run kept (None: nothing, or nothing readable, or no store)."""
        try:
            text = self._registry.note(self.name)
        except Exception as exc:  # noqa: BLE001 - a hint, never a reason to fail the run
            log.warning("the concurrency limit kept by earlier runs could not be read: %s", exc)
            return None
        return parse(text, self._credential)

    def keep(self, learned: Learned, accepted: bool | None) -> None:
        """Keep where the limit ended, and whether the server accepted the credential.

        `accepted`: True (it worked), False (refused) or None (not tried: what was kept
        about it stays).
        """
        earlier = None
        if accepted is None:
            with_note = self.recall()
            earlier = self._credential if with_note and with_note.accepted else None
        value: dict[str, Any] = {
            "limit": learned.limit,
            "patience": learned.patience,
            "waited": learned.waited,
        }
        if learned.throttled_at is not None:
            value["throttled_at"] = learned.throttled_at
        credential = self._credential if accepted else earlier
        if credential:
            value["accepted"] = credential
        try:
            self._registry.keep_note(self.name, json.dumps(value, separators=(",", ":")))
        except Exception as exc:  # noqa: BLE001 - a hint, never a reason to fail the run
            log.warning("the concurrency limit could not be kept for the next run: %s", exc)


def parse(text: str | None, credential: str) -> Recalled | None:
    """A note's value as `Recalled`; None when absent or not one of ours."""
    if not text:
        return None
    try:
        value = json.loads(text)
        limit = value["limit"]
        throttled_at = value.get("throttled_at")
        patience = value.get("patience", 1)
        waited = value.get("waited", 0)
    except (ValueError, TypeError, KeyError):
        return None
    numbers = [limit, patience] + ([] if throttled_at is None else [throttled_at])
    if not all(type(n) is int and 1 <= n <= 1_000_000 for n in numbers):
        return None
    if type(waited) is not int or not 0 <= waited <= 1_000_000:
        return None
    learned = Learned(limit, throttled_at, patience, waited)
    return Recalled(learned, value.get("accepted") == credential)
