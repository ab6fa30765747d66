"""Reads the --inputs and --connection files: errors name the file, line and column, never content.

A file can hold secrets (a connection's password, a project token), so no message quotes it:
parser messages are reduced to the parser's reason and its position.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, InputProblem

#: The largest --inputs or --connection file read (records in bulk go through --input-file).
MAX_FILE_BYTES = 64 * 1024 * 1024


def _problem(option: str, message: str) -> InputError:
    return InputError(option, [InputProblem(option, option, message)])


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _read_text(path: str, option: str) -> str:
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _problem(
            option, f"cannot read {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise _problem(
            option, f"{path} is larger than {limit} MB; stream records with --input-file instead"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        line, column = _position(good, len(good))
        raise _problem(option, f"{path}, line {line}, column {column}: is not UTF-8 text") from None


def _unquoted(reason: str) -> str:
    """A parser's reason without what it quotes from the file (a tag, an alias, a key)."""
    return re.sub(r"'[^']{3,}'|\"[^\"]{3,}\"", "(…)", reason)


def _parse_json(text: str, path: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(
            option, f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None


def _parse_yaml(text: str, path: str, option: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else path
        reason = _unquoted(exc.problem or exc.context or "unreadable")
        raise _problem(option, f"{where}: not valid YAML: {reason}") from None
    except yaml.YAMLError as exc:
        raise _problem(option, f"{path}: not valid YAML ({type(exc).__name__})") from None


def read_mapping(path: str, option: str) -> dict[str, Any]:
    """The mapping in a JSON (`.json`) or YAML file given to `option`.

    Raises:
        InputError: the file is missing, too large, not UTF-8, not valid JSON or YAML (with its
            line and column), or does not hold a mapping.
    """
    text = _read_text(path, option)
    if Path(path).suffix.lower() == ".json":
        data = _parse_json(text, path, option)
    else:
        data = _parse_yaml(text, path, option)
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        raise _problem(option, f"{path} must hold a mapping of KEY: VALUE (it holds {found})")
    return data
