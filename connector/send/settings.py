"""What every call of one component shares (Settings) and what one call overrides (CallOptions)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..budgets.limits import Registry
from ..budgets.notice import PYTHON_ADVICE
from ..catalog.spec import ComponentSpec
from ..core.progress import NoProgress, Progress
from .attempts import SHORT_WAIT_S, Clock
from .retry import RetryPolicy
from .transport import Transport

__all__ = ["CallOptions", "Settings"]


@dataclass
class Settings:
    """What every call of one component shares: where requests go, how they retry and wait.

    Attributes:
        spec: The loaded component.
        base_url: Where requests to a trusted host go instead (None: where the spec says).
        transport: Sends the requests.
        retry: The default retry policy, with the spec's guidance applied.
        rate_wait_s: How long a call may wait for a client-side rate budget.
        registry: The rate budgets.
        clock: Monotonic time, wall time and sleep.
        rng: Random source for backoff jitter.
        embedded: A plugin's in-process server that supplies the connection, or None.
        workers: Requests a batched action keeps in flight (None: the spec's).
        short_wait_s: How long a call waits for a per-second window or a concurrency slot.
        progress: Where the modes report their figures (records, requests, waits).
        wait_advice: How the caller changes a budget's wait or store, for its notices.
        secret_ops: The connection secrets each operation's templates put into the request
            itself (by operation key, filled as operations are first rendered).
    """

    spec: ComponentSpec
    base_url: str | None
    transport: Transport
    retry: RetryPolicy
    rate_wait_s: float
    registry: Registry
    clock: Clock
    rng: random.Random
    embedded: Any = None
    workers: int | None = None
    secret_ops: dict[str, tuple[str, ...]] = field(default_factory=dict)
    short_wait_s: float = SHORT_WAIT_S
    progress: Progress = field(default_factory=NoProgress)
    wait_advice: str = PYTHON_ADVICE

    def show_wait(self, notice: str) -> None:
        """A budget wait starts (its notice) or ends (""): show it with the progress."""
        self.progress.update({"waiting": notice})


@dataclass(frozen=True)
class CallOptions:
    """One call's own settings; None keeps the component's."""

    retry: RetryPolicy | None = None
    rate_wait_s: float | None = None
    workers: int | None = None
