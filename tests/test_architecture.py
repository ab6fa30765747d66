"""The runtime's layout holds: stages import only the stages below them, no import cycles, no
module reaching into another's `_private` names. The sandbox's parts are layered the same way
(models at the bottom, the HTTP server at the top) and free of cycles too.

The imports are read with `ast` (every import statement, also those inside functions and under
TYPE_CHECKING), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "connector"
#: The runtime's parts, lowest first: each may import itself and the parts before it only.
#: A part is a top-level module (errors, call, ...) or a subpackage (core, catalog, ...).
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("core",),
    ("budgets",),
    ("catalog",),
    ("prepare",),
    ("send",),
    ("parse",),
    ("call",),
    ("modes",),
    ("describe", "files", "plugins"),
    ("component",),
    ("jobs", "loading"),
    ("sync",),
    ("cli",),
    ("__init__",),  # connector/__init__.py: the public API
]
#: Optional parts: they may import the runtime (its public names); the runtime never imports them.
OUTSIDE = ("sandbox", "engines", "migrate")
#: Optional parts whose modules must still be free of import cycles.
CYCLE_CHECKED = ("sandbox",)
#: The sandbox's parts, lowest first, by the same rule as LAYERS: the models and the HTTP
#: plumbing know nothing of routes, answers or the server; responses/ sit on models/ and auth;
#: urls.py on responses/; the server on everything.
SANDBOX_LAYERS: list[tuple[str, ...]] = [
    ("models", "where", "faults", "inflate", "chart", "bodies", "addresses"),
    ("jsonview", "paging", "timelabel"),
    ("wire", "tls"),
    ("pool", "connection"),
    ("loop",),
    ("store",),
    ("reply",),
    ("auth",),
    ("requestlog",),
    ("responses",),
    ("urls",),
    ("page",),
    ("handle",),
    ("server",),
    ("tour_families",),
    ("plugin", "tour"),
    ("__init__",),  # connector/sandbox/__init__.py
]
#: Underscore names that are public API (namedtuple's) and may be used on any object.
PUBLIC_UNDERSCORE = frozenset({"_replace", "_asdict", "_fields", "_make"})


def module_name(path: Path, root: Path) -> str:
    """`connector.modes.paged` for root/connector/modes/paged.py (a package: its __init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the `connector` package under `root`, by name."""
    return {module_name(p, root): p for p in sorted((root / "connector").rglob("*.py"))}


def imports(path: Path, name: str, known: set[str]) -> Iterator[tuple[int, str]]:
    """(line, module) of each connector module that `path` (module `name`) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import connector.x.y` names a module
                target = target.rpartition(".")[0]
            if target:
                yield node.lineno, target


def part(module: str) -> str:
    """The layer part a module belongs to: its subpackage, or the top-level module itself."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def rank(name: str) -> int | None:
    return next((n for n, layer in enumerate(LAYERS) if name in layer), None)


def layering_problems(root: Path) -> list[str]:
    """Every import that runs upward, into an optional part, or from an unknown part."""
    found = modules(root)
    problems = []
    for name, path in found.items():
        source = part(name)
        if source in OUTSIDE:
            continue
        if rank(source) is None:
            problems.append(f"{name}: part {source!r} is in no layer; add it to LAYERS")
            continue
        for line, target in imports(path, name, set(found)):
            goal = part(target)
            if goal == source:
                continue
            where = f"{path.relative_to(root)}:{line}: {name} imports {target}"
            if goal in OUTSIDE:
                problems.append(f"{where}, an optional part (reach it through connector.plugins)")
            elif (rank(goal) or 0) >= (rank(source) or 0):
                problems.append(f"{where}, which is not below {source}")
    return problems


def cycles(root: Path) -> list[list[str]]:
    """The import cycles among the runtime's and the sandbox's modules (each as its modules)."""
    found = {
        name: p
        for name, p in modules(root).items()
        if part(name) not in OUTSIDE or part(name) in CYCLE_CHECKED
    }
    graph = {
        name: sorted({t for _, t in imports(p, name, set(found))}) for name, p in found.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    loops: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in graph.get(node, []):
            if state.get(target) == 1:
                loops.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)
    return loops


def sandbox_part(module: str) -> str | None:
    """The sandbox part of a module (`models`, `urls`, ...), or None outside the sandbox."""
    pieces = module.split(".")
    if pieces[:2] != ["connector", "sandbox"]:
        return None
    return pieces[2] if len(pieces) > 2 else "__init__"


def sandbox_layering_problems(root: Path) -> list[str]:
    """Every import inside the sandbox that runs upward or from a part in no layer."""
    found = modules(root)
    ranks = {name: n for n, layer in enumerate(SANDBOX_LAYERS) for name in layer}
    problems = []
    for name, path in found.items():
        source = sandbox_part(name)
        if source is None:
            continue
        if source not in ranks:
            problems.append(f"{name}: sandbox part {source!r} is in no layer; add it")
            continue
        for line, target in imports(path, name, set(found)):
            goal = sandbox_part(target)
            if goal is not None and goal != source and ranks.get(goal, len(ranks)) >= ranks[source]:
                where = f"{path.relative_to(root)}:{line}: {name} imports {target}"
                problems.append(f"{where}, which is not below {source}")
    return problems


def _own_private_names(tree: ast.AST) -> set[str]:
    """The `_names` a module defines itself: functions, classes, attributes, assignments."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_")}


def private_uses(path: Path) -> list[str]:
    """Where `path` uses another module's `_private` name (an import or an attribute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _own_private_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or "connector" in (node.module or "")):
            found += [
                f"{node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
        elif isinstance(node, ast.Attribute):
            attr = node.attr
            private = attr.startswith("_") and not attr.startswith("__")
            mine = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if private and not mine and attr not in own and attr not in PUBLIC_UNDERSCORE:
                found.append(f"{node.lineno}: uses .{attr}")
    return found


def test_every_stage_imports_only_the_stages_below_it() -> None:
    assert layering_problems(ROOT) == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(ROOT) == []


def test_the_sandbox_parts_import_only_the_parts_below_them() -> None:
    assert sandbox_layering_problems(ROOT) == []


CHECKED = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "tools").rglob("*.py"))


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_uses_another_modules_private_names(path: Path) -> None:
    assert private_uses(path) == []


def test_every_subpackage_and_module_of_the_runtime_has_its_layer() -> None:
    parts = {part(name) for name in modules(ROOT)} - set(OUTSIDE)
    assert parts == {name for layer in LAYERS for name in layer}


# --- the checks find what they look for ------------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, source in {"connector/__init__.py": "", **files}.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return tmp_path


def test_a_cycle_through_a_lazy_or_type_checking_import_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "connector/component.py": "def run():\n    from .modes import batched\n",
            "connector/modes/__init__.py": "",
            "connector/modes/batched.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from ..component import Component\n"
            ),
        },
    )
    assert cycles(root) == [
        ["connector.component", "connector.modes.batched", "connector.component"]
    ]
    assert any("modes.batched imports connector.component" in p for p in layering_problems(root))


def test_an_upward_import_and_a_runtime_import_of_the_sandbox_are_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "connector/send/__init__.py": "",
            "connector/send/transport.py": "from ..parse.response import RawResponse\n",
            "connector/parse/__init__.py": "",
            "connector/parse/response.py": "import connector.sandbox.plugin\n",
            "connector/sandbox/__init__.py": "",
            "connector/sandbox/plugin.py": "from connector.component import Component\n",
            "connector/helpers.py": "",
        },
    )
    problems = layering_problems(root)
    assert any("send.transport imports connector.parse.response" in p for p in problems)
    assert any("imports connector.sandbox.plugin, an optional part" in p for p in problems)
    assert any("part 'helpers' is in no layer" in p for p in problems)
    assert not any(p.startswith("connector/sandbox") for p in problems)


def test_a_cycle_and_an_upward_import_inside_the_sandbox_are_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "connector/sandbox/__init__.py": "",
            "connector/sandbox/handle.py": "from . import page\n",
            "connector/sandbox/page.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .server import Sandbox\n"
            ),
            "connector/sandbox/server.py": "from .handle import respond\n",
            "connector/sandbox/models/__init__.py": "",
            "connector/sandbox/models/base.py": "from ..responses.app import ok\n",
            "connector/sandbox/responses/__init__.py": "",
            "connector/sandbox/responses/app.py": "",
            "connector/sandbox/extra.py": "",
        },
    )
    assert cycles(root) == [
        [
            "connector.sandbox.handle",
            "connector.sandbox.page",
            "connector.sandbox.server",
            "connector.sandbox.handle",
        ]
    ]
    problems = sandbox_layering_problems(root)
    assert any("models.base imports connector.sandbox.responses.app" in p for p in problems)
    assert any("page imports connector.sandbox.server" in p for p in problems)
    assert any("part 'extra' is in no layer" in p for p in problems)


def test_private_names_of_other_modules_are_found(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from .component import _Hidden\n"
        "from . import stream\n"
        "class Mine:\n"
        "    def __init__(self):\n        self._own = 1\n"
        "    def ok(self, other):\n        return other._own, self._x, p._replace(a=1)\n"
        "def f(component):\n    return component._prepare(), stream._open\n"
    )
    assert sorted(private_uses(module)) == [
        "1: imports _Hidden",
        "9: uses ._open",
        "9: uses ._prepare",
    ]
