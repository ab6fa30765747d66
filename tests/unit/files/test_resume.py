from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest

from connector.files.resume import ExportFile, inputs_digest
from connector.modes.windows import Window

JAN = Window(date(2024, 1, 1), date(2024, 1, 30))
FEB = Window(date(2024, 1, 31), date(2024, 2, 29))
MAR = Window(date(2024, 3, 1), date(2024, 3, 30))
BOUNDS = (date(2024, 1, 1), date(2024, 3, 30))
ID = inputs_digest("downloadData", {"from_date": "2024-01-01", "to_date": "2024-03-30"})


def _lines(*names: str) -> io.BytesIO:
    return io.BytesIO(b"".join(json.dumps({"event": n}).encode() + b"\n" for n in names))


def test_windows_are_kept_and_the_file_appears_only_at_the_end(tmp_path: Path) -> None:
    export = ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS)
    assert export.open() == []
    export.keep(JAN, _lines("a", "b"), 2)
    export.keep(FEB, _lines("c"), 1)
    assert not export.target.exists()
    state = json.loads(export.state.read_text())
    assert state["windows"] == [JAN.to_list(), FEB.to_list()] and state["records"] == 3
    size = export.finish()
    assert export.target.read_bytes().splitlines() == [
        b'{"event": "a"}',
        b'{"event": "b"}',
        b'{"event": "c"}',
    ]
    assert size == export.target.stat().st_size
    assert not export.partial.exists() and not export.state.exists()


def test_a_rerun_keeps_the_recorded_windows_and_drops_a_torn_tail(tmp_path: Path) -> None:
    first = ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS)
    first.open()
    first.keep(JAN, _lines("a", "b"), 2)
    first.close()
    with open(first.partial, "ab") as torn:  # a crash while the next window was appended
        torn.write(b'{"event": "c"}\n{"ev')
    again = ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS)
    assert again.open() == [JAN]
    assert again.records == 2
    again.keep(FEB, _lines("c"), 1)
    again.finish()
    assert [json.loads(x)["event"] for x in again.target.read_bytes().splitlines()] == [
        "a",
        "b",
        "c",
    ]


def test_other_inputs_start_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS)
    first.open()
    first.keep(JAN, _lines("a"), 1)
    first.close()
    other = ExportFile(tmp_path / "out.jsonl", inputs_digest("downloadData", {"x": 1}))
    assert other.open() == []
    assert "written for other inputs" in caplog.text
    other.keep(MAR, _lines("z"), 1)
    other.finish()
    assert other.target.read_bytes() == b'{"event": "z"}\n'


@pytest.mark.parametrize("damage", ["garbage", "shorter", "symlink"])
def test_a_damaged_state_starts_over(tmp_path: Path, damage: str) -> None:
    first = ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS)
    first.open()
    first.keep(JAN, _lines("a"), 1)
    first.close()
    if damage == "garbage":
        first.state.write_text("{not json")
    elif damage == "shorter":
        first.partial.write_bytes(b"{")
    else:
        elsewhere = tmp_path / "elsewhere.json"
        elsewhere.write_bytes(first.state.read_bytes())
        first.state.unlink()
        first.state.symlink_to(elsewhere)
    again = ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS)
    assert again.open() == []
    assert again.partial.stat().st_size == 0


def test_the_partial_file_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    (tmp_path / "out.jsonl.partial").symlink_to(victim)
    with pytest.raises(OSError):
        ExportFile(tmp_path / "out.jsonl", ID, bounds=BOUNDS).open()
    assert victim.read_bytes() == b"keep me"


def test_gzip_windows_are_members_every_reader_joins(tmp_path: Path) -> None:
    first = ExportFile(tmp_path / "out.jsonl.gz", ID, bounds=BOUNDS)
    first.open()
    first.keep(JAN, _lines("a"), 1)
    first.close()
    again = ExportFile(tmp_path / "out.jsonl.gz", ID, bounds=BOUNDS)
    assert again.open() == [JAN]
    again.keep(FEB, _lines("b", "c"), 2)
    again.finish()
    with gzip.open(again.target, "rb") as packed:
        assert [json.loads(x)["event"] for x in packed.read().splitlines()] == ["a", "b", "c"]


def test_the_digest_covers_the_action_and_every_input() -> None:
    assert inputs_digest("a", {"x": 1, "y": 2}) == inputs_digest("a", {"y": 2, "x": 1})
    assert inputs_digest("a", {"x": 1}) != inputs_digest("b", {"x": 1})
    assert inputs_digest("a", {"x": 1}) != inputs_digest("a", {"x": 2})
