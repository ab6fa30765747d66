"""Coerces caller inputs as low-code forms send them, then validates them with JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from jsonschema.exceptions import ValidationError

from .errors import InputError, InputProblem
from .fastcheck import SchemaCheck
from .spec import InputSpec, OperationSpec
from .templates import evaluate
from .values import closest, is_empty, parse_bool, parse_int

_T = TypeVar("_T")


class _CoercionError(ValueError):
    """A value that cannot be read as the input's type."""


def _present(parse: Callable[[Any], _T | None], value: Any, expected: str) -> _T:
    """A shared parser's reading of a value that must be there; its ValueError is a coercion one."""
    try:
        parsed = parse(value)
    except ValueError as exc:
        raise _CoercionError(str(exc)) from None
    if parsed is None:
        raise _CoercionError(f"expected {expected}, got nothing")
    return parsed


def _as_integer(value: Any) -> int:
    return _present(parse_int, value, "a whole number such as 7")


def _as_number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise _CoercionError("expected a number, got a boolean")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            if number == number and number not in (float("inf"), float("-inf")):
                return int(number) if number.is_integer() and "." not in value else number
    raise _CoercionError(f"expected a number such as 2.5, got {_show(value)}")


def _as_boolean(value: Any) -> bool:
    return _present(parse_bool, value, "true or false")


def _as_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise _CoercionError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def _as_json_or_text(value: Any) -> Any:
    """JSON text is parsed; NDJSON and non-JSON text stay text; broken JSON is an error."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        if not value.lstrip().startswith(("{", "[")):
            return value
    for line in value.splitlines():
        if line.strip():
            _as_json(line)  # raises on the first line that is not JSON
    return value


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = _as_json(text)
        else:
            return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        items = list(value)
        if all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items):
            return [str(v).strip() for v in items if str(v).strip()]
    raise _CoercionError(f"expected a list of text values, got {_show(value)}")


def _as_key_values(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            value = _as_json(text)
        else:
            pairs: dict[str, str] = {}
            for line in text.splitlines():
                if not line.strip():
                    continue
                key, sep, item = line.partition(":")
                if not sep or not key.strip():
                    raise _CoercionError(f"expected 'Key: Value' lines, got {_show(line)}")
                pairs[key.strip()] = item.strip()
            return pairs
    if isinstance(value, Mapping):
        return {str(k): _scalar_text(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(v, Mapping) and "key" in v for v in value):
        return {str(v["key"]): _scalar_text(v.get("value", "")) for v in value}
    raise _CoercionError(f"expected a list of {{key, value}} pairs, got {_show(value)}")


def _scalar_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _CoercionError(f"expected text, got {_show(value)}")


_COERCERS = {
    "string": _as_string,
    "password": _as_string,
    "integer": _as_integer,
    "number": _as_number,
    "boolean": _as_boolean,
    "json": _as_json,
    "json_or_text": _as_json_or_text,
    "list": _as_list,
    "key_value_list": _as_key_values,
}

_JSON_TYPES = {
    "string": "string",
    "password": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "list": "array",
    "key_value_list": "object",
}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def input_schema(op: OperationSpec) -> dict[str, Any]:
    """The JSON Schema one action's coerced inputs must satisfy."""
    properties: dict[str, Any] = {}
    for spec in op.value_inputs:
        prop: dict[str, Any] = dict(spec.schema)
        if spec.type in _JSON_TYPES:
            prop.setdefault("type", _JSON_TYPES[spec.type])
        if spec.choices:
            prop["enum"] = list(spec.choices)
        prop["title"] = spec.label
        properties[spec.key] = prop
    required = [s.key for s in op.value_inputs if s.required]
    return {"type": "object", "properties": properties, "required": required}


def _validator(op: OperationSpec) -> SchemaCheck:
    cached = _VALIDATORS.get(id(op))
    if cached is None or cached[0] is not op:
        cached = (op, SchemaCheck(input_schema(op)))
        _VALIDATORS[id(op)] = cached
    return cached[1]


_VALIDATORS: dict[int, tuple[OperationSpec, SchemaCheck]] = {}


def _ungroup(op: OperationSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Accept earlier versions' grouped inputs ({deliveryOptions: {verbose: 1}})."""
    flat = dict(raw)
    groups = {s.group for s in op.value_inputs if s.group}
    for group in groups:
        nested = flat.pop(group, None)
        if isinstance(nested, str) and nested.strip().startswith("{"):
            nested = _as_json(nested)
        if isinstance(nested, Mapping):
            for key, value in nested.items():
                flat.setdefault(key, value)
    return flat


def _valid_choices(spec: InputSpec) -> str:
    return ", ".join(repr(c) for c in spec.choices)


def validate_inputs(
    op: OperationSpec,
    raw: Mapping[str, Any],
    connection: Mapping[str, Any] | None = None,
    *,
    deferred: str = "",
) -> dict[str, Any]:
    """Coerce, default and validate inputs; return every declared key, None when left empty.

    The `deferred` input (a batch's records, checked one by one elsewhere) is left out: it is
    None in the result, and the rules, which may read it, are not evaluated.

    Raises:
        InputError: listing every invalid input by label and key, with what would be valid.
    """
    known = {s.key: s for s in op.value_inputs}
    problems: list[InputProblem] = []
    try:
        flat = _ungroup(op, raw)
    except _CoercionError as exc:
        flat = dict(raw)
        problems.append(InputProblem("group", "Grouped input", str(exc)))
    for key in flat:
        if key not in known and key != "connection":
            near = next(iter(closest(key, known)), None)
            hint = f" Did you mean `{near}`?" if near else ""
            problems.append(InputProblem(key, key, f"is not an input of {op.key}.{hint}"))
    values: dict[str, Any] = {}
    for spec in op.value_inputs:
        value = flat.get(spec.key)
        if spec.key == deferred:
            values[spec.key] = None
            continue
        if is_empty(value):
            value = spec.default
        if is_empty(value):
            values[spec.key] = None
            if spec.required:
                problems.append(InputProblem(spec.key, spec.label, _required_message(spec)))
            continue
        try:
            values[spec.key] = _COERCERS[spec.type](value)
        except _CoercionError as exc:
            problems.append(InputProblem(spec.key, spec.label, str(exc)))
            values[spec.key] = None
            continue
        if is_empty(values[spec.key]):  # JSON "null", "[]" or a list of blanks is empty too
            values[spec.key] = None
            if spec.required:
                problems.append(InputProblem(spec.key, spec.label, _required_message(spec)))
    checked = {k: v for k, v in values.items() if v is not None}
    check = _validator(op)
    errors = [] if check.is_valid(checked) else check.errors(checked)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.path]):
        owner = known.get(str(error.path[0]) if error.path else "")
        if owner is not None:
            problems.append(InputProblem(owner.key, owner.label, _schema_message(owner, error)))
    if not problems and not deferred:
        problems.extend(_check_rules(op, values, connection or {}))
    if problems:
        raise InputError(op.key, problems)
    return values


def _schema_message(spec: InputSpec, error: ValidationError) -> str:
    if error.validator == "enum":
        top_level = spec.choices and len(error.path) == 1
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        valid = _valid_choices(spec) if top_level else ", ".join(map(repr, allowed))
        message = f"{_show(error.instance)} is not allowed. Valid values are: {valid}."
    elif error.validator == "pattern":
        message = (
            f"{_show(error.instance)} does not have the expected form {error.validator_value}."
        )
    else:
        message = f"{short_message(error)}."
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in list(error.path)[1:])
    return f"at {where.lstrip('.')}: {message}" if where else message


def short_message(error: ValidationError, limit: int = 200) -> str:
    """Jsonschema's message with the offending value quoted in at most ~`limit` characters."""
    message = error.message
    if len(message) > limit:
        shown = repr(error.instance)
        if len(shown) > limit:
            message = message.replace(shown, shown[: limit - 3] + "...")
        if len(message) > limit + 100:
            message = message[: limit + 97] + "..."
    return message


def _required_message(spec: InputSpec) -> str:
    if spec.choices:
        return f"is required. Valid values are: {_valid_choices(spec)}."
    example = f" For example: {spec.example}" if spec.example not in (None, "") else ""
    return f"is required.{example}"


def check_rules(op: OperationSpec, values: dict[str, Any], connection: Mapping[str, Any]) -> None:
    """Evaluate the spec's cross-input rules on checked values (validate_inputs does it too).

    Raises:
        InputError: naming the first input of each rule that fails.
    """
    problems = _check_rules(op, values, connection)
    if problems:
        raise InputError(op.key, problems)


def _check_rules(
    op: OperationSpec, values: dict[str, Any], connection: Mapping[str, Any]
) -> list[InputProblem]:
    problems = []
    context = {**values, "connection": dict(connection)}
    for rule in op.rules:
        if evaluate(rule["when"], context, action=op.key, field="rules.when"):
            first = op.input(rule["inputs"][0])
            problems.append(InputProblem(first.key, first.label, rule["message"]))
    return problems
