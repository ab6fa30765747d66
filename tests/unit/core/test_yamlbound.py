"""Bounded YAML: size, alias expansion and depth caps; errors cite file:line:column only."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from connector.core.yamlbound import MAX_NODES, load_bounded
from connector.errors import YAMLProblem

# 9 levels of 9 aliases each: about 390 bytes standing for 9**9 (387 million) strings.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_an_alias_bomb_is_refused_quickly_and_without_memory(tmp_path: Path) -> None:
    path = tmp_path / "component.yaml"
    path.write_text(BOMB)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(YAMLProblem, match=f"expand past {MAX_NODES:,} nodes") as caught:
        load_bounded(path)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000
    assert caught.value.path == path and caught.value.line is not None


def test_aliases_within_the_cap_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1}\nuse: [*b, *b]\n")
    assert load_bounded(path).data == {"base": {"x": 1}, "use": [{"x": 1}, {"x": 1}]}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a: &a [*a]\n", "refers to a node that holds it"),
        ("[" * 300 + "]" * 300, "nests deeper than 200"),
        ("[" * 100_000, "YAML syntax error"),
    ],
)
def test_loops_and_deep_nesting_are_refused(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    with pytest.raises(YAMLProblem, match=why):
        load_bounded(path)


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("x: " + "y" * 2000)
    with pytest.raises(YAMLProblem, match="larger than 1 kB"):
        load_bounded(path, max_bytes=1024)


def test_a_syntax_error_cites_line_and_column_but_never_the_text(tmp_path: Path) -> None:
    path = tmp_path / "connection.yaml"
    path.write_text('username: u\npassword: "SECRETpw\\q-1"\n')
    with pytest.raises(YAMLProblem) as caught:
        load_bounded(path)
    assert (caught.value.line, caught.value.column) == (2, 20)
    assert "SECRET" not in str(caught.value) and "\\q" not in str(caught.value)
    assert str(caught.value).startswith(f"{path}, line 2, column 20: YAML syntax error")


def test_bytes_that_are_not_utf8_are_located(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"key: ok\nname: caf\xe9\n")
    with pytest.raises(YAMLProblem, match="not UTF-8") as caught:
        load_bounded(path)
    assert (caught.value.line, caught.value.column) == (2, 10)
