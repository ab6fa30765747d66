"""Follows the README's Dagster section as written, as a newcomer would, against its sandbox.

`python tools/readme_dagster.py` (CI runs it, `.ci/run`): in a throw-away home, the README's
setup commands (uv, `uvx create-dagster`, `uv add` of this clone, `dg scaffold defs`), its
defs.yaml, then its `dg check defs` and `dg launch` commands with the sandbox's URL, after the
README's command that loads the sample events. It fails unless every command succeeds, the
export holds the sample day's events, and no command warns of mismatched Dagster versions.
Needs the package index (it installs what the README installs) and bash.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import platformdirs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.sandbox import Sandbox  # noqa: E402
from tests_engines.readme import (  # noqa: E402
    DATA_DIR,
    SAMPLE_DAY,
    SANDBOX_URL,
    example,
    load_sample_events,
    sandbox_options,
    shell_blocks,
)

SECTION = "Dagster components"


def _bash(lines: list[str], env: dict[str, str], cwd: Path) -> str:
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800
    )
    output = done.stdout + done.stderr
    print(output[-4000:])
    if done.returncode != 0:
        raise SystemExit(f"the README's Dagster commands failed (exit {done.returncode})")
    return output


def main() -> int:
    setup, launch = shell_blocks(SECTION)[:2]
    with tempfile.TemporaryDirectory(prefix="readme-dagster-") as folder:
        home = Path(folder)
        env = {
            **os.environ,
            "HOME": str(home),
            # Keep the packages uv already downloaded (the engine tests' install), not the home.
            "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR")
            or platformdirs.user_cache_dir("uv", appauthor=False),
            "NO_COLOR": "1",
        }
        for name in list(env):
            if name.startswith("XDG_") or name.startswith("MIXPANEL_"):
                env.pop(name)
        # What this process runs itself (loading the sample events) keeps its spec cache, key
        # and budgets in that home too, not in the user's.
        os.environ.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
        os.environ.update({"XDG_STATE_HOME": str(home / ".local" / "state")})
        # The README's setup: `cd ~/my_project` and `. .venv/bin/activate` carry over, so the
        # scaffold runs in the project, as a reader typing them would.
        _bash(setup, env, ROOT)
        project = home / "my_project"
        defs = project / "src" / "my_project" / "defs" / "mixpanel" / "defs.yaml"
        assert defs.exists(), "dg scaffold defs made no defs.yaml"
        data = home / "exports"
        defs.write_text(example(SECTION, "yaml").replace(DATA_DIR, f"{data}/"), encoding="utf-8")
        with Sandbox(**sandbox_options()) as sandbox:
            count = load_sample_events(sandbox.base_url)
            lines = [". .venv/bin/activate"] + [
                line.replace(SANDBOX_URL, sandbox.base_url) for line in launch
            ]
            output = _bash(lines, env, project)
        exported = data / "events" / f"{SAMPLE_DAY}.jsonl"
        found = len(exported.read_text(encoding="utf-8").splitlines())
        if found != count:
            raise SystemExit(f"the export holds {found} events, not the sample's {count}")
        if "mismatch" in output.lower():
            raise SystemExit("a dg command warned of mismatched versions")
    print(f"README Dagster section: followed as written; {found} events exported.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
