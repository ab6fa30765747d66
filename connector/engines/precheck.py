"""Checks a task's action and inputs against the manifest when a workflow is written, not run."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

from .. import InputError, InputProblem
from .common import LOCATION_INPUTS, component_manifest

# The engine passes the connection itself; no workflow names it as an input.
CONNECTION_TYPE = "connection"


def operation(key: str) -> dict[str, Any]:
    """The manifest's action `key` (labels, inputs); an unknown key fails, naming near keys."""
    actions = {op["key"]: op for op in component_manifest()["actions"]}
    if key in actions:
        found: dict[str, Any] = actions[key]
        return found
    near = difflib.get_close_matches(key, list(actions), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(near)}?" if near else f" Known: {', '.join(actions)}."
    raise InputError(key, [InputProblem("action", "Action", f"no action {key!r}.{hint}")])


def task_inputs(op: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The inputs a workflow may give the action, by key (the connection is the engine's)."""
    return {spec["key"]: spec for spec in op["inputs"] if spec["type"] != CONNECTION_TYPE}


def is_template(value: Any) -> bool:
    """A value an engine renders later (`{{ ds }}`): present, but not checkable yet."""
    return isinstance(value, str) and "{{" in value


def _unknown(key: str, op: Mapping[str, Any], known: Mapping[str, dict[str, Any]]) -> InputProblem:
    near = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if near:
        hint = f" Did you mean {known[near[0]]['label']} (`{near[0]}`)?"
    else:
        hint = " Its inputs: " + ", ".join(f"{s['label']} (`{k}`)" for k, s in known.items()) + "."
    return InputProblem(key, "Unknown input", f"{op['label']} has no input `{key}`.{hint}")


def input_problems(
    op: Mapping[str, Any], inputs: Mapping[str, Any], supplied: Collection[str] = ()
) -> list[InputProblem]:
    """What is wrong with `inputs` for the action `op`, before any template is rendered.

    `supplied` names inputs the engine fills in itself (a partition's dates); location inputs
    come from the connection's Region. Templated values count as given and are checked when the
    task runs.
    """
    known = task_inputs(op)
    problems = [_unknown(key, op, known) for key in inputs if key not in known]
    for key, spec in known.items():
        given = inputs.get(key)
        if given is None or given == "":
            optional = not spec["required"] or spec.get("default") is not None
            if not optional and key not in supplied and key not in LOCATION_INPUTS:
                problems.append(InputProblem(key, spec["label"], "required, and not given."))
            continue
        choices = [choice["value"] for choice in spec.get("choices") or []]
        if choices and not is_template(given) and given not in choices:
            problems.append(
                InputProblem(key, spec["label"], f"must be one of {choices}, not {given!r}.")
            )
    return problems


def check_task(action: str, inputs: Mapping[str, Any], supplied: Collection[str] = ()) -> None:
    """Raise InputError naming the action and each input's label unless the task can run."""
    op = operation(action)
    problems = input_problems(op, inputs, supplied)
    if problems:
        raise InputError(f"{op['label']} (`{action}`)", problems)
