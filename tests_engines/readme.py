"""The README's engine examples, read as written, so tests can run them against the sandbox."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
PROJECT_ID = "2891273"
DATA_DIR = "/tmp/mixpanel/"
SANDBOX_URL = "http://127.0.0.1:8080"


def _text() -> str:
    return README.read_text(encoding="utf-8")


def _section(heading: str) -> str:
    """The README's text under `heading` (## or ###) up to the next ## heading."""
    return _text().split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def _blocks(body: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", body, re.S)


def example(section: str, language: str = "python", index: int = 0) -> str:
    """The `index`th `language` block under the README heading `### <section>` (or `####`)."""
    text = _text()
    match = re.search(rf"\n(#{{3,4}}) {re.escape(section)}\n", text)
    assert match, f"no heading ### {section}"
    level = len(match.group(1))
    body = text[match.end() :]
    body = re.split(rf"\n#{{2,{level}}} ", body, maxsplit=1)[0]
    found = _blocks(body, language)
    assert len(found) > index, f"no {language} example #{index} under ### {section}"
    return str(found[index])


def shell(section: str) -> list[str]:
    """The command lines of the first shell block under `### <section>`."""
    found = _blocks(_section(f"### {section}"), "sh")
    assert found, f"no shell block under ### {section}"
    return [line for line in found[0].splitlines() if line.strip()]


def sandbox_options() -> dict[str, str]:
    """The options of the README's `mixpanel-connector sandbox` command for the engine examples."""
    [command] = [
        line
        for line in _blocks(_section("## Workflow engines"), "sh")[0].splitlines()
        if line.startswith("mixpanel-connector sandbox ")
    ]
    words = shlex.split(command)[2:]
    options = dict(zip(words[::2], words[1::2], strict=True))
    assert options["--port"] == SANDBOX_URL.rsplit(":", 1)[1]
    return {
        "project_id": options["--project-id"],
        "username": options["--username"],
        "password": options["--password"],
        "project_token": options["--project-token"],
    }


def exported_variable(section: str, name: str) -> Any:
    """The JSON value the section's shell block exports as `name` (e.g. an Airflow connection)."""
    prefix = f"export {name}="
    [line] = [line for line in shell(section) if line.startswith(prefix)]
    return json.loads(shlex.split(line[len("export ") :])[0].split("=", 1)[1])


def retarget(
    code: str, data_dir: str, base_url: str | None = None, *, project_id: str | None = None
) -> str:
    """The example with a temporary folder for exports and, if given, the sandbox's URL and id."""
    assert PROJECT_ID in code and DATA_DIR in code
    if project_id is not None:
        code = code.replace(PROJECT_ID, project_id)
    if base_url is not None:
        assert SANDBOX_URL in code
        code = code.replace(SANDBOX_URL, base_url)
    return code.replace(DATA_DIR, data_dir.rstrip("/") + "/")


def shell_blocks(section: str) -> list[list[str]]:
    """The command lines of every shell block under `### <section>` (or `####`)."""
    text = _text()
    match = re.search(rf"\n(#{{3,4}}) {re.escape(section)}\n", text)
    assert match, f"no heading ### {section}"
    body = re.split(rf"\n#{{2,{len(match.group(1))}}} ", text[match.end() :], maxsplit=1)[0]
    return [[line for line in b.splitlines() if line.strip()] for b in _blocks(body, "sh")]


SAMPLE_DAY = "2026-01-31"


def load_sample_events(sandbox_url: str) -> int:
    """Run the README's command that loads the sample events into the sandbox at `sandbox_url`.

    Returns how many events the sample file holds.
    """
    import os

    from connector.cli.main import main

    [line] = [
        line
        for line in _blocks(_section("## Workflow engines"), "sh")[1].splitlines()
        if "mixpanel-connector run importEvents" in line
    ]
    words = shlex.split(line)
    env = dict(w.split("=", 1) for w in words[: words.index("mixpanel-connector")])
    argv = words[words.index("mixpanel-connector") + 1 :]
    argv = [sandbox_url if w == SANDBOX_URL else w for w in argv]
    root = README.parent
    argv = [
        w.replace("events=examples/", f"events={root}/examples/") if w.startswith("events=") else w
        for w in argv
    ]
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main([*argv, "--quiet"]) == 0
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    path = root / "examples" / f"events-{SAMPLE_DAY}.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines())
