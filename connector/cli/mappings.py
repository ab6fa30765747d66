"""Reads the --inputs and --connection files: errors name the file, line and column, never content.

A file can hold secrets (a connection's password, a project token), so no message quotes it:
parser messages are reduced to the parser's reason and its position.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..catalog.spec import ConnectionSpec
from ..core.jsondepth import loads_bounded
from ..core.yamlbound import MAX_INPUT_BYTES, load_bounded, read_text
from ..errors import InputError, InputProblem, JSONTooDeep, YAMLProblem


def _problem(option: str, message: str) -> InputError:
    return InputError(option, [InputProblem(option, option, message)])


#: PyYAML's reasons (their quoted parts already elided) in plain words, by how they begin.
_PLAIN = (
    (
        "did not find expected",
        "a bracket, brace or quote opened earlier is never closed, or "
        "this line is indented differently from the lines around it",
    ),
    ("found unexpected end of stream", "the file ends inside a quoted value"),
    (
        "mapping values are not allowed",
        "a value holds `: ` (put it in quotes), or this line is indented under a value",
    ),
    (
        "found character that cannot start any token",
        "a character no value can start with, such as a tab used to indent (indent with spaces)",
    ),
    ("could not determine a constructor", "a `!tag`, which these files may not use"),
    ("while scanning a simple key", "a line that is neither `key: value` nor a list item"),
    ("could not find expected ':'", "a line that is neither `key: value` nor a list item"),
)
#: What each option's file holds, for a message about a file it cannot read.
_SHAPES = {
    "--connection": "a connection file holds one `FIELD: value` line per connection field",
    "--inputs": "an inputs file holds one `KEY: value` line per input",
}


def _plain(reason: str) -> str:
    syntax = reason.removeprefix("YAML syntax error: ")
    if syntax == reason:
        return reason
    words = next((plain for start, plain in _PLAIN if syntax.startswith(start)), syntax)
    return f"not valid YAML: {words}"


def _unreadable(exc: YAMLProblem, path: str, option: str) -> InputError:
    reason = _plain(exc.reason)
    if reason.startswith("is larger than"):
        reason += "; stream records with --input-file instead"
    elif reason.startswith("not valid YAML") and option in _SHAPES:
        reason += f" ({_SHAPES[option]})"
    return _problem(option, f"{path}{exc.where}: {reason}")


def _parse_json(text: str, path: str, option: str) -> Any:
    try:
        return loads_bounded(text, where=path)
    except JSONTooDeep as exc:
        raise _problem(option, str(exc)) from None
    except json.JSONDecodeError as exc:
        raise _problem(
            option, f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None


def read_mapping(path: str, option: str) -> dict[str, Any]:
    """The mapping in a JSON (`.json`) or YAML file given to `option`.

    Both are read within the bounds of `core.yamlbound` (size, alias expansion, depth).

    Raises:
        InputError: the file is missing, too large, not UTF-8, not valid JSON or YAML (with its
            line and column), or does not hold a mapping.
    """
    file = Path(path)
    try:
        if file.suffix.lower() == ".json":
            text = read_text(file, MAX_INPUT_BYTES).removeprefix("\ufeff")
            data = _parse_json(text, path, option)
        else:
            data = load_bounded(file, MAX_INPUT_BYTES).data
    except YAMLProblem as exc:
        raise _unreadable(exc, path, option) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _problem(option, f"cannot read {path}: {reason}") from None
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        raise _problem(option, f"{path} must hold a mapping of KEY: VALUE (it holds {found})")
    return data


def inputs_of(args: argparse.Namespace) -> dict[str, Any]:
    """The --inputs file's mapping, with each --input KEY=VALUE over it."""
    values = read_mapping(args.inputs, "--inputs") if args.inputs else {}
    for item in args.input:
        key, sep, value = item.partition("=")
        if not sep or not key:
            subject = str(getattr(args, "key", None) or getattr(args, "name", ""))
            raise InputError(subject, [InputProblem(item, "--input", "expected KEY=VALUE")])
        values[key.strip()] = value
    return values


def connection_of(args: argparse.Namespace, spec: ConnectionSpec) -> dict[str, Any]:
    """The --connection file, else each field from the variable its spec names (`env:`)."""
    if args.connection:
        return read_mapping(args.connection, "--connection")
    return {f.key: os.environ[f.env] for f in spec.inputs if f.env and os.environ.get(f.env)}
