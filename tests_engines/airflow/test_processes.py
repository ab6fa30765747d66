"""Airflow runs each task in its own process: their exports still share one rate budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connector.sandbox import Sandbox

from ..scenario import export_inputs
from .conftest import set_connection

TASK = """
import json, sys
from connector.engines.airflow.operators import MixpanelExportOperator
inputs, folder, worker = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
for run in range(2):
    path = f"{folder}/{worker}-{run}.jsonl"
    MixpanelExportOperator(task_id=f"export_{worker}_{run}", path=path, inputs=inputs).execute({})
"""


def test_task_processes_share_the_export_budget(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sandbox.faults.advertise_limits = False  # Mixpanel's documented limits hold here
    set_connection(monkeypatch, sandbox)  # the workers inherit it, and the budget store
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", TASK, json.dumps(export_inputs(sandbox)), str(tmp_path), str(n)],
        )
        for n in range(3)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    assert len(list(tmp_path.glob("*.jsonl"))) == 6
    starts = sorted(r["started"] for r in sandbox.store.requests())  # milliseconds
    assert len(starts) == 6
    # Three processes, six exports, Mixpanel's 3 per second: no 4 within one second at the server
    # (with MIXPANEL_CONNECTOR_BUDGETS=memory each process has its own budget and this fails).
    assert all(later - earlier >= 1000 for earlier, later in zip(starts, starts[3:], strict=False))
