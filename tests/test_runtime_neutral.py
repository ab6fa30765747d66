"""The runtime holds no Mixpanel knowledge: hosts, paths, fields and env names live in specs/.

Every string literal and name in the runtime (connector/ and each of its subpackages but the
optional ones; docstrings and comments aside) is searched for Mixpanel's names. The package's own
name (mixpanel-connector, its env prefix and entry-point group) is the product, not Mixpanel
knowledge. The sandbox and the engine adapters are Mixpanel-specific by design and are not part of
the runtime.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "connector"
OPTIONAL = ("sandbox", "engines")
RUNTIME = sorted(
    path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] not in OPTIONAL
)
PRODUCT = re.compile(r"mixpanel[-_]connector", re.IGNORECASE)
MIXPANEL_NAMES = re.compile(
    r"mixpanel|project_?id|project_?token|insert_id|distinct_id|\$token|nessie|/track\b|/engage\b",
    re.IGNORECASE,
)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def mixpanel_names(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string or name outside docstrings that names Mixpanel."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.arg):
            text = node.arg
        else:
            continue
        if MIXPANEL_NAMES.search(PRODUCT.sub("", text)):
            hits.append((getattr(node, "lineno", 0), text))
    return hits


def test_every_runtime_subpackage_is_searched() -> None:
    folders = {p.relative_to(PACKAGE).parent.as_posix() for p in RUNTIME}
    subpackages = {
        p.parent.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("__init__.py")
        if p.parent.relative_to(PACKAGE).parts[:1] not in [(name,) for name in OPTIONAL]
    }
    assert subpackages <= folders
    assert {"budgets", "catalog", "prepare", "send", "parse", "modes"} <= folders


@pytest.mark.parametrize("path", RUNTIME, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_runtime_module_names_nothing_of_mixpanel(path: Path) -> None:
    assert mixpanel_names(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_what_it_looks_for() -> None:
    source = '''
"""Docstrings may say Mixpanel."""
# so may comments: MIXPANEL_BASE_URL
ENV = "MIXPANEL_BASE_URL"
GROUP = "mixpanel_connector.plugins"
def f(project_id):
    """Mixpanel again."""
    return {"$insert_id": 1, "url": "https://api.mixpanel.com/track"}
'''
    assert [line for line, _ in mixpanel_names(source)] == [4, 6, 8, 8]
