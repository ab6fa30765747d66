"""Cold start: load the component (Python and CLI), send one Create Alias; against a bare script.

The bare script imports requests, yaml, jinja2 and jsonschema and posts the same form. Both
talk to a loopback HTTP server started here. The two commands alternate (hyperfine-like) after
warm-up runs, so drift on a noisy machine hits both; medians and their ratio come from the same
run. Prints a Markdown section and exits 0.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
WARMUP = 2
TARGET = 1.3
TOKEN = "TESTTOKENdeadbeef00112233445566"

CONNECTOR = """
import sys
from connector import load_component
component = load_component(base_url=sys.argv[1])
result = component.run(
    "createAlias",
    {"alias": "user-alias-67890", "distinct_id": "user-12345"},
    {"projectToken": sys.argv[2]},
)
assert result == {"data": 1}, result
"""
CLI = """
import sys
from connector.cli import main
sys.exit(main(["run", "createAlias", "--base-url", sys.argv[1], "--quiet",
               "-i", "alias=user-alias-67890", "-i", "distinct_id=user-12345"]))
"""
BARE = """
import json, sys
import jinja2, jsonschema, requests, yaml
event = {"event": "$create_alias",
         "properties": {"distinct_id": "user-12345", "alias": "user-alias-67890",
                        "token": sys.argv[2]}}
response = requests.post(sys.argv[1] + "/track", data={"data": json.dumps(event)}, timeout=10)
assert response.text == "1", response.text
"""


class _Track(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"1"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


# As after a wheel install (pip compiles every module): both commands may use .pyc files, so
# PYTHONDONTWRITEBYTECODE from the shell does not make only the connector compile from source.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["MIXPANEL_PROJECT_TOKEN"] = TOKEN  # where the CLI reads the connection from


def _time(script: str, url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", script, url, TOKEN],
        check=True,
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Track)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for _ in range(WARMUP):
            _time(CONNECTOR, url)
            _time(CLI, url)
            _time(BARE, url)
        connector, cli, bare = [], [], []
        for _ in range(ROUNDS):
            connector.append(_time(CONNECTOR, url))
            cli.append(_time(CLI, url))
            bare.append(_time(BARE, url))
    finally:
        server.shutdown()
    med_c, med_b = statistics.median(connector), statistics.median(bare)
    med_cli = statistics.median(cli)
    ratio, ratio_cli = med_c / med_b, med_cli / med_b
    print("## Cold start: load the component and send one Create Alias\n")
    print("| Command | Median (ms) | Min (ms) | Ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| bare script (imports + requests.post) | {med_b * 1000:.0f} | {min(bare) * 1000:.0f} "
        "| 1.00 |"
    )
    print(
        f'| `load_component()` + `run("createAlias")` | {med_c * 1000:.0f} | '
        f"{min(connector) * 1000:.0f} | {ratio:.2f} |"
    )
    print(
        f"| `mixpanel-connector run createAlias` (CLI, in-process `main`) | {med_cli * 1000:.0f} | "
        f"{min(cli) * 1000:.0f} | {ratio_cli:.2f} |"
    )
    met = ratio <= TARGET and ratio_cli <= TARGET
    print()
    print(
        f"{ROUNDS} alternating rounds after {WARMUP} warm-up rounds each (the warm-up fills the "
        "spec cache and writes .pyc files, as a wheel install would), loopback server, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs. "
        f"Target: ratio <= {TARGET} for both ({'met' if met else 'NOT met'})."
    )
    print(
        json.dumps(
            {
                "connector_ms": round(med_c * 1000),
                "bare_ms": round(med_b * 1000),
                "ratio": round(ratio, 2),
                "cli_ms": round(med_cli * 1000),
                "cli_ratio": round(ratio_cli, 2),
            }
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
