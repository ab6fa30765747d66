"""Safe-loads YAML spec files and remembers the line of every node, so errors can cite file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.yamlbound import MAX_SPEC_BYTES, load_bounded
from ..errors import SpecError, SpecProblem, YAMLProblem


@dataclass(frozen=True)
class SpecDocument:
    """One parsed spec file: its data and a map from JSON pointer to 1-based line number."""

    path: Path
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, pointer: str) -> int | None:
        """Return the line of `pointer`, or of its nearest ancestor that has one."""
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]

    def problem(self, pointer: str, message: str, root: Path | None = None) -> SpecProblem:
        """Build a problem located at `pointer` in this file."""
        shown = self.path.relative_to(root) if root else self.path
        return SpecProblem(str(shown), self.line_of(pointer), pointer, message)


def escape_pointer(token: str) -> str:
    """Escape one JSON-pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _record_lines(node: yaml.Node, pointer: str, lines: dict[str, int]) -> None:
    lines[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = f"{pointer}/{escape_pointer(str(key_node.value))}"
            _record_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, f"{pointer}/{index}", lines)


def load_yaml(path: Path) -> SpecDocument:
    """Load one YAML file safely and within bounds; any failure is a SpecError with its line.

    The message cites the file, line and column, never the file's text (see yamlbound).
    """
    try:
        loaded = load_bounded(path, MAX_SPEC_BYTES)
    except YAMLProblem as exc:
        where = f"column {exc.column}: " if exc.column else ""
        raise SpecError([SpecProblem(str(path), exc.line, "", f"{where}{exc.reason}")]) from None
    except OSError as exc:
        reason = f"cannot be read: {exc.strerror or type(exc).__name__}"
        raise SpecError([SpecProblem(str(path), None, "", reason)]) from None
    lines: dict[str, int] = {}
    if loaded.node is not None:
        _record_lines(loaded.node, "", lines)
    return SpecDocument(path=path, data=loaded.data, lines=lines)
