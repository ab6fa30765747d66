"""Where rate budgets live: ``memory``, ``sqlite:///PATH`` (one host) or ``redis://`` (all hosts).

``open_budgets(url)`` returns the registry for a URL, the same one for every component in the
process that names it. ``sqlite:///`` follows SQLAlchemy's spelling: ``sqlite:///budgets.db``
is relative to the working directory, ``sqlite:////var/lib/budgets.db`` is absolute.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from ..errors import BudgetStoreError
from .memory import DEFAULT_REGISTRY, Registry
from .shared import SharedRegistry, Store
from .storeurl import mask_url

__all__ = ["MEMORY", "default_url", "mask_url", "open_budgets", "resolve_budgets"]

#: The in-process budgets (each process on its own); for tests and one-off scripts.
MEMORY = "memory"
_SQLITE = "sqlite:///"
_REDIS_SCHEMES = ("redis", "rediss")

_lock = threading.Lock()
_open: dict[str, SharedRegistry] = {}


def default_url(app: str) -> str:
    """The default: a SQLite file in the user state directory of ``app``, shared on this host."""
    return _SQLITE + str(Path(platformdirs.user_state_dir(app)) / "budgets.sqlite3")


def _opener(url: str, masked: str) -> Callable[[], Store]:
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:  # e.g. an IPv6 host without its closing bracket
        raise BudgetStoreError(masked, f"the URL cannot be read ({exc})") from None
    # The store modules (and their locking and client libraries, ~200 ms to import) load on
    # first use, so a process whose actions draw from no budget never pays for them.
    if scheme == "sqlite" and url.startswith(_SQLITE) and len(url) > len(_SQLITE):
        path = Path(url[len(_SQLITE) :]).expanduser()

        def sqlite() -> Store:
            from .sqlite_store import SQLiteStore

            return SQLiteStore(path, masked)

        return sqlite
    if scheme in _REDIS_SCHEMES:

        def redis() -> Store:
            from .redis_store import RedisStore

            return RedisStore(url, masked)

        return redis
    raise BudgetStoreError(
        masked, f"expected {MEMORY}, {_SQLITE}PATH or redis://HOST:PORT/DB (rediss:// for TLS)"
    )


def open_budgets(url: str) -> Registry:
    """The registry of the budgets kept at ``url``; the store itself opens on first use.

    Raises:
        BudgetStoreError: If the URL names no known kind of store.
    """
    url = url.strip()
    if url == MEMORY:
        return DEFAULT_REGISTRY
    with _lock:
        registry = _open.get(url)
        if registry is None:
            masked = mask_url(url)
            registry = _open[url] = SharedRegistry(masked, _opener(url, masked))
        return registry


def resolve_budgets(url: str | None, env: str, app: str) -> Registry:
    """The budgets named by ``url``, else by the environment variable ``env``, else the default.

    Args:
        url: An explicit choice (``load_component(budgets=...)``, the CLI's ``--budgets``).
        env: The environment variable the component's spec declares for the choice ("" if none).
        app: The application name whose user state directory holds the default SQLite file.
    """
    chosen = url or (os.environ.get(env, "") if env else "") or default_url(app)
    return open_budgets(chosen)
