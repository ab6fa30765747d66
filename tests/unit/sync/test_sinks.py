"""The command line's file: appended and synced, cut back to the position a state recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector.errors import StateError
from connector.sync.runner import Checkpointed
from connector.sync.sinks import appending_jsonl


def test_a_file_is_cut_back_to_the_recorded_length(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with appending_jsonl(str(out)) as deliver:
        assert isinstance(deliver, Checkpointed)
        deliver([{"n": 1}])
        recorded = deliver.position()
        deliver([{"n": 2}])
    assert recorded["length"] == len(b'{"n":1}\n')
    with appending_jsonl(str(out)) as deliver:
        assert isinstance(deliver, Checkpointed)
        note = deliver.rewind(recorded)
        deliver([{"n": 3}])
    assert note is not None and "cut 8 bytes" in note
    assert out.read_bytes() == b'{"n":1}\n{"n":3}\n'


def test_nothing_recorded_or_nothing_past_it_leaves_the_file_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"mine":1}\n')
    with appending_jsonl(str(out)) as deliver:
        assert isinstance(deliver, Checkpointed)
        assert deliver.rewind(None) is None
        assert deliver.rewind(deliver.position()) is None
    assert out.read_bytes() == b'{"mine":1}\n'


@pytest.mark.parametrize("how", ["replaced", "shortened"])
def test_another_or_a_shorter_file_is_never_cut(tmp_path: Path, how: str) -> None:
    out = tmp_path / "out.jsonl"
    with appending_jsonl(str(out)) as deliver:
        assert isinstance(deliver, Checkpointed)
        deliver([{"n": 1}, {"n": 2}])
        recorded = deliver.position()
    if how == "replaced":
        os.replace(out, tmp_path / "old.jsonl")
        out.write_bytes(b'{"n":1}\n{"n":2}\n{"other":3}\n')
    else:
        out.write_bytes(b"{}\n")
    before = out.read_bytes()
    with appending_jsonl(str(out)) as deliver:
        assert isinstance(deliver, Checkpointed)
        note = deliver.rewind(recorded)
    assert (note is None) if how == "replaced" else (note is not None and "shorter" in note)
    assert out.read_bytes() == before


def test_standard_output_is_not_checkpointed() -> None:
    with appending_jsonl("-") as deliver:
        assert not isinstance(deliver, Checkpointed)


def test_a_second_run_on_the_same_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with appending_jsonl(str(out)), pytest.raises(StateError, match="another run"):
        with appending_jsonl(str(out)):
            pass
    assert not (tmp_path / "out.jsonl.lock").exists()
