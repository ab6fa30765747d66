"""Checked, resolved plain data (what check_layers returns, or the cache holds) -> ComponentSpec."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ..budgets.limits import RateLimit
from .spec import AuthSchemeSpec, ComponentSpec, ConnectionSpec, InputSpec, OperationSpec

__all__ = ["build_component", "build_operation"]


def build_operation(entry: dict[str, Any], reads: dict[str, Any]) -> OperationSpec:
    """One operation from its checked, resolved entry; `reads` are the component's."""
    data = entry["data"]
    response = dict(data.get("response") or {})
    if reads or response.get("reads"):
        response["reads"] = {**reads, **(response.get("reads") or {})}
    return OperationSpec(
        key=data["key"],
        kind=entry["kind"],
        label=data["label"],
        description=data["description"],
        inputs=tuple(InputSpec.from_dict(i) for i in entry["inputs"]),
        request=data["request"],
        sample=data["sample"],
        notes=data.get("notes", ""),
        type=data.get("type", ""),
        rules=tuple(data.get("rules") or ()),
        response=response,
        retry=data.get("retry") or {},
        picklist=data.get("picklist") or {},
        output_schema=data.get("output_schema") or {},
        openapi=data.get("openapi") or {},
        earlier_sample=data.get("earlier_sample"),
        file=entry["file"],
        source=entry["source"],
        lifecycle=data.get("lifecycle") or {},
        stream=data.get("stream") or {},
        paging=data.get("paging") or {},
        wait=data.get("wait") or {},
        limits=tuple(data.get("limits") or ()),
        sync=data.get("sync") or {},
        batch=data.get("batch") or {},
        trust_widened=tuple(entry.get("widened") or ()),
    )


def build_component(
    resolved: dict[str, Any],
    *,
    operations: tuple[MutableMapping[str, OperationSpec], MutableMapping[str, OperationSpec]]
    | None = None,
) -> ComponentSpec:
    """Build the component from checked, resolved plain data (what check_layers returns).

    `operations` (actions, data sources), when given, are used instead of resolved's.
    """
    component, connection = resolved["component"], resolved["connection"]
    if operations is None:
        built: dict[str, dict[str, OperationSpec]] = {"action": {}, "data_source": {}}
        reads = component.get("reads") or {}
        for entry in resolved["operations"]:
            built[entry["kind"]][entry["data"]["key"]] = build_operation(entry, reads)
        actions, data_sources = (dict(sorted(built[kind].items())) for kind in built)
        operations = (actions, data_sources)
    schemes = {
        name: AuthSchemeSpec(
            name=name,
            type=s["type"],
            username=s.get("username"),
            password=s.get("password"),
            token=s.get("token"),
            description=s.get("description", ""),
            lifecycle=s.get("lifecycle") or {},
        )
        for name, s in connection["auth_schemes"].items()
    }
    return ComponentSpec(
        key=component["key"],
        name=component["name"],
        description=component["description"],
        overview=component.get("overview", ""),
        documentation_url=component.get("documentation_url", ""),
        trusted_hosts=tuple(component.get("trusted_hosts") or ()),
        rate_limits={
            name: RateLimit(
                name,
                per_hour=limit.get("per_hour"),
                per_second=limit.get("per_second"),
                per_minute=limit.get("per_minute"),
                max_concurrent=limit.get("max_concurrent"),
                label=limit.get("label", ""),
                unit=limit.get("unit", "calls"),
                scope=limit.get("scope", ""),
                basis=f"{component['name']}'s documented limits",
            )
            for name, limit in (component.get("rate_limits") or {}).items()
        },
        connection=ConnectionSpec(
            key=connection["key"],
            label=connection["label"],
            description=connection.get("description", ""),
            setup=connection.get("setup", ""),
            inputs=tuple(InputSpec.from_dict(i) for i in connection["inputs"]),
            auth_schemes=schemes,
            lifecycle=tuple(connection.get("lifecycle") or ()),
        ),
        actions=operations[0],
        data_sources=operations[1],
        environment=dict(component.get("environment") or {}),
        retry=component.get("retry") or {},
        waits={k: float(v) for k, v in (component.get("waits") or {}).items()},
        compatibility=component.get("compatibility") or {},
    )
