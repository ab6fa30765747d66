"""The built wheel carries the specs and schema, and works outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_ships_specs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = tmp_path.glob("mixpanel_connector-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").rglob("*.yaml")}
    assert {f"connector/{name}" for name in shipped} <= names
    assert "connector/schemas/spec.schema.yaml" in names
    assert "connector/specs/schemas/operation.schema.json" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import connector, json; c = connector.load_component();"
        "print(connector.catalog.specs_root());"
        "print(len(c.spec.actions), len(c.spec.data_sources))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {script}"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert out[0] == str(site / "connector" / "specs")
    # Every spec of the checkout, and nothing else, is shipped.
    actions = len(list((ROOT / "specs" / "actions").glob("*.yaml")))
    sources = len(list((ROOT / "specs" / "data_sources").glob("*.yaml")))
    assert out[1] == f"{actions} {sources}"
