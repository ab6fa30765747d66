"""Concurrency limits shared by the runs of one process that send under the same note.

Two batched runs going at once in one process (a copy importing the next window while the
last answers of the previous one come back) send to the same origin for the same key, and
the server counts their requests together. Runs whose limit is kept under the same note
(connector.modes.batched.remembered) and credential therefore share one live
`AdaptiveLimit` (a `FleetLimit` when the store is shared): together they never have more
requests in flight than its level, and a 429 one of them meets slows both. The first run
creates it and recalls the kept level; a run that joins takes the level as it stands, and
need not send its first batch alone when a batch of another run with the same credential
was already answered. Each run keeps the level when it ends, so the last to end keeps it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .aimd import AdaptiveLimit

__all__ = ["Live", "live_count", "shared"]


@dataclass
class Live:
    """One shared limit: the runs using it, and whether one of their batches was answered."""

    limit: AdaptiveLimit
    joined: bool = False  # this run found the limit already live (no recall applied to it)
    answered: threading.Event = field(default_factory=threading.Event)
    users: int = 0


_live: dict[str, Live] = {}
_lock = threading.Lock()


@contextmanager
def shared(name: str, make: Callable[[], AdaptiveLimit]) -> Iterator[Live]:
    """The live limit of `name` for one run, made by `make` when no other run holds it."""
    with _lock:
        entry = _live.get(name)
        if entry is None:
            entry = _live[name] = Live(make())
        entry.users += 1
        mine = Live(entry.limit, joined=entry.users > 1, answered=entry.answered)
    try:
        yield mine
    finally:
        with _lock:
            entry.users -= 1
            if not entry.users:
                del _live[name]


def live_count() -> int:
    """How many limits are live (for tests)."""
    with _lock:
        return len(_live)
