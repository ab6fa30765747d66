"""The settings a component's calls share (Settings, also as attributes), one call's overrides."""

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

__all__ = ["CallOptions", "Settings", "SettingsAttributes"]


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


class SettingsAttributes:
    """A component's Settings as attributes (some settable); the component sets `settings`."""

    settings: Settings

    @property
    def spec(self) -> ComponentSpec:
        """The loaded specs."""
        return self.settings.spec

    @property
    def base_url(self) -> str | None:
        """Where requests to a trusted host go instead, if anywhere."""
        return self.settings.base_url

    @property
    def transport(self) -> Transport:
        """What sends the requests (replace it to record or refuse them)."""
        return self.settings.transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self.settings.transport = transport

    @property
    def retry(self) -> RetryPolicy:
        """The default retry policy, with the spec's guidance applied."""
        return self.settings.retry

    @property
    def rate_wait_s(self) -> float:
        """How long a call may wait for the hourly client-side rate budget; settable."""
        return self.settings.rate_wait_s

    @rate_wait_s.setter
    def rate_wait_s(self, seconds: float) -> None:
        self.settings.rate_wait_s = seconds

    @property
    def rate_registry(self) -> Registry:
        """The rate budgets the calls draw from."""
        return self.settings.registry

    @property
    def clock(self) -> Clock:
        """Time as the retries see it."""
        return self.settings.clock

    @property
    def rng(self) -> random.Random:
        """The random source of backoff jitter."""
        return self.settings.rng

    @property
    def embedded(self) -> Any:
        """The embedded plugin server every request goes to, or None."""
        return self.settings.embedded

    @property
    def wait_advice(self) -> str:
        """How this caller changes a budget's wait or store, said when a wait bites.

        Settable: the command line names its flags.
        """
        return self.settings.wait_advice

    @wait_advice.setter
    def wait_advice(self, advice: str) -> None:
        self.settings.wait_advice = advice

    @property
    def progress(self) -> Progress:
        """Where the calls report their figures (see connector.core.progress); settable."""
        return self.settings.progress

    @progress.setter
    def progress(self, progress: Progress) -> None:
        self.settings.progress = progress

    @property
    def workers(self) -> int | None:
        """Requests a batched action keeps in flight (None: the spec's)."""
        return self.settings.workers
