from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from connector.files.checkpoint import (
    Checkpoint,
    checkpoint_key,
    default_checkpoint_path,
    file_identity,
)


def test_acknowledged_batches_survive_a_new_instance_and_are_removed_at_the_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cp" / "import.json"
    first = Checkpoint(path, "k1")
    assert first.load() == frozenset()
    for number in (0, 1, 2, 5, 7, 6):
        first.ack(number)
    assert json.loads(path.read_text())["acknowledged"] == [[0, 2], [5, 7]]
    again = Checkpoint(path, "k1")
    assert again.load() == {0, 1, 2, 5, 6, 7}
    again.remove()
    assert not path.exists()


def test_another_imports_checkpoint_or_a_damaged_one_skips_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "import.json"
    Checkpoint(path, "k1").ack(3)
    assert Checkpoint(path, "k2").load() == frozenset()
    assert "another import" in caplog.text
    path.write_text('{"version": 2, "key": "k1", "acknowledged": [[5, 2]]}')
    assert Checkpoint(path, "k1").load() == frozenset()
    path.write_text("[")
    assert Checkpoint(path, "k1").load() == frozenset()


def test_a_symlinked_checkpoint_is_neither_read_nor_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text('{"version": 2, "key": "k", "acknowledged": [[0, 9]]}')
    path = tmp_path / "import.json"
    path.symlink_to(victim)
    checkpoint = Checkpoint(path, "k")
    assert checkpoint.load() == frozenset()
    checkpoint.ack(1)
    assert not path.is_symlink()  # replaced by a file of its own
    assert json.loads(victim.read_text())["acknowledged"] == [[0, 9]]


def test_acks_from_many_threads_are_all_recorded(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "import.json", "k")
    threads = [
        threading.Thread(target=lambda n=n: [checkpoint.ack(n * 50 + i) for i in range(50)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Checkpoint(checkpoint.path, "k").load() == set(range(200))


def test_the_file_identity_changes_with_its_content_size_or_time(tmp_path: Path) -> None:
    data = tmp_path / "events.jsonl"
    data.write_bytes(b'{"a": 1}\n')
    same = file_identity(data)
    assert file_identity(data) == same
    data.write_bytes(b'{"a": 2}\n')
    os.utime(data, ns=(1, 1))
    changed = file_identity(data)
    assert changed != same
    os.utime(data, ns=(2, 2))
    assert file_identity(data) != changed


def test_the_key_covers_file_and_action_and_the_scope_the_rest(tmp_path: Path) -> None:
    key = checkpoint_key("file", "importEvents")
    assert key != checkpoint_key("file2", "importEvents")
    assert key != checkpoint_key("file", "other")
    path = default_checkpoint_path("app-connector", key)
    assert path.name == f"{key[:32]}.json" and path.parent.name == "checkpoints"
