"""Errors in what a run is given: spec files, YAML, caller inputs, URLs, records, templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .base import ConnectorError

__all__ = [
    "InputError",
    "InputProblem",
    "JSONTooDeep",
    "MappingError",
    "RecordTooLarge",
    "RenderError",
    "SpecError",
    "SpecProblem",
    "UnsafeURL",
    "YAMLProblem",
]


# --- spec stage -------------------------------------------------------------------------------


class YAMLProblem(ConnectorError, ValueError):
    """A YAML file that cannot be read: `.path`, `.reason`, `.line` and `.column` (1-based)."""

    def __init__(
        self, path: Path, reason: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path, self.reason, self.line, self.column = path, reason, line, column
        super().__init__(f"{path}{self.where}: {reason}")

    @property
    def where(self) -> str:
        """`, line L, column C` (or nothing when the position is unknown)."""
        if self.line is None:
            return ""
        return f", line {self.line}" + (f", column {self.column}" if self.column else "")


@dataclass(frozen=True)
class SpecProblem:
    """One problem in one spec file."""

    file: str
    line: int | None
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.pointer or '/'}: {self.message}"


class SpecError(ConnectorError):
    """The spec files are invalid; `.problems` lists every problem found."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the specs:\n{lines}")


# --- input stage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputProblem:
    """One invalid input: its key, label and what would be valid."""

    key: str
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label} (`{self.key}`): {self.message}"


class InputError(ConnectorError, ValueError):
    """Caller inputs failed validation; nothing was sent. `.errors` lists every problem."""

    def __init__(self, action: str, errors: list[InputProblem]) -> None:
        self.action = action
        self.errors = errors
        if len(errors) == 1:
            text = f"Invalid input for {action}: {errors[0]}"
        else:
            text = f"{len(errors)} invalid inputs for {action}:\n" + "\n".join(
                f"  - {e}" for e in errors
            )
        super().__init__(text)


class UnsafeURL(ConnectorError, ValueError):
    """A URL refused before anything is sent; str() says why, never quoting the URL.

    `.marker` is the text that made it unsafe (for finding the input that holds it), or "".
    """

    def __init__(self, reason: str, marker: str = "") -> None:
        self.marker = marker
        super().__init__(reason)


class RecordTooLarge(ConnectorError):
    """A record of an input file passed its size cap while being read (then an InputError)."""


class JSONTooDeep(ConnectorError, ValueError):
    """JSON nested deeper than its bound, refused before parsing: `.where`, `.limit`, `.path`.

    `.path` points at the first value too deep (`[0].properties.a[3]`, shortened).
    """

    def __init__(self, where: str, limit: int, path: str = "") -> None:
        self.where, self.limit, self.path = where, limit, path
        at = f" at {path}" if path else ""
        what = where or "JSON"
        super().__init__(f"{what} nests objects and arrays deeper than {limit} levels{at}")


class MappingError(ConnectorError, ValueError):
    """A source record's field cannot be mapped (a migration's mapping): `.path` names it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


# --- render stage -----------------------------------------------------------------------------


class RenderError(ConnectorError):
    """A spec template could not be rendered (for example an undefined variable)."""

    def __init__(self, action: str, field: str, reason: str) -> None:
        self.action = action
        self.field = field
        super().__init__(f"Cannot render `{field}` of {action}: {reason}")
