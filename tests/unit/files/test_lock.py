"""One run at a time: the lock names its holder, goes with it, and never follows a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector import StateError
from connector.files.lock import held


def test_a_second_holder_is_refused_with_the_first_named(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.partial.lock"
    with held(path, "exporting to out.jsonl"):
        with pytest.raises(StateError) as raised, held(path, "another export"):
            pass  # pragma: no cover
        message = str(raised.value)
        assert f"process {os.getpid()} on " in message and "exporting to out.jsonl" in message
        assert raised.value.path == str(path)
    assert not path.exists()  # removed when the run ended
    with held(path, "the next run"):  # and free again
        assert "the next run" in path.read_text()


def test_a_link_at_the_lock_path_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    path = tmp_path / "out.lock"
    path.symlink_to(victim)
    with pytest.raises(StateError, match="lock file cannot be made"), held(path, "job"):
        pass  # pragma: no cover
    assert victim.read_text() == "keep me"


def test_an_unreadable_holder_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.lock"
    with held(path, "job"):
        path.write_text("not json")  # the holder has not written its name yet, say
        with pytest.raises(StateError, match="has not said who it is"), held(path, "job"):
            pass  # pragma: no cover
