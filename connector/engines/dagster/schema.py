"""The JSON Schema of the component's YAML, generated from the manifest.

It is what `dg` shows and editors complete: each action's inputs with their label (as title),
notes, type, choices and whether they are required. It describes rather than enforces the
inputs: the models (models.py) check them when Dagster loads the file, with messages that name
the action and each input's label, which a JSON Schema validator's messages cannot.
"""

from __future__ import annotations

from typing import Any

from ..common import component_manifest, connection_inputs, location_input
from ..precheck import task_inputs
from .models import (
    DATE_FIELD,
    ENV_PATTERN,
    ISO_DAY,
    NAME_PATTERN,
    PARTITION_INPUTS,
    ActionModel,
    AttributesModel,
    CohortModel,
    ExportModel,
    SyncModel,
    env_field,
)

# How the runtime reads each input type from a form (it coerces "7" to 7, "true" to True).
JSON_TYPES: dict[str, list[str]] = {
    "string": ["string", "integer", "number"],
    "password": ["string"],
    "integer": ["integer", "string"],
    "boolean": ["boolean", "string"],
    "list": ["array", "string"],
}


def _sentence(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if not text or text.endswith(".") else f"{text}."


def input_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """One input as JSON Schema: label as title, notes, type, choices, default, required."""
    choices = [choice["value"] for choice in spec.get("choices") or []]
    facts = [f"Type: {spec['type']}.", "Required." if spec["required"] else "Optional."]
    if choices:
        shown = ", ".join(f"{c['value']} ({c['label']})" for c in spec["choices"])
        facts.append(f"One of: {shown}.")
    schema: dict[str, Any] = {
        "title": spec["label"],
        "description": " ".join(filter(None, [_sentence(spec.get("notes")), *facts])),
        "x-mixpanel-type": spec["type"],
        "x-required": bool(spec["required"]),
    }
    if spec["type"] in JSON_TYPES:
        schema["type"] = JSON_TYPES[spec["type"]]
    if choices:
        schema["examples"] = choices
    elif spec.get("example") not in (None, "") and not spec.get("secret"):
        schema["examples"] = [spec["example"]]
    if spec.get("default") is not None:
        schema["default"] = spec["default"]
    return schema


def inputs_schema(op: dict[str, Any], supplied: tuple[str, ...] = ()) -> dict[str, Any]:
    """An action's inputs by key. Unknown and missing inputs are reported by `dg check defs`."""
    known = {k: s for k, s in task_inputs(op).items() if k not in supplied}
    return {
        "type": "object",
        "title": f"{op['label']} inputs",
        "description": _sentence(op.get("description")),
        "properties": {key: input_schema(spec) for key, spec in known.items()},
        "x-required": [k for k, s in known.items() if s["required"] and s.get("default") is None],
    }


def _by_action(ref_prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "if": {"properties": {"action": {"const": op["key"]}}, "required": ["action"]},
            "then": {"properties": {"inputs": {"$ref": f"#/$defs/{ref_prefix}{op['key']}"}}},
        }
        for op in component_manifest()["actions"]
    ]


def _action_field(default: str | None = None) -> dict[str, Any]:
    ops = component_manifest()["actions"]
    field: dict[str, Any] = {
        "type": "string",
        "title": "Action",
        "description": "The action's key: "
        + ", ".join(f"{op['key']} ({op['label']})" for op in ops)
        + ".",
        "examples": [op["key"] for op in ops],
    }
    if default:
        field["default"] = default
    return field


def _named(title: str) -> dict[str, Any]:
    return {"type": "string", "pattern": NAME_PATTERN, "title": title}


def connection_schema() -> dict[str, Any]:
    """The connection: an environment variable name per field, the Region, a base URL."""
    properties: dict[str, Any] = {}
    for spec in connection_inputs():
        properties[env_field(spec["key"])] = {
            "type": "string",
            "pattern": ENV_PATTERN,
            "title": f"{spec['label']} environment variable",
            "description": f"The environment variable that holds the {spec['label']} "
            f"(read with Dagster's EnvVar when a run starts). {_sentence(spec.get('notes'))}",
            "default": spec.get("env"),
        }
    region = location_input()
    properties["region"] = {
        **input_schema(region),
        "description": _sentence(region.get("notes")) + " Sets every action's location inputs.",
    }
    properties["base_url"] = {
        "type": "string",
        "title": "Base URL",
        "description": "Leave empty for Mixpanel; a proxy or test server URL redirects every call.",
    }
    return {"type": "object", "title": "Connection", "properties": properties}


def attributes_schema() -> dict[str, Any]:
    """The whole `attributes:` section of a `defs.yaml`, generated from the manifest."""
    ops = component_manifest()["actions"]
    defs: dict[str, Any] = {f"action_{op['key']}": inputs_schema(op) for op in ops}
    defs.update({f"export_{op['key']}": inputs_schema(op, PARTITION_INPUTS) for op in ops})
    export = {
        "type": "object",
        "title": "Export",
        "description": ExportModel.__doc__,
        "required": ["name", "path", "start_date"],
        "additionalProperties": False,
        "properties": {
            "name": _named("Asset name"),
            "path": {
                "type": "string",
                "title": "Path",
                "description": f"A local path or object-store URL (s3://, gs://, any fsspec "
                f"scheme installed) with {DATE_FIELD} for the partition's day; gzip for `.gz`.",
            },
            "start_date": {"type": "string", "pattern": ISO_DAY, "title": "First day"},
            "end_date": {"type": "string", "pattern": ISO_DAY, "title": "Last day (optional)"},
            "action": _action_field("downloadData"),
            "inputs": {"type": "object", "title": "Inputs"},
            "description": {"type": "string"},
        },
        "allOf": _by_action("export_"),
    }
    action = {
        "type": "object",
        "title": "Action",
        "description": ActionModel.__doc__,
        "required": ["name", "action"],
        "additionalProperties": False,
        "properties": {
            "name": _named("Asset or job name"),
            "action": _action_field(),
            "inputs": {"type": "object", "title": "Inputs"},
            "kind": {"enum": ["asset", "job"], "default": "asset", "title": "Asset or job"},
            "description": {"type": "string"},
        },
        "allOf": _by_action("action_"),
    }
    sync = {
        "type": "object",
        "title": "Scheduled sync",
        "description": SyncModel.__doc__,
        "required": ["name", "path", "start_date"],
        "additionalProperties": False,
        "properties": {
            "name": _named("Asset name"),
            "path": {
                "type": "string",
                "title": "Path",
                "description": f"A local file per run, with {DATE_FIELD} for the run's day: "
                "the events that run delivered (late ones for earlier days included).",
            },
            "start_date": {"type": "string", "pattern": ISO_DAY, "title": "First day"},
            "action": _action_field("downloadData"),
            "inputs": {"type": "object", "title": "Inputs"},
            "lookback_days": {"type": "integer", "minimum": 0, "default": 5},
            "state": {
                "type": ["string", "null"],
                "title": "State",
                "description": "Where the sync remembers what it delivered (sqlite:///PATH, "
                "redis://HOST:PORT/DB, a file); by default a SQLite file in the Dagster "
                "instance's storage.",
            },
            "schedule_hour": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 23,
                "default": 1,
                "description": "The hour (UTC) a daily schedule runs the day before's partition "
                "(null: no schedule).",
            },
            "description": {"type": "string"},
        },
    }
    cohort = {
        "type": "object",
        "title": "Cohort changes",
        "description": CohortModel.__doc__,
        "required": ["name", "cohort_id"],
        "additionalProperties": False,
        "properties": {
            "name": _named("Sensor name"),
            "cohort_id": {"type": "integer", "title": "Cohort ID"},
            "inputs": {"type": "object", "title": "Inputs"},
            "action": {"type": "string", "default": "queryProfiles"},
            "minimum_interval_seconds": {"type": "integer", "minimum": 30, "default": 3600},
            "description": {"type": "string"},
        },
    }
    return {
        "type": "object",
        "title": component_manifest()["name"],
        "description": AttributesModel.__doc__,
        "additionalProperties": False,
        "properties": {
            "connection": connection_schema(),
            "resource_key": {**_named("Resource key"), "default": "mixpanel"},
            "key_prefix": {"type": "array", "items": {"type": "string"}, "default": ["mixpanel"]},
            "group_name": {**_named("Asset group"), "default": "mixpanel"},
            "exports": {"type": "array", "items": export},
            "actions": {"type": "array", "items": action},
            "syncs": {"type": "array", "items": sync},
            "cohorts": {"type": "array", "items": cohort},
        },
        "$defs": defs,
    }
