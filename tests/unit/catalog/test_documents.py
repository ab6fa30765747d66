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


def test_an_overlay_that_is_not_utf8_is_a_spec_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "component.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_yaml(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 1)
    assert "column 10: is not UTF-8 text" in problem.message


def test_an_alias_bomb_in_an_overlay_fails_validate_with_the_file_named(tmp_path: Path) -> None:
    from connector.catalog import check_specs
    from tests.unit.core.test_yamlbound import BOMB

    (tmp_path / "component.yaml").write_text(BOMB)
    component, problems = check_specs(overlays=[tmp_path])
    assert component is None
    assert [p.file for p in problems] == [str(tmp_path / "component.yaml")]
    assert "aliases expand past" in problems[0].message
