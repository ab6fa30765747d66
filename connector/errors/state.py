"""Errors of what the connector keeps between runs: the rate budgets' store, local state files."""

from __future__ import annotations

from .base import ConnectorError

__all__ = ["BudgetStoreError", "StateError"]


# --- budget store -----------------------------------------------------------------------------


class BudgetStoreError(ConnectorError):
    """The store that holds the shared rate budgets cannot be used; nothing was sent.

    `.url` is the store's URL with any password masked.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"Rate budgets at {url} cannot be used: {reason}")


# --- state kept between runs -----------------------------------------------------------------


class StateError(ConnectorError):
    """A file the connector keeps between runs cannot be used; nothing was sent.

    The local key is untrustworthy (a link, another owner, readable by others), another run
    holds the output or import checkpoint this run would write, or a sync's state is altered,
    too large or another sync's. `.path` names the file (or store); str() says what to do.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
