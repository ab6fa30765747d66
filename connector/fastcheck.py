"""JSON Schema checks: a compiled validator on the happy path, jsonschema for the messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

# Keywords both validators read the same way; a schema using any other keyword is checked by
# jsonschema alone, so the fast path can never accept what jsonschema would refuse.
_SAFE_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "enum",
        "const",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "minProperties",
        "maxProperties",
        "uniqueItems",
        # annotations only
        "title",
        "description",
        "examples",
        "default",
        "contentEncoding",
    }
)
_SCHEMA_VALUED = frozenset({"items", "additionalProperties", "not"})
_SCHEMA_LISTS = frozenset({"oneOf", "anyOf", "allOf"})


def _compilable(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not set(schema) <= _SAFE_KEYWORDS:
        return False
    children: list[Any] = list((schema.get("properties") or {}).values())
    children += [schema[k] for k in _SCHEMA_VALUED if k in schema]
    for key in _SCHEMA_LISTS & set(schema):
        children += list(schema[key])
    return all(_compilable(child) for child in children)


class SchemaCheck:
    """Validates values against one JSON Schema; `errors` explains a refusal."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._slow = Draft202012Validator(schema)
        self._fast: Callable[[Any], Any] | None = None
        if _compilable(schema):
            self._fast = fastjsonschema.compile(
                {**schema, "$schema": "http://json-schema.org/draft-07/schema#"},
                use_formats=False,
            )

    def is_valid(self, value: Any) -> bool:
        """True when `value` satisfies the schema (the compiled check when it can decide)."""
        if self._fast is not None:
            try:
                self._fast(value)
                return True
            except fastjsonschema.JsonSchemaException:
                pass  # jsonschema has the last word (and the message)
        return not any(True for _ in self._slow.iter_errors(value))

    def errors(self, value: Any) -> Iterator[ValidationError]:
        """Jsonschema's errors for `value` (none when it is valid)."""
        return self._slow.iter_errors(value)
