"""MixpanelResource.copy_to: a resource per project, events copied inside an asset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from connector.engines.dagster import MixpanelResource
from connector.sandbox import Sandbox

from ..scenario_copy import FROM, TO, check, seed


def _resource(sandbox: Sandbox, region: str) -> MixpanelResource:
    return MixpanelResource(
        username=sandbox.username,
        password=sandbox.password,
        projectToken=sandbox.project_token,
        region=region,
        base_url=sandbox.base_url,
    )


def test_an_asset_copies_the_range_between_two_projects(tmp_path: Path) -> None:
    with Sandbox() as source, Sandbox() as target:
        seed(source)
        seen: dict[str, Any] = {}

        @dg.asset
        def copied(us: MixpanelResource, eu: MixpanelResource) -> None:
            seen.update(
                us.copy_to(
                    eu,
                    from_date=FROM,
                    to_date=TO,
                    source_project_id=source.project_id,
                    target_project_id=target.project_id,
                    events=["Played"],
                    time_offset_hours=1.5,
                    state_path=str(tmp_path / "copy.json"),
                )
            )

        result = dg.materialize(
            [copied],
            resources={"us": _resource(source, "api"), "eu": _resource(target, "api-eu")},
        )
        assert result.success
        check(source, target, seen, 1.5)
