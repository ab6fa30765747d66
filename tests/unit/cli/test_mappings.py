from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import mappings
from connector.cli.main import main
from connector.errors import InputError

SECRET = "s3cr3t-Value-9x"


def _error(path: Path, option: str = "--inputs") -> str:
    with pytest.raises(InputError) as caught:
        mappings.read_mapping(str(path), option)
    return str(caught.value)


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "inputs.json"
    path.write_text('{\n  "project_id": "1",\n  "password": ' + SECRET + "\n}\n")
    message = _error(path)
    assert f"{path}, line 3, column 15: not valid JSON: Expecting value" in message
    assert SECRET not in message and "<unicode string>" not in message


def test_malformed_yaml_names_file_line_and_column_never_the_content(tmp_path: Path) -> None:
    path = tmp_path / "connection.yaml"
    path.write_text(f'username: svc\npassword: "{SECRET}\n')
    message = _error(path, "--connection")
    assert f"{path}, line 3, column 1: not valid YAML:" in message
    assert SECRET not in message and "<unicode string>" not in message
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(f"password: !{SECRET} x\n")
    message = _error(tagged, "--connection")
    assert f"{tagged}, line 1, column 11" in message and SECRET not in message


def test_not_utf8_missing_too_large_and_not_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"a: 1\nb: \xff\xfe\n")
    assert f"{binary}, line 2, column 4: is not UTF-8 text" in _error(binary)
    missing = tmp_path / "none.yaml"
    assert f"cannot read {missing}: No such file or directory" in _error(missing)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    assert "must hold a mapping of KEY: VALUE (it holds a list)" in _error(listed)
    monkeypatch.setattr(mappings, "MAX_INPUT_BYTES", 8)
    big = tmp_path / "big.yaml"
    big.write_text("a: 123456789\n")
    assert "is larger than" in _error(big) and "--input-file" in _error(big)


def test_cli_prints_the_file_error_on_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "inputs.json"
    path.write_text('{"project_id": ' + SECRET + "}")
    assert main(["run", "listSavedFunnels", "--dry-run", "--inputs", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path}, line 1, column 16: not valid JSON" in err and SECRET not in err


@pytest.mark.parametrize("depth", [101, 5_000, 200_000])
def test_a_deep_json_inputs_file_is_bad_input_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    path = tmp_path / "inputs.json"
    path.write_text('{"project_id": "1", "x": ' + "[" * depth + "]" * depth + "}")
    assert main(["run", "listSavedFunnels", "--dry-run", "--inputs", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path} nests objects and arrays deeper than 100 levels at x[0][0]" in err
    assert "unexpected" not in err
