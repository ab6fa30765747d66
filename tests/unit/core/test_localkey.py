from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import stat
from pathlib import Path

import pytest

from connector.core import localkey
from connector.core.localkey import KEY_BYTES, LOCAL_KEY_ENV, key_path, keyed_digest, local_key
from connector.errors import StateError


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localkey, "_keys", {})


def test_created_once_private_and_stable(tmp_path: Path) -> None:
    where = tmp_path / "state" / "deeper" / "local.key"
    key = local_key(where)
    assert len(key) == KEY_BYTES and where.read_bytes() == key
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
    assert stat.S_IMODE(where.parent.stat().st_mode) == 0o700
    localkey._keys.clear()
    assert local_key(where) == key  # read back, not made again
    assert [p.name for p in where.parent.iterdir()] == ["local.key"]  # no temporary left


def test_each_user_folder_has_its_own_random_key(tmp_path: Path) -> None:
    assert local_key(tmp_path / "a.key") != local_key(tmp_path / "b.key")


def test_the_environment_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCAL_KEY_ENV, str(tmp_path / "k"))
    assert key_path() == tmp_path / "k"
    assert local_key() == (tmp_path / "k").read_bytes()


def test_default_is_in_the_user_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert key_path() == tmp_path / "mixpanel-connector" / "local.key"


@pytest.mark.parametrize(
    "plant",
    [
        pytest.param(lambda p: (p.write_bytes(b"k" * KEY_BYTES), p.chmod(0o644)), id="readable"),
        pytest.param(lambda p: (p.write_bytes(b"k" * KEY_BYTES), p.chmod(0o620)), id="writable"),
        pytest.param(lambda p: (p.write_bytes(b"short"), p.chmod(0o600)), id="short"),
        pytest.param(lambda p: (p.write_bytes(b"k" * 99), p.chmod(0o600)), id="long"),
        pytest.param(lambda p: p.symlink_to(p.with_name("elsewhere")), id="dangling-link"),
        pytest.param(lambda p: os.mkfifo(p, 0o600), id="fifo"),
        pytest.param(lambda p: p.mkdir(), id="folder"),
    ],
)
def test_an_untrustworthy_file_is_refused_and_left_alone(tmp_path: Path, plant: object) -> None:
    where = tmp_path / "local.key"
    plant(where)  # type: ignore[operator]
    before = os.lstat(where)
    with pytest.raises(StateError) as caught:
        local_key(where)
    assert str(where) in str(caught.value) and LOCAL_KEY_ENV in str(caught.value)
    assert os.lstat(where).st_mtime_ns == before.st_mtime_ns
    assert not (tmp_path / "elsewhere").exists()


def test_a_link_to_a_good_key_is_still_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.key"
    local_key(real)
    localkey._keys.clear()
    (tmp_path / "link.key").symlink_to(real)
    with pytest.raises(StateError, match="cannot be used"):
        local_key(tmp_path / "link.key")


def test_state_error_pickles() -> None:
    error = StateError("/x/y", "held by another run")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is StateError and str(back) == str(error) and back.path == "/x/y"


def _key_in_child(where: str, queue: multiprocessing.Queue[bytes]) -> None:
    localkey._keys.clear()
    queue.put(local_key(Path(where)))


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    where = str(tmp_path / "local.key")
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[bytes] = context.Queue()
    children = [context.Process(target=_key_in_child, args=(where, queue)) for _ in range(6)]
    for child in children:
        child.start()
    keys = {queue.get(timeout=30) for _ in children}
    for child in children:
        child.join(30)
    assert keys == {Path(where).read_bytes()}


def test_keyed_digest_is_an_hmac_with_framed_parts(tmp_path: Path) -> None:
    key = b"k" * KEY_BYTES
    one = keyed_digest("credential", "ab", "c", key=key)
    assert one != keyed_digest("credential", "a", "bc", key=key)
    assert one != keyed_digest("spec-cache", "ab", "c", key=key)
    assert one != keyed_digest("credential", "ab", "c", key=b"j" * KEY_BYTES)
    assert one == keyed_digest("credential", b"ab", "c", key=key)
    assert one != hashlib.sha256(b"abc").hexdigest()
    assert len(one) == 64 and int(one, 16) >= 0


def test_keyed_digest_uses_the_local_key_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_KEY_ENV, str(tmp_path / "local.key"))
    first = keyed_digest("credential", "secret")
    assert first == keyed_digest("credential", "secret", key=local_key())
    monkeypatch.setenv(LOCAL_KEY_ENV, str(tmp_path / "other.key"))
    assert keyed_digest("credential", "secret") != first
