"""The README's "Scheduled syncs" commands, run as written against a sandbox with its options."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from connector.sandbox import Sandbox
from tests.conftest import ROOT

SECTION = "### Scheduled syncs: late events caught, each delivered once"
README_URL = "http://127.0.0.1:8080"


def _blocks(opening: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return re.findall(rf"```{opening}.*?)```", body, re.S)


def test_day_n_plus_3_delivers_the_late_event_of_day_n_once(tmp_path: Path) -> None:
    start, commands = _blocks("sh\n(")
    words = shlex.split(start)[2:]
    options = dict(zip(words[::2], words[1::2], strict=True))
    env = {**os.environ}
    with Sandbox(
        project_id=options["--project-id"],
        username=options["--username"],
        password=options["--password"],
        project_token=options["--project-token"],
    ) as sandbox:
        summaries = []
        for line in commands.splitlines():
            if line.startswith("export "):
                env.update(dict(w.split("=", 1) for w in shlex.split(line)[1:]))
                continue
            argv = shlex.split(line.replace(README_URL, sandbox.base_url))
            assert argv[0] == "mixpanel-connector"
            done = subprocess.run(
                [sys.executable, "-m", "connector.cli", *argv[1:]],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            if argv[1] == "sync":
                summaries.append(json.loads(done.stdout))
    shown = [line for line in _blocks("\n({")[0].splitlines() if line.strip()]
    for summary, line in zip(summaries, shown, strict=True):
        expected = json.loads(line.replace(", ...}", "}"))
        assert {k: summary[k] for k in expected} == expected
    delivered = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    ids = [event["properties"]["$insert_id"] for event in delivered]
    assert ids == ["ann-jan10", "bob-jan10"]  # Bob's, for January 10, arrived on day N+3
