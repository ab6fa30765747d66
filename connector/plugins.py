"""Optional plugins (extra commands, an embedded server) found through package entry points."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from .errors import InputError, InputProblem

GROUP = "mixpanel_connector.plugins"


def plugin_names() -> list[str]:
    """Names of the installed plugins, read from package metadata without importing them."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def plugin_summary(name: str) -> str:
    """The one-line description a plugin declares (`SUMMARY`), importing it; "" if none."""
    summary = getattr(load_plugin(name), "SUMMARY", "")
    return " ".join(summary.split()) if isinstance(summary, str) else ""


def load_plugin(name: str) -> Any:
    """Import the plugin registered under `name` (only now, when it is needed)."""
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            return ep.load()
    known = ", ".join(plugin_names()) or "none"
    raise InputError(
        name,
        [InputProblem(name, "plugin", f"no plugin {name!r} is installed (installed: {known})")],
    )
