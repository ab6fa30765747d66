"""What every engine adapter shares: the connection form, location defaults, secrets and exports."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ..catalog import load_specs
from ..component import Component
from ..manifest import manifest
from ..redact import basic_header

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


def with_defaults(
    component: Component, key: str, inputs: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """`inputs` plus each default the action `key` declares and the caller left out."""
    declared = {spec.key for spec in component.spec.operation(key).inputs}
    merged = {k: v for k, v in defaults.items() if k in declared and v is not None}
    merged.update(inputs)
    return merged


def secret_values(component: Component, connection: Mapping[str, Any]) -> list[str]:
    """Connection secrets and the Basic headers derived from them, for an engine's log masker."""
    spec = component.spec.connection
    secrets = [str(connection[f.key]) for f in spec.inputs if f.is_secret and connection.get(f.key)]
    for scheme in spec.auth_schemes.values():
        if scheme.type != "basic" or not scheme.username or not connection.get(scheme.username):
            continue
        password = str(connection.get(scheme.password, "") or "") if scheme.password else ""
        if scheme.password and not password:
            continue
        header = basic_header(str(connection[scheme.username]), password)
        secrets += [header, header.split()[1]]
    return secrets


def records(
    component: Component, key: str, inputs: Mapping[str, Any], connection: Mapping[str, Any]
) -> Iterable[Any]:
    """The action's records, streamed when the component can stream them."""
    stream = getattr(component, "iter", None)
    if stream is not None:
        streamed: Iterable[Any] = stream(key, inputs, connection)
        return streamed
    data = component.run(key, inputs, connection)["data"]
    return data if isinstance(data, list) else [data]


def write_jsonl(rows: Iterable[Any], target: IO[bytes]) -> int:
    """Write one JSON document per line; return how many."""
    count = 0
    for row in rows:
        target.write(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        target.write(b"\n")
        count += 1
    return count


@contextlib.contextmanager
def open_target(path: Any) -> Iterator[IO[bytes]]:
    """Open an export target for writing; a failed export leaves nothing behind.

    A local path is written beside its place and renamed there only when complete; an object
    with `open()` and `unlink()` (Airflow's ObjectStoragePath) or a `scheme://` URL (through
    fsspec) is removed again when the export fails.
    """
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else ""
    if hasattr(path, "open") and not isinstance(path, Path):
        try:
            with path.open("wb") as handle:
                yield handle
        except BaseException:
            with contextlib.suppress(Exception):
                path.unlink(missing_ok=True)
            raise
        return
    if "://" in text and not text.startswith("file://"):
        import fsspec  # comes with both engines

        target = fsspec.open(text, "wb")
        try:
            with target as handle:
                yield handle
        except BaseException:
            with contextlib.suppress(Exception):
                target.fs.rm(target.path)
            raise
        return
    local = Path(text.removeprefix("file://"))
    local.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{local.name}.", suffix=".partial", dir=local.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(partial, local)
    except BaseException:
        os.unlink(partial)
        raise


def export_to(
    component: Component,
    key: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    path: Any,
) -> int:
    """Stream the action's records to `path` as JSON lines; return the count."""
    with open_target(path) as target:
        return write_jsonl(records(component, key, inputs, connection), target)
