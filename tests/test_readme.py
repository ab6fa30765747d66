"""The README leads a newcomer: contents first, sections in the order they need them, two
quick-start commands (the second is CI's), and every link and anchor in it and docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
# The order a newcomer needs the top-level sections in.
SECTIONS = [
    "Contents",
    "Quick start",
    "Connecting to a real project",
    "Running actions",
    "Moving data",
    "Migrations",
    "The sandbox",
    "Workflow engines",
    "Adding your own actions",
    "Errors, retries and limits",
    "Development",
]
TEST_COMMAND = "pip install -e '.[test]' && python -m pytest"
# Linked before it is written by the runtime's maintainers; listed so no other link may dangle.
PENDING = {"connector/README.md"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _headings(text: str, level: str) -> list[str]:
    return re.findall(rf"^{level} (.+)$", _prose(text), re.M)


def _prose(text: str) -> str:
    """The text without fenced code blocks (a `# comment` in a block is not a heading)."""
    return re.sub(r"```.*?```", "", text, flags=re.S)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_sections_come_in_the_order_a_newcomer_needs_them() -> None:
    assert _headings(README.read_text(encoding="utf-8"), "##") == SECTIONS


def test_the_contents_link_every_section() -> None:
    text = README.read_text(encoding="utf-8")
    contents = text.split("\n## Contents\n", 1)[1].split("\n## ", 1)[0]
    linked = set(re.findall(r"\]\(#([^)]+)\)", contents))
    assert {anchor(s) for s in SECTIONS[1:]} <= linked


def test_quick_start_is_two_commands_and_the_second_is_ci_s() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b.strip() for b in re.findall(r"```sh\n(.*?)```", quick, re.S)]
    assert len(blocks) == 2 and all("\n" not in b for b in blocks)
    assert blocks[1] == TEST_COMMAND
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_engine_sections_keep_a_place_for_yaml_workflows() -> None:
    text = README.read_text(encoding="utf-8")
    engines = text.split("\n## Workflow engines\n", 1)[1].split("\n## ", 1)[0]
    assert _headings(engines, "###")[:2] == ["Airflow", "Prefect"]
    assert "Workflows in YAML" in _headings(engines, "###")


def test_anchor_follows_github() -> None:
    assert anchor("Errors, retries and limits") == "errors-retries-and-limits"
    assert (
        anchor("Streaming exports and every page (`iter`, `--output`)")
        == "streaming-exports-and-every-page-iter---output"
    )


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_anchors_resolve(path: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, fragment = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        relative = linked.relative_to(ROOT).as_posix() if linked.is_relative_to(ROOT) else file
        if relative in PENDING:
            continue
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md":
            anchors = {anchor(h) for h in _headings(linked.read_text(encoding="utf-8"), "#+")}
            if fragment not in anchors:
                broken.append(target)
    assert broken == []


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: Any) -> None:
    import socket
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"the sandbox on {port} did not start")


def test_the_migrations_section_runs_as_written_against_two_sandboxes(tmp_path: Path) -> None:
    """Its commands, run as written in a folder of their own (only the ports are free ones)."""
    import json
    import os
    import shlex
    import shutil
    import subprocess
    import sys

    section = README.read_text(encoding="utf-8").split("\n## Migrations\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    ports = {"8081": str(_free_port()), "8082": str(_free_port())}
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for old, new in ports.items():
            block = block.replace(f"--port {old}", f"--port {new}").replace(f":{old}", f":{new}")
        blocks.append([line for line in block.splitlines() if line.strip()])
    assert len(blocks) == 3 and all(
        line.startswith("mixpanel-connector sandbox") for line in blocks[0]
    )
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    servers = [
        subprocess.Popen(shlex.split(line), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
        for line in blocks[0]
    ]
    try:
        for port, server in zip(ports.values(), servers, strict=True):
            _wait_for(int(port), server)
        outputs = []
        for line in blocks[1] + blocks[2]:
            done = subprocess.run(
                line,
                shell=True,
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, (line, done.stderr)
            outputs.append(done.stdout)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    copied = json.loads(outputs[3])["events"]
    assert copied["source"]["events_exported"] == 60
    assert copied["target"]["events_imported"] == 60
    assert json.loads(outputs[5])["data"]["records_imported"] == 3  # the Amplitude sample
