"""Plugins are reached through entry points only; the generic runtime never imports them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import connector
from connector import InputError
from connector.plugins import load_plugin, plugin_names

RUNTIME = Path(connector.__file__).parent
OPTIONAL = ("connector.sandbox", "connector.engines")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "connector." * (node.level > 0) + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}".replace("..", ".") for alias in node.names)
    return names


RUNTIME_MODULES = sorted(
    p
    for p in RUNTIME.rglob("*.py")
    if p.relative_to(RUNTIME).parts[0] not in ("sandbox", "engines")
)


@pytest.mark.parametrize("path", RUNTIME_MODULES, ids=lambda p: p.relative_to(RUNTIME).as_posix())
def test_runtime_module_imports_no_optional_subpackage(path: Path) -> None:
    bad = {n for n in _imports(path) if n.startswith(OPTIONAL)}
    assert not bad, f"{path.name} imports {sorted(bad)}; reach plugins through connector.plugins"


def test_the_checker_sees_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from .sandbox import Sandbox\nfrom . import engines\n")
    assert {"connector.sandbox", "connector.engines"} <= _imports(module)


def test_sandbox_is_registered_and_loaded_on_demand() -> None:
    assert "sandbox" in plugin_names()
    plugin = load_plugin("sandbox")
    assert callable(plugin.main) and callable(plugin.embed)


def test_unknown_plugin_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no plugin 'nope' is installed"):
        load_plugin("nope")
