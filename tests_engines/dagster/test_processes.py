"""Dagster's multiprocess executor runs each step in its own process: they share one rate budget."""

from __future__ import annotations

from pathlib import Path

import yaml

from connector import load_component
from connector.sandbox import Sandbox

from .conftest import connection_env, day, dg, events_on, make_project

EXPORTS = [f"export_{n}" for n in range(5)]
HOURLY = 3  # the export budget's hour, scaled down from Mixpanel's 60 so a run can use it up
DEFS = "type: connector.engines.dagster.MixpanelComponent\nattributes:\n  exports:\n" + "".join(
    f"    - name: {name}\n"
    f"      path: {{root}}/{name}/{{{{date}}}}.jsonl\n"
    '      start_date: "2026-01-01"\n'
    "      inputs:\n"
    '        project_id: "{project}"\n'
    for name in EXPORTS
)
EXPORT_LIMIT = {
    "label": "Raw Export API",
    "unit": "queries",
    "scope": "project",
    "per_hour": HOURLY,
    "per_second": 3,
}


def test_export_steps_in_separate_processes_share_the_export_budget(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.faults.advertise_limits = False  # Mixpanel's documented limits hold here
    seed = load_component(base_url=sandbox.base_url)
    sent = events_on(1, 2, "p")
    seed.run("importEvents", {"project_id": sandbox.project_id, "events": sent}, sandbox.connection)
    before = len(sandbox.store.requests())
    make_project(tmp_path, DEFS.format(root=tmp_path, project=sandbox.project_id))
    overlay = tmp_path / "specs"
    overlay.mkdir()
    (overlay / "component.yaml").write_text(
        yaml.safe_dump({"rate_limits": {"export": EXPORT_LIMIT}})
    )
    env = {
        **connection_env(sandbox),
        "MIXPANEL_CONNECTOR_SPECS": str(overlay),
        # A budget file of this test's own, in the default store (SQLite: every process here).
        "MIXPANEL_CONNECTOR_BUDGETS": f"sqlite:///{tmp_path / 'budgets.sqlite3'}",
    }
    selection = ",".join(f"mixpanel/{name}" for name in EXPORTS)
    # The default executor (multiprocess) with its default settings.
    done = dg(tmp_path, "launch", "--assets", selection, "--partition", day(1), env=env)

    import dagster as dg_api

    with dg_api.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        (run,) = instance.get_runs()
        events = instance.all_logs(run.run_id)
    by_type: dict[str, list[object]] = {}
    for event in events:
        if event.dagster_event is not None:
            by_type.setdefault(event.dagster_event_type, []).append(event.dagster_event)
    assert len({e.pid for e in by_type["STEP_START"]}) == len(EXPORTS)  # one process per step
    # Every step drew on one budget of 3 exports an hour: 3 ran, the others were refused by the
    # client before sending (with a budget per process, all 5 would have reached the server).
    assert len(by_type["STEP_SUCCESS"]) == HOURLY
    failures = [e.event_specific_data.error for e in by_type["STEP_FAILURE"]]
    assert len(failures) == len(EXPORTS) - HOURLY
    for error in failures:
        # BudgetExceeded, a RateLimitError: the client's refusal, saying when the hour frees up.
        assert error.cause.cls_name == "BudgetExceeded", error.to_string()
        assert "Raw Export API budget of 3 queries per hour" in error.cause.message
    assert done.returncode != 0
    requests = sandbox.store.requests()[before:]
    assert [r["path"] for r in requests] == ["/api/2.0/export"] * HOURLY
    written = [p for name in EXPORTS for p in (tmp_path / name).glob("*.jsonl")]
    assert len(written) == HOURLY
