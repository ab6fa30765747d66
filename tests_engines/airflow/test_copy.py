"""MixpanelCopyOperator: two connections, events copied with a time offset, XCom the counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.engines.airflow.operators import MixpanelCopyOperator
from connector.sandbox import Sandbox

from ..scenario_copy import FROM, TO, check, seed


def _connection(monkeypatch: pytest.MonkeyPatch, name: str, sandbox: Sandbox, region: str) -> None:
    value = {
        "conn_type": "mixpanel",
        "host": sandbox.base_url,
        "extra": {**sandbox.connection, "region": region},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(value))


def test_the_copy_operator_copies_the_range_between_two_connections(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Sandbox() as source, Sandbox() as target:
        seed(source)
        _connection(monkeypatch, "mixpanel_us", source, "api")
        _connection(monkeypatch, "mixpanel_eu", target, "api-eu")
        op = MixpanelCopyOperator(
            task_id="copy",
            source_conn_id="mixpanel_us",
            target_conn_id="mixpanel_eu",
            from_date=FROM,
            to_date=TO,
            source_project_id=source.project_id,
            target_project_id=target.project_id,
            events=["Played"],
            time_offset_hours=-5,
            state_path=str(tmp_path / "copy.json"),
        )
        check(source, target, op.execute({}), -5)
