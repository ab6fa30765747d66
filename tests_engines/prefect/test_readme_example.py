"""The README's Prefect section runs as written against the sandbox it starts (only the port of
the sandbox and the export folder swapped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector.sandbox import Sandbox

from ..readme import example, retarget, sandbox_options, shell
from ..scenario import events, exported, today

TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def test_readme_commands_give_the_temporary_server_time_to_start() -> None:
    commands = shell("Prefect")
    [line] = [c for c in commands if c.startswith(f"export {TIMEOUT}=")]
    assert int(line.split("=", 1)[1].split()[0]) > 30  # Prefect's default is 30 s
    run = next(i for i, c in enumerate(commands) if c.startswith("python "))
    assert commands.index(line) < run
    assert any(c.startswith("pip install -e '.[prefect]'") for c in commands[:run])


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
    from connector import load_component

    load_component(base_url=readme_sandbox.base_url).run(
        "importEvents",
        {"project_id": readme_sandbox.project_id, "events": events(2)},
        readme_sandbox.connection,
    )
    code = retarget(example("Prefect"), str(tmp_path), base_url=readme_sandbox.base_url)
    namespace: dict[str, Any] = {"__name__": "readme_flow"}
    exec(code, namespace)
    result = namespace["nightly"](today())

    assert readme_sandbox.store.profile("user-12345") == {"plan": "pro"}
    path = tmp_path / f"{today()}.jsonl"
    assert result == exported(str(path), 2)
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == 2
