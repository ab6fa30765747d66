"""The component's YAML attributes: pydantic models check them, a JSON Schema documents them.

Both come from the manifest. The JSON Schema (what `dg` shows, what editors complete) gives each
action's inputs their label, notes, type, choices and whether they are required; the models check
a `defs.yaml` when Dagster loads it, so `dg check defs` names the action and each input's label.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..common import component_manifest, connection_inputs, location_input, location_values
from ..precheck import check_task, operation, task_inputs

DATE_FIELD = "{date}"  # where an export's path takes its partition's day
PARTITION_INPUTS = ("from_date", "to_date")  # what each day's partition sets
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"
# How the runtime reads each input type from a form (it coerces "7" to 7, "true" to True).
JSON_TYPES: dict[str, list[str]] = {
    "string": ["string", "integer", "number"],
    "password": ["string"],
    "integer": ["integer", "string"],
    "boolean": ["boolean", "string"],
    "list": ["array", "string"],
}


def env_field(key: str) -> str:
    """The attribute that names the environment variable holding connection field `key`."""
    return f"{key}_env"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectionModel(_Strict):
    """Environment variable names for the connection's fields; the values never enter YAML."""

    model_config = ConfigDict(extra="allow")
    region: str | None = None
    base_url: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ConnectionModel:
        known = {env_field(spec["key"]) for spec in connection_inputs()}
        for name, value in (self.model_extra or {}).items():
            if name not in known:
                fields = ", ".join(sorted([*known, "region", "base_url"]))
                raise ValueError(f"the connection has no field `{name}`; its fields: {fields}.")
            if not isinstance(value, str) or not re.match(ENV_PATTERN, value):
                raise ValueError(
                    f"`{name}` names an environment variable (such as MIXPANEL_PASSWORD), "
                    "not a value: secrets never go in YAML."
                )
        location_values(self.region)  # an unknown Region fails here, naming its choices
        return self

    def env_names(self) -> dict[str, str]:
        """Each connection field's environment variable: as set here, else the spec's."""
        extra = self.model_extra or {}
        return {
            spec["key"]: extra.get(env_field(spec["key"]), spec.get("env") or "")
            for spec in connection_inputs()
        }


class ExportModel(_Strict):
    """An export as an asset partitioned by day: one partition per day of the action."""

    name: str = Field(pattern=NAME_PATTERN)
    path: str
    start_date: str = Field(pattern=ISO_DAY)
    end_date: str | None = Field(default=None, pattern=ISO_DAY)
    action: str = "downloadData"
    inputs: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None

    @field_validator("path")
    @classmethod
    def _one_file_a_day(cls, path: str) -> str:
        if DATE_FIELD not in path:
            raise ValueError(f"path must contain {DATE_FIELD}, which each day's partition fills in")
        return path

    @model_validator(mode="after")
    def _check(self) -> ExportModel:
        given = [key for key in PARTITION_INPUTS if key in self.inputs]
        if given:
            op = operation(self.action)
            labels = ", ".join(f"{task_inputs(op)[k]['label']} (`{k}`)" for k in given)
            raise ValueError(f"{op['label']} (`{self.action}`): {labels} come from the partition")
        check_task(self.action, self.inputs, supplied=PARTITION_INPUTS)
        return self


class ActionModel(_Strict):
    """An action as an asset (its result is the asset's value) or as a job."""

    name: str = Field(pattern=NAME_PATTERN)
    action: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    kind: Literal["asset", "job"] = "asset"
    description: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ActionModel:
        check_task(self.action, self.inputs)
        return self


class AttributesModel(_Strict):
    """A Mixpanel project's exports and actions in one `defs.yaml`."""

    connection: ConnectionModel = Field(default_factory=ConnectionModel)
    resource_key: str = Field(default="mixpanel", pattern=NAME_PATTERN)
    key_prefix: list[str] = Field(default_factory=lambda: ["mixpanel"])
    group_name: str = Field(default="mixpanel", pattern=NAME_PATTERN)
    exports: list[ExportModel] = Field(default_factory=list)
    actions: list[ActionModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AttributesModel:
        names = [item.name for item in self.exports] + [item.name for item in self.actions]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each export and action needs a name of its own; repeated: {twice}")
        return self

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema generated from the manifest (not from these models' fields)."""
        return attributes_schema()


# --- the JSON Schema --------------------------------------------------------------------------


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
        },
        "$defs": defs,
    }
