"""The copy_project task: one block per project, events copied with a time offset."""

from __future__ import annotations

from pathlib import Path

from connector.engines.prefect import MixpanelCredentials, copy_project
from connector.sandbox import Sandbox

from ..scenario_copy import FROM, TO, check, seed


def _block(sandbox: Sandbox, region: str) -> MixpanelCredentials:
    return MixpanelCredentials(
        username=sandbox.username,
        password=sandbox.password,
        projectToken=sandbox.project_token,
        region=region,
        base_url=sandbox.base_url,
    )


def test_copy_project_copies_the_range_between_two_projects(tmp_path: Path) -> None:
    with Sandbox() as source, Sandbox() as target:
        seed(source)
        summary = copy_project.fn(
            _block(source, "api"),
            _block(target, "api-eu"),
            FROM,
            TO,
            source_project_id=source.project_id,
            target_project_id=target.project_id,
            events=["Played"],
            time_offset_hours=-2,
            state_path=str(tmp_path / "copy.json"),
        )
        check(source, target, summary, -2)
