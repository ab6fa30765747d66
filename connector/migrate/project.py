"""Copy a whole project: its events (copy.py), then every user profile, set on the target."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..cli.dryrun import sampled
from .copy import CopyPlan, Side, copy_events, import_counts, peeked, side_inputs
from .specs import Layout, load_layout

__all__ = ["copy_profiles", "copy_project"]


def _updates(profiles: Iterator[Any], layout: Layout) -> Iterator[dict[str, Any]]:
    """Each exported profile as an update that sets its properties on the target."""
    names, shape = layout.copy["profiles"], layout.profiles
    for profile in profiles:
        if not isinstance(profile, Mapping) or profile.get(names["id"]) in (None, ""):
            continue
        properties = profile.get(names["properties"]) or {}
        yield {shape["id"]: str(profile[names["id"]]), shape["set"]: dict(properties)}


def copy_profiles(
    source: Side, target: Side, plan: CopyPlan, *, dry_run: bool = False
) -> dict[str, Any]:
    """Copy every user profile of `source` to `target` (setting each one's properties).

    Setting a property twice leaves the same profile, so a rerun after a kill sends them all
    again rather than keeping a state. With `dry_run`, a sample of the requests is returned.
    """
    layout = load_layout(plan.overlays)
    names = layout.copy["profiles"]
    inputs = {**side_inputs(source, names["export"]), **(names.get("export_inputs") or {})}
    stream = source.component.iter(names["export"], inputs, source.connection)
    try:
        updates = peeked(_updates(iter(stream), layout))
        if updates is None:
            return {"source": {"profiles_exported": 0}, "target": {"profiles_sent": 0}}
        counted = _Counted(updates)
        sent = {**side_inputs(target, names["import"]), names["records"]: counted}
        if dry_run:
            shown, note = sampled(
                target.component.preview_requests(names["import"], sent, target.connection)
            )
            return {"requests": shown, "note": note}
        result = target.component.run(
            names["import"], sent, target.connection, workers=plan.workers
        )
    finally:
        stream.close()
    counts = import_counts(result)
    return {
        "source": {"profiles_exported": counted.count, "requests": stream.stats.requests},
        "target": {
            "profiles_sent": counts["records_sent"] or counted.count,
            "profiles_failed": counts["records_failed"],
            "requests": counts["requests"] or 1,
        },
    }


class _Counted(Iterator[Any]):
    """An iterator that counts what went through it."""

    def __init__(self, inner: Iterator[Any]) -> None:
        self.inner, self.count = inner, 0

    def __next__(self) -> Any:
        item = next(self.inner)
        self.count += 1
        return item


def copy_project(
    source: Side, target: Side, plan: CopyPlan, *, profiles: bool = False, dry_run: bool = False
) -> dict[str, Any]:
    """Copy the events of `plan` (and every user profile, with `profiles`): both summaries."""
    summary = {"events": copy_events(source, target, plan, dry_run=dry_run)}
    if profiles:
        summary["profiles"] = copy_profiles(source, target, plan, dry_run=dry_run)
    return summary
