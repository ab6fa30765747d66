"""Copy a project's events (and profiles) into another: export and import chained, streaming.

Each window the source's export completes is imported into the target as it arrives, from
the window's spooled lines, so memory stays flat; the next window's import starts once the
last one's records were all handed over (overlap.py), sharing its concurrency limit. Each
side is its own Component: its own host or region, credentials, rate budgets, waits and
progress. A rerun after a kill resumes: finished windows are skipped (copystate.py), and in
the windows being copied the batches the target acknowledged. Every event keeps its
`$insert_id`, and one without gets the import's deterministic content id, so a batch sent
twice is deduplicated by the target.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cli.dryrun import sampled
from ..component import Component
from ..core.digest import inputs_digest
from ..modes.record_stream import Windows
from ..modes.window_buffer import WindowBuffer
from ..modes.windows import Window
from .ahead import one_ahead
from .copystate import CopyState, content_digest, default_state_path
from .overlap import Job, Overlap, Running
from .specs import Layout, load_layout
from .transforms import Transforms

__all__ = [
    "CopyPlan",
    "Side",
    "copy_events",
    "copy_identity",
    "import_counts",
    "peeked",
    "side_inputs",
]

APP = "mixpanel-connector"


@dataclass
class Side:
    """One project of a copy: its component (host, budgets, progress), connection, inputs.

    `inputs` are the actions' inputs that name the project (project id, region), given to
    the export on the source side and to the import on the target side.
    """

    component: Component
    connection: Mapping[str, Any]
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CopyPlan:
    """What to copy: a date range, event names, transforms, and how (workers, state file)."""

    from_date: str
    to_date: str
    events: Sequence[str] = ()
    transforms: Mapping[str, Any] = field(default_factory=dict)
    workers: int | None = None
    state: Path | None = None
    overlays: Sequence[Path | str] | None = None


def _transforms(plan: CopyPlan, layout: Layout) -> Transforms:
    declared = dict(layout.copy["events"].get("transforms") or {})
    given = dict(plan.transforms)
    for key in ("drop",):  # the layout's drops join the caller's
        if declared.get(key) or given.get(key):
            given[key] = [*declared.get(key, []), *given.get(key, [])]
    return Transforms.checked({**declared, **given}, layout.events)


def copy_identity(source: Side, target: Side, plan: CopyPlan, stream_identity: str) -> str:
    """A digest of everything that decides what a copy sends: a changed one starts over."""
    parts = {
        "source": stream_identity,
        "source_host": source.component.base_url or "",
        "target": inputs_digest("copy-target", dict(target.inputs)),
        "target_host": target.component.base_url or "",
        "transforms": dict(plan.transforms),
        "workers": plan.workers,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def side_inputs(side: Side, action: str) -> dict[str, Any]:
    """The side's inputs that `action` declares (a region input differs between actions)."""
    declared = {spec.key for spec in side.component.spec.actions[action].inputs}
    return {key: value for key, value in side.inputs.items() if key in declared}


def _export_inputs(side: Side, plan: CopyPlan, names: Mapping[str, Any]) -> dict[str, Any]:
    inputs = {
        **side_inputs(side, names["export"]),
        names["from_date"]: plan.from_date,
        names["to_date"]: plan.to_date,
    }
    if plan.events:
        inputs[names["names"]] = list(plan.events)
    return inputs


def peeked(records: Iterator[Any]) -> Iterator[Any] | None:
    """`records` unchanged, or None when it holds none."""
    first = next(records, None)
    return None if first is None else itertools.chain([first], records)


def copy_events(
    source: Side, target: Side, plan: CopyPlan, *, dry_run: bool = False
) -> dict[str, Any]:
    """Copy the events of `plan`'s range from `source` to `target`; return both sides' counts.

    With `dry_run`, the first window with events is read from the source and the first
    requests the target would get are returned (`sample`), secrets masked; nothing is sent
    to the target.
    """
    layout = load_layout(plan.overlays)
    names = layout.copy["events"]
    transforms = _transforms(plan, layout)
    stream = source.component.iter(
        names["export"], _export_inputs(source, plan, names), source.connection
    )
    identity = copy_identity(source, target, plan, stream.identity)
    state = CopyState(plan.state or default_state_path(APP, identity), identity)
    if dry_run:
        return _sample(stream, transforms, target, names)
    kept = state.load()
    stream.skip(kept)
    running = Running(target.component.progress)
    started = time.monotonic()
    imports, finishing = Overlap(), threading.Lock()

    def job(window: Window | None, buffer: WindowBuffer, digest: str) -> Job:
        label = window.label() if window else "all"

        def copy_window(watch: Callable[[Iterator[Any]], Iterator[Any]]) -> None:
            try:
                counts = {"exported": buffer.count}
                records = peeked(transforms.apply_all(buffer.records(), owned=True))
                if records is not None:
                    inputs = {
                        **side_inputs(target, names["import"]),
                        names["records"]: watch(records),
                    }
                    result = target.component.run(
                        names["import"],
                        inputs,
                        target.connection,
                        workers=plan.workers,
                        checkpoint=state.batches(window, digest),
                        progress=running.window(label),
                    )
                    counts.update(import_counts(result))
                with finishing:  # only once its own import returned, in whatever order
                    running.window_done(label)
                    state.finished(window, counts)
            finally:
                buffer.close()

        return copy_window

    try:
        for window, buffer, digest in one_ahead(_digested(stream.windows())):
            label = window.label() if window else "all"
            imports.start(label, job(window, buffer, digest), buffer.close)
        imports.finish()
    except BaseException:
        imports.close()
        raise
    finally:
        with contextlib.suppress(ValueError):  # the thread reading ahead may still be in it
            stream.close()
    figures = dict(state.counts)
    state.remove()
    return _summary(figures, stream.stats, transforms, time.monotonic() - started, kept)


def _digested(windows: Windows) -> Iterator[tuple[Window | None, WindowBuffer, str]]:
    """Each window with the digest of its lines, taken on the thread reading ahead."""
    for window, buffer in windows:
        try:
            digest = content_digest(buffer.file)  # before reading: it rewinds the file
        except BaseException:
            buffer.close()
            raise
        yield window, buffer, digest


def import_counts(result: Mapping[str, Any]) -> dict[str, int]:
    """The counts of an import's result: records sent, imported, failed, skipped; requests."""
    data = result.get("data")
    data = data if isinstance(data, Mapping) else {}
    wanted = ("records_sent", "records_imported", "records_failed", "records_skipped", "requests")
    return {key: int(data.get(key) or 0) for key in wanted}


def _summary(
    counts: Mapping[str, int], stats: Any, transforms: Transforms, seconds: float, kept: list[Any]
) -> dict[str, Any]:
    return {
        "source": {
            "events_exported": counts.get("exported", 0),
            "windows": stats.windows + len(kept),
            "windows_resumed": len(kept),
            "requests": stats.requests,
            "cuts": stats.cuts,
        },
        "target": {
            "events_sent": counts.get("records_sent", 0),
            "events_imported": counts.get("records_imported", 0),
            "events_failed": counts.get("records_failed", 0),
            "events_skipped_as_already_sent": counts.get("records_skipped", 0),
            "requests": counts.get("requests", 0),
        },
        "events_filtered": transforms.counts["filtered"],
        "seconds": round(seconds, 3),
    }


def _sample(
    stream: Any, transforms: Transforms, target: Side, names: Mapping[str, str]
) -> dict[str, Any]:
    """The requests the target would get for the first window with events: a sample."""
    try:
        for window, buffer in stream.windows():
            try:
                records = peeked(transforms.apply_all(buffer.records(), owned=True))
                if records is None:
                    continue
                inputs = {**side_inputs(target, names["import"]), names["records"]: records}
                requests = target.component.preview_requests(
                    names["import"], inputs, target.connection
                )
                shown, note = sampled(requests)
                note = note.split(" (--dry-run-all", 1)[0]  # an option `run` has, not `copy`
                return {
                    "window": window.label() if window else "all",
                    "events_in_window": buffer.count,
                    "requests": shown,
                    "note": note,
                }
            finally:
                buffer.close()
    finally:
        stream.close()
    return {"window": None, "events_in_window": 0, "requests": [], "note": "no events to copy"}
