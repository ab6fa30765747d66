"""The README's Prefect example runs as written against the sandbox (secrets and IDs swapped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector.sandbox import Sandbox

from ..readme import example, retarget
from ..scenario import events, exported, today

README_CREDENTIALS = 'username="svc.1234", password="…", projectToken="…", region="api-eu"'


def test_readme_flow_creates_a_profile_and_exports(
    harness: None, sandbox: Sandbox, tmp_path: Path
) -> None:
    from connector import load_component

    load_component(base_url=sandbox.base_url).run(
        "importEvents", {"project_id": sandbox.project_id, "events": events(2)}, sandbox.connection
    )
    code = retarget(example("Prefect"), sandbox.project_id, str(tmp_path))
    assert README_CREDENTIALS in code
    code = code.replace(README_CREDENTIALS, "**SANDBOX, base_url=SANDBOX_URL")
    namespace: dict[str, Any] = {
        "__name__": "readme_flow",
        "SANDBOX": sandbox.connection,
        "SANDBOX_URL": sandbox.base_url,
    }
    exec(code, namespace)
    result = namespace["nightly"](today())

    assert sandbox.store.profile("user-12345") == {"plan": "pro"}
    path = tmp_path / f"{today()}.jsonl"
    assert result == exported(str(path), 2)
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == 2
