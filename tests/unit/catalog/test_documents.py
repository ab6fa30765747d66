from __future__ import annotations

from pathlib import Path

import pytest

from connector.catalog.documents import escape_pointer, load_yaml
from connector.errors import SpecError


def test_lines_are_recorded_per_pointer(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("key: a\ninputs:\n  - key: x\n    label: X\n  - key: y\n")
    doc = load_yaml(path)
    assert doc.data["inputs"][1]["key"] == "y"
    assert doc.line_of("/key") == 1
    assert doc.line_of("/inputs/0/label") == 4
    assert doc.line_of("/inputs/1/key") == 5
    # A pointer below a leaf falls back to its nearest ancestor.
    assert doc.line_of("/inputs/1/key/extra") == 5


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("key: a\nlabel: [unclosed\nother: 1\n")
    with pytest.raises(SpecError) as caught:
        load_yaml(path)
    problem = caught.value.problems[0]
    assert problem.file.endswith("broken.yaml")
    assert problem.line is not None and problem.line >= 2
    assert "YAML syntax error" in problem.message


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("x: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(SpecError):
        load_yaml(path)


def test_escape_pointer() -> None:
    assert escape_pointer("a/b~c") == "a~1b~0c"
