"""No engine in the core: the runtime never imports the adapters nor depends on an engine."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib

from tests.conftest import ROOT

ENGINES = ROOT / "connector" / "engines"
# connector/*.py and every other subpackage (budgets, sandbox, ...): nothing but the adapters.
CORE_MODULES = sorted(p for p in (ROOT / "connector").rglob("*.py") if ENGINES not in p.parents)


def imported_modules(source: str) -> set[str]:
    """Every module an import statement names, relative ones resolved in `connector`."""
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "connector." * (node.level > 0) + (node.module or "")
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_the_core_modules_exist() -> None:
    assert len(CORE_MODULES) > 10 and ROOT / "connector" / "component.py" in CORE_MODULES


def test_no_core_module_imports_an_engine_adapter() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n
            for n in imported_modules(path.read_text(encoding="utf-8"))
            if "engines" in n.split(".")
        )
        for path in CORE_MODULES
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_import_scan_catches_every_spelling() -> None:
    # The scan above would be vacuous if it missed a spelling.
    for source in (
        "from .engines import airflow",
        "from .engines.common import export_to",
        "import connector.engines.prefect",
        "from connector.engines import common",
    ):
        assert any("engines" in n.split(".") for n in imported_modules(source)), source


def test_loading_the_component_imports_no_engine() -> None:
    script = (
        "import sys, connector; connector.load_component();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'prefect')"
        " or m.split('.')[0] in ('dagster', 'dagfactory') or m.startswith('connector.engines')))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_engines_are_extras_not_core_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    assert {"requests", "jinja2"} <= set(re.findall(r"[a-z0-9_-]+", core))
    assert "airflow" not in core and "prefect" not in core and "dagster" not in core
    assert project["optional-dependencies"]["airflow"][0].startswith("apache-airflow")
    assert project["optional-dependencies"]["airflow"][1].startswith("dag-factory")
    assert project["optional-dependencies"]["prefect"][0].startswith("prefect")
    assert [d.split(">")[0] for d in project["optional-dependencies"]["dagster"]] == [
        "dagster",
        "dagster-dg-cli",
    ]
    entry_points = project["entry-points"]
    assert entry_points["apache_airflow_provider"] == {
        "provider_info": "connector.engines.airflow.provider:get_provider_info"
    }
    assert entry_points["prefect.collections"] == {
        "mixpanel_connector": "connector.engines.prefect"
    }
    # Dagster's component registry lists the module's components (`dg list components`).
    assert entry_points["dagster_dg_cli.registry_modules"] == {
        "mixpanel_connector": "connector.engines.dagster"
    }
