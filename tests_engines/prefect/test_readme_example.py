"""The README's Prefect section runs as written against the sandbox it starts (only the port of
the sandbox and the export folder swapped)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from connector.sandbox import Sandbox

from ..readme import SAMPLE_DAY, example, load_sample_events, retarget, sandbox_options, shell
from ..scenario import exported

TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
ANALYTICS = "PREFECT_SERVER_ANALYTICS_ENABLED"


def test_readme_commands_give_the_temporary_server_time_to_start() -> None:
    commands = shell("Prefect")
    [line] = [c for c in commands if c.startswith(f"export {TIMEOUT}=")]
    assert int(line.split("=", 1)[1].split()[0]) > 30  # Prefect's default is 30 s
    run = next(i for i, c in enumerate(commands) if c.startswith("python "))
    assert commands.index(line) < run
    assert any(c.startswith("pip install -e '.[prefect]'") for c in commands[:run])


def test_readme_commands_quiet_prefect_s_telemetry_as_the_tests_do() -> None:
    commands = shell("Prefect")
    run = next(i for i, c in enumerate(commands) if c.startswith("python "))
    [line] = [c for c in commands if c.startswith(f"export {ANALYTICS}=")]
    assert commands.index(line) < run
    assert line.split("=", 1)[1].split()[0] == "false"
    from prefect.settings import get_current_settings

    assert get_current_settings().server.analytics_enabled is False  # in the tests too


def test_readme_saves_the_flow_outside_the_repository() -> None:
    commands = shell("Prefect")
    [run] = [c for c in commands if c.startswith("python ")]
    script = shlex.split(run)[1]
    assert script.startswith("~/") and script.endswith("/nightly.py")
    folder = script.rsplit("/", 1)[0]
    assert any(c.startswith(f"mkdir -p {folder}") for c in commands[: commands.index(run)])


def test_readme_block_points_at_the_readme_sandbox() -> None:
    code = example("Prefect")
    options = sandbox_options()
    for field, value in (
        ("username", options["username"]),
        ("password", options["password"]),
        ("projectToken", options["project_token"]),
    ):
        assert f'{field}="{value}"' in code
    assert 'base_url="http://127.0.0.1:8080"' in code


def test_readme_flow_creates_a_profile_and_exports(
    harness: None, readme_sandbox: Sandbox, tmp_path: Path
) -> None:

    sample = load_sample_events(readme_sandbox.base_url)  # the README's own command
    code = retarget(example("Prefect"), str(tmp_path), base_url=readme_sandbox.base_url)
    assert f'print(nightly("{SAMPLE_DAY}"))' in code  # what `python nightly.py` runs
    namespace: dict[str, Any] = {"__name__": "readme_flow"}
    exec(code, namespace)
    result = namespace["nightly"](SAMPLE_DAY)

    assert readme_sandbox.store.profile("user-12345") == {"plan": "pro"}
    path = tmp_path / f"{SAMPLE_DAY}.jsonl"
    assert result == exported(str(path), sample)
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == sample == 60
