"""What the family steps of the tour share: their types, today's date, project inputs, summaries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..server import Sandbox

Inputs = Callable[[Sandbox], dict[str, Any]]
Summary = Callable[[Any], str]
FamilyStep = tuple[str, Inputs, Summary]


def today() -> str:
    """Today's date (UTC), ISO formatted."""
    return dt.datetime.now(dt.UTC).date().isoformat()


def project(**extra: Any) -> Inputs:
    """The sandbox's project id, with `extra`."""
    return lambda sb: {"project_id": sb.project_id, **extra}


def status(d: Any) -> str:
    """The answer's status (or the answer itself when it is not an object)."""
    return f"status {d.get('status', 'ok')}" if isinstance(d, dict) else f"answered {d!r}"


def count(what: str) -> Summary:
    """How many entries the answer holds, as `N what`."""
    return lambda d: f"{len(d)} {what}"
