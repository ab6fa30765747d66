"""JSON Schema checks: a compiled validator on the happy path, jsonschema for the messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


class SchemaCheck:
    """Validates values against one JSON Schema (2020-12); `errors` explains a refusal.

    The compiled validator (jsonschema-rs) answers first; whenever it refuses a value,
    jsonschema decides and words the message, so the fast path can only ever accept what is
    valid under both. `format` is asserted, not only noted: `format: date` refuses 2026-02-30.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._checker: Any = None
        try:
            self.fast: Any = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
            every = {"type": "array", "items": schema}
            self.fast_all: Any = jsonschema_rs.Draft202012Validator(every, validate_formats=True)
        except (ValueError, jsonschema_rs.ValidationError):  # a construct it cannot compile
            self.fast = self.fast_all = None

    def is_valid(self, value: Any) -> bool:
        """True when `value` satisfies the schema."""
        if self.fast is not None:
            try:
                if self.fast.is_valid(value):
                    return True
            except (ValueError, TypeError, OverflowError):
                pass  # a value it cannot read (e.g. a non-JSON type): jsonschema decides
        return not any(True for _ in self.errors(value))

    def all_valid(self, values: list[Any]) -> bool:
        """True when the compiled check accepts all `values` at once (False: ask one by one)."""
        if self.fast_all is None:
            return False
        try:
            return bool(self.fast_all.is_valid(values))
        except (ValueError, TypeError, OverflowError):
            return False

    def errors(self, value: Any) -> Iterator[ValidationError]:
        """The errors jsonschema finds in `value` (none when it is valid)."""
        return self._slow().iter_errors(value)  # type: ignore[no-any-return]

    def _slow(self) -> Any:
        """Jsonschema's validator, built at the first refusal: a valid call never imports it."""
        if self._checker is None:
            from jsonschema import Draft202012Validator

            formats = Draft202012Validator.FORMAT_CHECKER  # calendar `date`, `date-time`, ...
            self._checker = Draft202012Validator(self.schema, format_checker=formats)
        return self._checker
