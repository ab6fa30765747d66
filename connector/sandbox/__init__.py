"""A local stand-in for Mixpanel with state in SQLite and injectable faults (not the runtime)."""

from .server import Sandbox
from .store import Store

__all__ = ["Sandbox", "Store"]
