"""What every engine adapter shares: the connection form, location defaults, secrets and exports."""

from __future__ import annotations

import contextlib
import functools
import gzip
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..catalog.load import load_specs
from ..component import Component
from ..core.progress import LogProgress
from ..core.redact import basic_header
from ..describe.manifest import manifest
from ..errors import ConnectorError
from ..files.output import OUTPUT_GZIP_LEVEL as GZIP_LEVEL
from ..files.output import write_jsonl, write_stream
from ..modes.batched.secret_values import secret_field_values
from ..prepare.coerce import as_json

# Action inputs that say where the project's data lives. A connection (or credentials block)
# carries one Region; each of these inputs gets the choice at the same position in its own list.
LOCATION_INPUTS = ("region", "regionAndDomain", "dataAndDomain")
REGION_INPUT = LOCATION_INPUTS[0]
# An engine task waits this long for a client-side rate budget before failing with a
# RateLimitError that says when the budget frees up (the component's own default is 0).
RATE_WAIT_S = 60.0


@functools.lru_cache(maxsize=1)
def component_manifest() -> dict[str, Any]:
    """The shipped component as plain data (labels, inputs, choices): the adapters' only source."""
    return manifest(load_specs())


def connection_inputs() -> list[dict[str, Any]]:
    """The connection's fields, as the manifest describes them."""
    fields: list[dict[str, Any]] = component_manifest()["connection"]["inputs"]
    return fields


def location_input(key: str = REGION_INPUT) -> dict[str, Any]:
    """The manifest's description of a location input (label, notes, choices, default)."""
    for op in component_manifest()["actions"] + component_manifest()["data_sources"]:
        for spec in op["inputs"]:
            if spec["key"] == key:
                found: dict[str, Any] = spec
                return found
    raise KeyError(f"no action declares the location input {key!r}")


def region_choices() -> list[str]:
    """The values a connection's Region may take (the Region input's choices)."""
    return [choice["value"] for choice in location_input()["choices"]]


def location_values(region: str | None) -> dict[str, str]:
    """Every location input's value for one Region (none when Region is unset)."""
    if not region:
        return {}
    choices = region_choices()
    if region not in choices:
        label = location_input()["label"]
        raise ValueError(f"{label} (`{REGION_INPUT}`) must be one of {choices}, not {region!r}")
    position = choices.index(region)
    values = {}
    for key in LOCATION_INPUTS:
        options = [choice["value"] for choice in location_input(key)["choices"]]
        values[key] = options[position]
    return values


def with_progress(component: Component) -> Component:
    """`component`, reporting its long calls' figures as a log line every ten seconds.

    Engines run off a terminal: the lines go to the `connector.progress` log (INFO), which the
    engine's task log shows.
    """
    component.progress = LogProgress("mixpanel-connector")
    return component


def with_defaults(
    component: Component, key: str, inputs: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """`inputs` plus each default the action `key` declares and the caller left out."""
    declared = {spec.key for spec in component.spec.operation(key).inputs}
    merged = {k: v for k, v in defaults.items() if k in declared and v is not None}
    merged.update(inputs)
    return merged


def input_secrets(component: Component, action: str, inputs: Mapping[str, Any]) -> list[str]:
    """Secrets inside an action's inline records (a project token in SDK-format events).

    The values at the action's `batch.secret_fields`, for an engine's masker before the engine
    shows the task's inputs (Airflow's Rendered Template). Inputs that are not records, or not
    JSON, hold none the runtime would read.
    """
    op = component.spec.operation(action)
    key = op.batch.get("input")
    records = inputs.get(key) if key else None
    if isinstance(records, str):
        try:
            records = as_json(records)
        except (ConnectorError, ValueError):
            return []
    return sorted(secret_field_values(op, records))


def secret_values(component: Component, connection: Mapping[str, Any]) -> list[str]:
    """Connection secrets and the headers derived from them, for an engine's log masker."""
    spec = component.spec.connection
    secrets = [str(connection[f.key]) for f in spec.inputs if f.is_secret and connection.get(f.key)]
    for scheme in spec.auth_schemes.values():
        if scheme.type == "bearer" and connection.get(scheme.token or ""):
            secrets.append(f"Bearer {str(connection[scheme.token or '']).strip()}")
        if scheme.type != "basic" or not scheme.username or not connection.get(scheme.username):
            continue
        password = str(connection.get(scheme.password, "") or "") if scheme.password else ""
        if scheme.password and not password:
            continue
        header = basic_header(str(connection[scheme.username]), password)
        secrets += [header, header.split()[1]]
    return secrets


@contextlib.contextmanager
def _open_remote(path: Any) -> Iterator[Callable[[bytes], object]]:
    """Open an ObjectStoragePath or a `scheme://` URL; remove the object if the export fails."""
    if hasattr(path, "open") and hasattr(path, "unlink"):
        opened = path.open("wb")

        def remove() -> None:
            path.unlink(missing_ok=True)

    else:
        import fsspec  # comes with both engines

        opened = fsspec.open(str(path), "wb")

        def remove() -> None:
            opened.fs.rm(opened.path)

    try:
        with opened as handle:
            if str(path).endswith(".gz"):
                with gzip.GzipFile(mode="wb", fileobj=handle, compresslevel=GZIP_LEVEL) as packed:
                    yield packed.write
            else:
                yield handle.write
    except BaseException:
        with contextlib.suppress(Exception):
            remove()
        raise


def _local(path: Any) -> str | None:
    """The local file `path` names (a plain path or `file://`), or None for an object store."""
    text = str(path)
    if text.startswith("file://"):
        return text.removeprefix("file://")
    return None if "://" in text else text


def export_to(
    component: Component,
    key: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    path: Any,
) -> dict[str, Any]:
    """Stream the action's records to `path` as JSON lines (gzip for `.gz`).

    A local path is written as the CLI's `--output` writes it: under its name only when
    complete (`PATH.partial` before). An ObjectStoragePath or a `scheme://` URL (fsspec) is
    removed again when the export fails. Returns `{"path", "count", "days", "resumed_cuts"}`.
    """
    stream = component.iter(key, inputs, connection)
    local = _local(path)
    if local is not None:
        Path(local).parent.mkdir(parents=True, exist_ok=True)
        count = write_stream(stream, local)["events"]
    else:
        with _open_remote(path) as write:
            count, _ = write_jsonl(stream, write)
    return {
        "path": str(path),
        "count": count,
        "days": stream.stats.days,
        "resumed_cuts": stream.stats.cuts,
    }
