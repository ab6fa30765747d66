from __future__ import annotations

import importlib

import connector
from tests.conftest import ROOT

PACKAGE = ROOT / "connector"
# The optional parts (plugins, engine adapters) are not the runtime; they import their engines.
OPTIONAL = ("sandbox", "engines")


def _runtime_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[1:2] and parts[1] in OPTIONAL or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_all_is_sorted_and_complete() -> None:
    exported = [name for name in dir(connector) if not name.startswith("_")]
    modules = {name for name in exported if type(getattr(connector, name)).__name__ == "module"}
    assert connector.__all__ == sorted(connector.__all__)
    assert set(connector.__all__) == set(exported) - modules


def test_every_error_class_lives_in_errors_and_is_exported() -> None:
    names = _runtime_modules()
    assert {"connector.errors", "connector.modes.batched.run", "connector.budgets.memory"} <= set(
        names
    )
    defined = {}
    for name in names:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseException):
                if value.__module__ == name:
                    defined[attr] = name
    assert {attr for attr, home in defined.items() if home != "connector.errors"} == set()
    assert set(defined) <= set(connector.__all__)
    assert "BudgetExceeded" in defined
