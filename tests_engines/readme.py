"""The README's engine examples, pointed at the sandbox, so tests can run them as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
PROJECT_ID = "2891273"
DATA_DIR = "/data/mixpanel/"


def example(section: str, language: str = "python", index: int = 0) -> str:
    """The `index`th `language` block under the README heading `### <section>`."""
    text = README.read_text(encoding="utf-8")
    body = text.split(f"\n### {section}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    found = re.findall(rf"```{language}\n(.*?)```", body, re.S)
    assert len(found) > index, f"no {language} example #{index} under ### {section}"
    return str(found[index])


def retarget(code: str, project_id: str, data_dir: str) -> str:
    """The example with the sandbox's project and a temporary folder for exports."""
    assert PROJECT_ID in code and DATA_DIR in code
    return code.replace(PROJECT_ID, project_id).replace(DATA_DIR, data_dir.rstrip("/") + "/")
