"""Validates caller inputs once: coerced (connector.prepare.coerce), defaulted, JSON Schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..catalog.spec import ComponentSpec, InputSpec, OperationSpec
from ..core.templates import evaluate, input_context
from ..core.values import closest, is_empty, show
from ..errors import InputError, InputProblem
from .coerce import COERCERS, JSON_TYPES, as_json
from .limits import limit_problems
from .schemacheck import SchemaCheck

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


def input_schema(op: OperationSpec, deferred: str = "") -> dict[str, Any]:
    """The JSON Schema one action's coerced inputs must satisfy (`deferred` left out)."""
    properties: dict[str, Any] = {}
    for spec in op.value_inputs:
        if spec.key == deferred:
            continue
        prop: dict[str, Any] = dict(spec.schema)
        if spec.type in JSON_TYPES:
            prop.setdefault("type", JSON_TYPES[spec.type])
        if spec.choices:
            prop["enum"] = list(spec.choices)
        prop["title"] = spec.label
        properties[spec.key] = prop
    required = [s.key for s in op.value_inputs if s.required and s.key != deferred]
    return {"type": "object", "properties": properties, "required": required}


def _validator(op: OperationSpec, deferred: str = "") -> SchemaCheck:
    # Without the deferred records in its schema, so that the compiled check accepts a valid
    # call: a refusal would import jsonschema to word messages it then drops.
    cached = _VALIDATORS.get((id(op), deferred))
    if cached is None or cached[0] is not op:
        cached = (op, SchemaCheck(input_schema(op, deferred)))
        _VALIDATORS[(id(op), deferred)] = cached
    return cached[1]


_VALIDATORS: dict[tuple[int, str], tuple[OperationSpec, SchemaCheck]] = {}


def _ungroup(op: OperationSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Accept earlier versions' grouped inputs ({deliveryOptions: {verbose: 1}})."""
    flat = dict(raw)
    groups = {s.group for s in op.value_inputs if s.group}
    for group in groups:
        nested = flat.pop(group, None)
        if isinstance(nested, str) and nested.strip().startswith("{"):
            nested = as_json(nested)
        if isinstance(nested, Mapping):
            for key, value in nested.items():
                flat.setdefault(key, value)
    return flat


#: How a message names what a JSON Schema `format` expects.
FORMAT_WORDS = {
    "date": "a calendar date written YYYY-MM-DD",
    "date-time": "a date and time written YYYY-MM-DDThh:mm:ss with its offset (Z or +hh:mm)",
    "time": "a time written hh:mm:ss with its offset (Z or +hh:mm)",
}


def _valid_choices(spec: InputSpec) -> str:
    return ", ".join(repr(c) for c in spec.choices)


def _coerced(
    op: OperationSpec, flat: Mapping[str, Any], deferred: str, problems: list[InputProblem]
) -> dict[str, Any]:
    """Each declared input read as its type, defaulted, None when empty; problems noted."""
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
            values[spec.key] = COERCERS[spec.type](value)
        except ValueError as exc:
            problems.append(InputProblem(spec.key, spec.label, str(exc)))
            values[spec.key] = None
            continue
        if is_empty(values[spec.key]):  # JSON "null", "[]" or a list of blanks is empty too
            values[spec.key] = None
            if spec.required:
                problems.append(InputProblem(spec.key, spec.label, _required_message(spec)))
    return values


def validate_inputs(
    op: OperationSpec,
    raw: Mapping[str, Any],
    connection: Mapping[str, Any] | None = None,
    *,
    deferred: str = "",
    component: ComponentSpec | None = None,
) -> dict[str, Any]:
    """Coerce, default and validate inputs; return every declared key, None when left empty.

    The `deferred` input (a batch's records, checked one by one elsewhere) is left out: it is
    None in the result, and the rules, which may read it, are not evaluated. With the
    `component`, an input of another action given here is answered with this action's
    counterpart (`counterpart_hint`).

    Raises:
        InputError: listing every invalid input by label and key, with what would be valid.
    """
    known = {s.key: s for s in op.value_inputs}
    problems: list[InputProblem] = []
    try:
        flat = _ungroup(op, raw)
    except ValueError as exc:
        flat = dict(raw)
        problems.append(InputProblem("group", "Grouped input", str(exc)))
    for key in flat:
        if key not in known and key != "connection":
            near = next(iter(closest(key, known)), None)
            hint = f" Did you mean `{near}`?" if near else ""
            if component is not None:
                hint = counterpart_hint(component, op, key, flat[key]) or hint
            problems.append(InputProblem(key, key, f"is not an input of {op.key}.{hint}"))
    values = _coerced(op, flat, deferred, problems)
    checked = {k: v for k, v in values.items() if v is not None}
    check = _validator(op, deferred)
    errors = [] if check.is_valid(checked) else check.errors(checked)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.path]):
        owner = known.get(str(error.path[0]) if error.path else "")
        if owner is not None:
            problems.append(InputProblem(owner.key, owner.label, _schema_message(owner, error)))
    if not problems and not deferred:
        problems.extend(limit_problems(op, values))
    if not problems and not deferred:
        problems.extend(_check_rules(op, values, connection or {}))
    if problems:
        raise InputError(op.key, problems)
    return values


def _places(spec: InputSpec) -> list[str]:
    """What each choice's label says besides its value: "api-eu (EU)" says "(EU)"."""
    return [
        label.replace(str(value), "").strip()
        for value, label in zip(spec.choices, spec.choice_labels, strict=True)
    ]


def counterpart_hint(component: ComponentSpec, op: OperationSpec, key: str, value: Any) -> str:
    """The input of this action that stands for another action's input `key`, and its value.

    For an input this action lacks but another declares with `value` among its choices: this
    action's input whose choices are labelled alike, and the value to give it.

    E.g. Region (`region`) api-eu, given to an export, is Data and Domain (`dataAndDomain`)
    data-eu there: "api-eu (EU)" and "data-eu (EU)" name the same place. "" when none is.
    """
    for other in (*component.actions.values(), *component.data_sources.values()):
        theirs = next((s for s in other.value_inputs if s.key == key and s.choices), None)
        if theirs is not None and value in theirs.choices:
            break
    else:
        return ""
    places = _places(theirs)
    if len(set(places)) != len(places):
        return ""
    position = list(theirs.choices).index(value)
    for mine in op.value_inputs:
        if mine.choices and _places(mine) == places:
            return (
                f" Other actions take {theirs.describe()}; {op.key} takes {mine.describe()} "
                f"instead: give {mine.key}={mine.choices[position]}."
            )
    return ""


def _schema_message(spec: InputSpec, error: ValidationError) -> str:
    if error.validator == "enum":
        top_level = spec.choices and len(error.path) == 1
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        valid = _valid_choices(spec) if top_level else ", ".join(map(repr, allowed))
        message = f"{show(error.instance)} is not allowed. Valid values are: {valid}."
    elif error.validator == "pattern":
        message = f"{show(error.instance)} does not have the expected form {error.validator_value}."
    elif error.validator == "format" and error.validator_value in FORMAT_WORDS:
        example = f", such as {spec.example}" if len(error.path) == 1 and spec.example else ""
        form = FORMAT_WORDS[error.validator_value]
        message = f"{show(error.instance)} is not {form}{example}."
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
    context = input_context(values, connection)
    for rule in op.rules:
        if evaluate(rule["when"], context, action=op.key, field="rules.when"):
            first = op.input(rule["inputs"][0])
            problems.append(InputProblem(first.key, first.label, rule["message"]))
    return problems
