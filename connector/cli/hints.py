"""The command line's next step for an input error: where a connection field or a file goes."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..catalog.spec import ComponentSpec
from ..errors import InputError, InputProblem

#: Ends that mark a value as a file name rather than JSON text.
_FILE_ENDS = (".json", ".jsonl", ".ndjson", ".gz", ".yaml", ".yml", ".csv", ".txt")


def _looks_like_a_file(value: str) -> bool:
    text = value.strip()
    if not text or text[0] in "[{\"'" or "\n" in text:
        return False
    return text.lower().endswith(_FILE_ENDS) or "/" in text or Path(text).is_file()


def _connection_step(problem: InputProblem, spec: ComponentSpec, args: argparse.Namespace) -> str:
    field = next((f for f in spec.connection.inputs if f.key == problem.key), None)
    if field is None or not problem.label.startswith("Connection field"):
        return ""
    if args.connection:
        return f" Give `{field.key}:` in {args.connection}."
    if field.env:
        return f" Set {field.env}, or give `{field.key}:` in a --connection file."
    return f" Give `{field.key}:` in a --connection file."


def _file_step(problem: InputProblem, given: dict[str, str]) -> str:
    value = given.get(problem.key)
    if value is None or "not valid JSON" not in problem.message or not _looks_like_a_file(value):
        return ""
    return f" To read it from that file, use --input-file {problem.key}={value.strip()}."


def with_next_steps(
    exc: InputError, spec: ComponentSpec, args: argparse.Namespace, given: dict[str, str]
) -> InputError:
    """`exc` with each problem's next step on the command line, where one applies.

    A connection field left empty names its environment variable and --connection; a file name
    given with --input as JSON points to --input-file. `given` holds the --input values.
    """
    problems, changed = [], False
    for problem in exc.errors:
        step = _connection_step(problem, spec, args) or _file_step(problem, given)
        if step and step not in problem.message:
            message = problem.message if problem.message.endswith(".") else problem.message + "."
            problem = InputProblem(problem.key, problem.label, message + step)
            changed = True
        problems.append(problem)
    return InputError(exc.action, problems) if changed else exc
