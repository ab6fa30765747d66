"""Copy a whole project: its events (copy.py), then its user and group profiles, on the target."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..cli.dryrun import sampled
from ..errors import InputError, InputProblem
from .copy import CopyPlan, Side, copy_events, import_counts, peeked, side_inputs
from .specs import load_layout

__all__ = ["copy_groups", "copy_profiles", "copy_project"]

#: An exported profile's id and properties, as the update the target gets.
Update = Callable[[str, dict[str, Any]], dict[str, Any]]


def _updates(profiles: Iterator[Any], names: Mapping[str, Any], update: Update) -> Iterator[Any]:
    """Each exported profile as an update that sets its properties on the target."""
    for profile in profiles:
        if not isinstance(profile, Mapping) or profile.get(names["id"]) in (None, ""):
            continue
        properties = profile.get(names["properties"]) or {}
        yield update(str(profile[names["id"]]), dict(properties))


def _copy(
    source: Side,
    target: Side,
    plan: CopyPlan,
    names: Mapping[str, Any],
    update: Update,
    *,
    chosen: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Every profile `names["export"]` gives on `source`, as `update`s sent to `target`."""
    inputs = {
        **side_inputs(source, names["export"]),
        **(names.get("export_inputs") or {}),
        **(chosen or {}),
    }
    stream = source.component.iter(names["export"], inputs, source.connection)
    try:
        updates = peeked(_updates(iter(stream), names, update))
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


def copy_profiles(
    source: Side, target: Side, plan: CopyPlan, *, dry_run: bool = False
) -> dict[str, Any]:
    """Copy every user profile of `source` to `target` (setting each one's properties).

    Setting a property twice leaves the same profile, so a rerun after a kill sends them all
    again rather than keeping a state. With `dry_run`, a sample of the requests is returned.
    """
    layout = load_layout(plan.overlays)
    shape = layout.profiles

    def update(profile_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {shape["id"]: profile_id, shape["set"]: properties}

    return _copy(source, target, plan, layout.copy["profiles"], update, dry_run=dry_run)


def copy_groups(
    source: Side,
    target: Side,
    plan: CopyPlan,
    groups: Mapping[str, str],
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Copy the group profiles of each group key in `groups` to `target`: a summary per key.

    `groups` maps each group key (such as `company_id`) to the id the source project gives
    that key (its data group id). Each group profile's properties are set on the target's
    profile of the same key and group id; like user profiles, a rerun sends them all again.
    """
    layout = load_layout(plan.overlays)
    names, shape = layout.copy.get("groups"), layout.groups
    if not names or not names.get("group") or not shape:
        problem = InputProblem("groups", "groups", "cannot be copied: migrate.yaml declares none")
        raise InputError("copy", [problem])
    summary: dict[str, Any] = {}
    for key, group_id in groups.items():

        def update(profile_id: str, properties: dict[str, Any], key: str = key) -> dict[str, Any]:
            return {shape["key"]: key, shape["id"]: profile_id, shape["set"]: properties}

        chosen = {names["group"]: str(group_id)}
        summary[key] = _copy(source, target, plan, names, update, chosen=chosen, dry_run=dry_run)
    return summary


class _Counted(Iterator[Any]):
    """An iterator that counts what went through it."""

    def __init__(self, inner: Iterator[Any]) -> None:
        self.inner, self.count = inner, 0

    def __next__(self) -> Any:
        item = next(self.inner)
        self.count += 1
        return item


def copy_project(
    source: Side,
    target: Side,
    plan: CopyPlan,
    *,
    profiles: bool = False,
    groups: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Copy the events of `plan`, then the profiles asked for: each part's summary.

    `profiles` copies every user profile; `groups` the group profiles of each group key it
    names (a group key mapped to the source's data group id of that key, as in copy_groups).
    """
    summary = {"events": copy_events(source, target, plan, dry_run=dry_run)}
    if profiles:
        summary["profiles"] = copy_profiles(source, target, plan, dry_run=dry_run)
    if groups:
        summary["groups"] = copy_groups(source, target, plan, groups, dry_run=dry_run)
    return summary
