"""Cold start: a plain call imports only what it uses (a regression fails here, not in a benchmark).

Each case runs in a fresh interpreter against a loopback server, on the defaults (the budget
store left to its default), and prints the modules the call added to `sys.modules`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What a plain `run` must not load: progress bars, budget stores and their clients, file
#: readers and writers, the describe stage, and jsonschema (jsonschema-rs checks valid input;
#: jsonschema words a refusal only).
FORBIDDEN = (
    "tqdm",
    "sqlite3",
    "_sqlite3",
    "redis",
    "connector.budgets.sqlite_store",
    "connector.budgets.redis_store",
    "connector.describe",
    "connector.files",
    "connector.modes.batched",
    "jsonschema",
    "referencing",
)

_SERVER = """
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Track(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Track)
threading.Thread(target=server.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{server.server_address[1]}"
before = set(sys.modules)
"""
_PYTHON = """
from connector import load_component
component = load_component(base_url=URL)
result = component.run(
    "createAlias", {"alias": "a-1", "distinct_id": "d-1"}, {"projectToken": "TESTTOKENdeadbeef0011"}
)
assert result == {"data": 1}, result
"""
_CLI = """
import contextlib, io
from connector.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["run", "createAlias", "--base-url", URL, "--quiet",
                 "-i", "alias=a-1", "-i", "distinct_id=d-1"])
assert code == 0 and json.loads(out.getvalue()) == {"data": 1}, (code, out.getvalue())
"""
_BATCHED = """
from connector import load_component
component = load_component(base_url=URL)
props = {"time": 1700000000, "distinct_id": "d-1", "$insert_id": "i-1"}
events = [{"event": "e", "properties": props}]
result = component.run("importEvents", {"events": events, "project_id": "1"},
                       {"username": "u", "password": "p", "projectToken": "TESTTOKENdeadbeef0011"})
assert result["data"]["records_sent"] == 1, result
"""
_REPORT = """
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded(body: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "MIXPANEL_CONNECTOR_BUDGETS"}
    env["MIXPANEL_PROJECT_TOKEN"] = "TESTTOKENdeadbeef0011"
    done = subprocess.run(
        [sys.executable, "-c", _SERVER + body + _REPORT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def _forbidden(loaded: list[str]) -> list[str]:
    return [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


@pytest.mark.parametrize("body", [_PYTHON, _CLI], ids=["load_component-run", "cli-run"])
def test_a_plain_run_imports_none_of_what_it_does_not_use(body: str) -> None:
    loaded = _loaded(body)
    assert "connector.call" in loaded  # the call really ran in this interpreter
    assert _forbidden(loaded) == []


def test_a_batched_run_without_a_checkpoint_imports_no_file_locks_nor_jsonschema() -> None:
    # Both cost 0.1-0.2 s each before a short job's first request (portalocker imports the
    # redis client when it is installed); the records are checked apart from the other inputs.
    loaded = _loaded(_BATCHED)
    assert "connector.modes.batched.pool" in loaded
    kept = ("connector.modes.batched", "sqlite3", "_sqlite3", "connector.budgets.sqlite_store")
    batched = [m for m in _forbidden(loaded) if not m.startswith(kept)]  # kept: its limit
    assert batched == []
    assert "connector.budgets.file_slots" in loaded  # its slots were taken, without these:
    assert [m for m in loaded if m.split(".")[0] in ("portalocker", "redis", "asyncio")] == []


def test_the_guard_notices_a_forbidden_module() -> None:
    # The same check over a run that draws a progress bar, a file reader and jsonschema.
    loaded = _loaded(_PYTHON + "import tqdm, jsonschema, connector.files.input_files\n")
    assert {"tqdm", "jsonschema", "connector.files.input_files"} <= set(_forbidden(loaded))
