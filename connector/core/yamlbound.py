"""Bounded YAML reading: a size cap, an alias-expansion cap, and errors that never quote content.

Every YAML file the connector reads (spec files, overlays, --connection and --inputs files)
goes through `load_bounded`. A file larger than its cap, or whose aliases would expand past
`MAX_NODES` nodes (an "alias bomb": a few hundred bytes that stand for billions of nodes), or
nests deeper than `MAX_DEPTH`, is refused before anything is built from it. Errors cite the
file, line and column, never the text there: a connection file holds secrets, and an overlay
may be a link to a file that is not the caller's to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import YAMLProblem

#: Spec and overlay files: the largest shipped one is about 10 kB.
MAX_SPEC_BYTES = 1 << 20
#: --connection and --inputs files (inputs may carry records; big record sets use --input-file).
MAX_INPUT_BYTES = 64 << 20
#: Nodes a document may stand for once every alias is expanded.
MAX_NODES = 1_000_000
#: Nesting depth of mappings and sequences.
MAX_DEPTH = 200

# libyaml's safe loader when available: the same safe constructors, several times faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")


@dataclass(frozen=True)
class Loaded:
    """A parsed document: its data and its root node (for line numbers), None when empty."""

    data: Any
    node: yaml.Node | None


def read_text(path: Path, max_bytes: int) -> str:
    """The UTF-8 text of `path`, refusing more than `max_bytes` or bytes that are not UTF-8.

    Raises:
        YAMLProblem: too large or not UTF-8 (with the line and column of the first bad byte).
        OSError: the file cannot be opened or read.
    """
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise YAMLProblem(path, f"is larger than {max_bytes // 1024} kB; refused")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YAMLProblem(path, "is not UTF-8 text", line, column) from None


def _expanded_size(root: yaml.Node, path: Path) -> None:
    """Refuse a node graph that expands past MAX_NODES, nests past MAX_DEPTH or loops."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_NODES:
                raise YAMLProblem(
                    path,
                    f"its aliases expand past {MAX_NODES:,} nodes; refused",
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YAMLProblem(path, "an alias refers to a node that holds it", *_position(node))
        if depth > MAX_DEPTH:
            raise YAMLProblem(path, f"nests deeper than {MAX_DEPTH} levels", *_position(node))
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_bounded(path: Path, max_bytes: int = MAX_SPEC_BYTES) -> Loaded:
    """Safe-load one YAML document from `path` within the caps.

    Raises:
        YAMLProblem: too large, not UTF-8, a syntax error, too many nodes once aliases are
            expanded, or nested too deep; the reason quotes none of the file's text.
        OSError: the file cannot be opened or read.
    """
    text = read_text(path, max_bytes)
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or type(exc).__name__
        reason = _QUOTED.sub("…", str(problem))
        raise YAMLProblem(path, f"YAML syntax error: {reason}", line, column) from None
    finally:
        loader.dispose()
    return Loaded(data, node)
