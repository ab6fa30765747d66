"""Which OpenAPI operations the actions map: counted from the vendored OpenAPI files themselves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connector.catalog.spec import OperationSpec

OPENAPI_DIR = Path(__file__).parent / "openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")

OperationRef = tuple[str, str]  # (file, operation_id)


def vendored_operations(folder: Path = OPENAPI_DIR) -> set[OperationRef]:
    """Every (file, operationId) of every *.openapi.yaml file in the folder."""
    found: set[OperationRef] = set()
    for path in sorted(folder.glob("*.openapi.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for path_item in document["paths"].values():
            for method in HTTP_METHODS:
                operation = path_item.get(method)
                if operation is not None:
                    found.add((path.name, operation["operationId"]))
    return found


@dataclass(frozen=True)
class OperationMapping:
    """One operation as one action maps it: as its own operation, a variant, or an option."""

    operation: OperationRef
    action: str
    how: str  # "action", "variant" or "option <input>=<value>"


def action_mappings(actions: Iterable[OperationSpec]) -> list[OperationMapping]:
    """What each action's `openapi:` declares."""
    found: list[OperationMapping] = []
    for op in actions:
        openapi: Mapping[str, Any] = op.openapi
        if not openapi:
            continue
        own = (openapi["file"], openapi["operation_id"])
        found.append(
            OperationMapping(own, op.key, "variant" if openapi.get("variant_of") else "action")
        )
        for option in openapi.get("options", ()):
            ref = (option.get("file", openapi["file"]), option["operation_id"])
            found.append(
                OperationMapping(ref, op.key, f"option {option['input']}={option['value']!r}")
            )
    return found


@dataclass(frozen=True)
class Coverage:
    """What the actions leave unmapped, map twice, or name without it existing."""

    unmapped: set[OperationRef]
    mapped_twice: dict[OperationRef, list[str]]
    unknown: list[OperationMapping]
    orphan_variants: list[str]
    options_without_input: list[str]


def coverage(operations: set[OperationRef], actions: Iterable[OperationSpec]) -> Coverage:
    """Count the mappings: every operation must be owned by exactly one action or option."""
    actions = list(actions)
    mappings = action_mappings(actions)
    owners: dict[OperationRef, list[str]] = {}
    for m in mappings:
        if m.how != "variant":
            owners.setdefault(m.operation, []).append(f"{m.action} ({m.how})")
    keys = {op.key: op for op in actions}
    orphans = []
    for op in actions:
        owner_key = op.openapi.get("variant_of")
        if owner_key is None:
            continue
        owner = keys.get(owner_key)
        if owner is None or owner.openapi.get("operation_id") != op.openapi["operation_id"]:
            orphans.append(op.key)
    return Coverage(
        unmapped=operations - set(owners),
        mapped_twice={ref: who for ref, who in owners.items() if len(who) > 1},
        unknown=[m for m in mappings if m.operation not in operations],
        orphan_variants=orphans,
        options_without_input=[
            f"{op.key}.{option['input']}"
            for op in actions
            for option in op.openapi.get("options", ())
            if option["input"] not in {i.key for i in op.inputs}
        ],
    )
