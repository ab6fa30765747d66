"""The connector's command line run against a `mixpanel-connector sandbox` started by a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def assert_lists_no_pipelines(base_url: str, fields: dict[str, str], **env: str) -> None:
    """`run listPipelines` for project 4242 with the printed credentials answers no pipeline."""
    environment = {
        **os.environ,
        **env,
        "MIXPANEL_USERNAME": fields["username"],
        "MIXPANEL_PASSWORD": fields["password"],
        "MIXPANEL_PROJECT_TOKEN": fields["project token"],
    }
    cli = [sys.executable, "-m", "connector.cli", "run", "listPipelines"]
    cli += ["--base-url", base_url, "--input", "project_id=4242"]
    done = subprocess.run(cli, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"data": {"4242": []}}
