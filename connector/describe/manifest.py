"""The component as plain data: what `manifest` and `describe` print and the docs are made from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..catalog.spec import ComponentSpec, InputSpec, OperationSpec

MANIFEST_SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "manifest.schema.json"


def describe_input(spec: InputSpec) -> dict[str, Any]:
    """One input as plain data."""
    data: dict[str, Any] = {
        "key": spec.key,
        "label": spec.label,
        "type": spec.type,
        "required": spec.required,
        "default": spec.default,
        "notes": spec.notes,
        "example": spec.example,
    }
    if spec.choices:
        data["choices"] = [
            {"value": v, "label": label}
            for v, label in zip(spec.choices, spec.choice_labels, strict=True)
        ]
    data["secret"] = spec.is_secret
    if spec.deprecated:
        data["deprecated"] = spec.deprecated
    if spec.group:
        data["group"] = spec.group
    if spec.data_source:
        data["data_source"] = spec.data_source
    if spec.env:
        data["env"] = spec.env
    return data


#: The inline HTML of notes taken from vendor documentation (emphasis, code), not placeholders
#: such as <nil> or <project ID> that notes quote.
_INLINE_HTML = re.compile(r"</?(?:strong|b|em|i|code)>")


def plain_text(value: Any) -> Any:
    """`value` with inline HTML emphasis left out of every string, for a terminal."""
    if isinstance(value, str):
        return _INLINE_HTML.sub("", value)
    if isinstance(value, list):
        return [plain_text(item) for item in value]
    if isinstance(value, dict):
        return {key: plain_text(item) for key, item in value.items()}
    return value


def describe_operation(op: OperationSpec) -> dict[str, Any]:
    """One action or data source as plain data."""
    data: dict[str, Any] = {
        "key": op.key,
        "label": op.label,
        "description": op.description,
        "source": op.source,
        "file": op.file,
    }
    if op.type:
        data["type"] = op.type
    if op.notes:
        data["notes"] = op.notes
    if op.lifecycle:
        data["lifecycle"] = op.lifecycle
    if op.openapi:
        data["openapi"] = op.openapi
    if op.trust_widened:
        data["trust_widened"] = list(op.trust_widened)
    data["inputs"] = [describe_input(i) for i in op.inputs]
    if op.wait:
        data["waits"] = {
            "status_action": op.wait["status"],
            "enabled": op.wait["enabled"],
            **({"resume_input": op.wait["resume"]} if op.wait.get("resume") else {}),
        }
    data["sample_output"] = op.sample
    if op.earlier_sample is not None:
        data["earlier_sample_output"] = op.earlier_sample
    return data


def manifest(spec: ComponentSpec) -> dict[str, Any]:
    """The whole component: connection, data sources and actions."""
    return {
        "key": spec.key,
        "name": spec.name,
        "description": spec.description,
        "overview": spec.overview,
        "documentation_url": spec.documentation_url,
        "connection": {
            "key": spec.connection.key,
            "label": spec.connection.label,
            "description": spec.connection.description,
            "inputs": [describe_input(i) for i in spec.connection.inputs],
            "auth_schemes": {
                name: {
                    "type": s.type,
                    "description": s.description,
                    **({"lifecycle": s.lifecycle} if s.lifecycle else {}),
                }
                for name, s in spec.connection.auth_schemes.items()
            },
            "lifecycle": list(spec.connection.lifecycle),
        },
        "data_sources": [describe_operation(op) for op in spec.data_sources.values()],
        "actions": [describe_operation(op) for op in spec.actions.values()],
    }
