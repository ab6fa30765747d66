"""The spec cache at start: its key found from stat data, its operations built on first use."""

from __future__ import annotations

import copy
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from connector import load_specs
from connector.catalog import blobs, lazy, stamps
from connector.catalog import cache as speccache
from connector.catalog import load as catalog
from connector.catalog.layers import spec_layers
from connector.catalog.load import check_layers, specs_root
from connector.core import localkey
from tests.unit.catalog.test_cache import ACTION


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(speccache.CACHE_ENV, str(folder))
    monkeypatch.setenv(localkey.LOCAL_KEY_ENV, str(tmp_path / "state" / "local.key"))
    return folder


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    (tmp_path / "overlay" / "actions").mkdir(parents=True)
    (tmp_path / "overlay" / "actions" / "ping.yaml").write_text(ACTION)
    return tmp_path / "overlay"


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    original = lazy.build_operation

    def counting(entry: dict[str, Any], reads: dict[str, Any]) -> Any:
        built.append(entry["data"]["key"])
        return original(entry, reads)

    monkeypatch.setattr(lazy, "build_operation", counting)
    return built


def test_a_cached_start_builds_only_the_operations_looked_up(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_specs()
    built = _count_builds(monkeypatch)
    spec = load_specs()
    assert built == []
    assert "createAlias" in spec.actions and len(spec.actions) == len(fresh.actions)
    assert list(spec.actions) == list(fresh.actions)
    assert spec.actions["createAlias"] == fresh.actions["createAlias"]
    assert spec.operation("createAlias") is spec.actions["createAlias"]  # built once, kept
    assert built == ["createAlias"]
    assert spec == fresh  # compares every operation, so builds the rest
    assert sorted(built) == sorted([*fresh.actions, *fresh.data_sources])


def test_lazy_operations_pickle_and_copy_as_plain_dicts(cache: Path) -> None:
    load_specs()
    spec = load_specs()
    assert isinstance(spec.actions, lazy.LazyOperations)
    assert pickle.loads(pickle.dumps(spec.actions)) == dict(spec.actions)
    assert type(copy.deepcopy(spec.data_sources)) is dict


def _valid_entry(folder: Path, key: str, resolved: dict[str, Any]) -> None:
    payload = pickle.dumps(resolved, protocol=pickle.HIGHEST_PROTOCOL)
    digest = str(speccache.entry_digest(key, payload)).encode()
    (folder / f"specs-{key[:32]}.pickle").write_bytes(
        key.encode() + b"\n" + digest + b"\n" + payload
    )


class Planted:
    """Not plain data: an operation holding it must never be loaded."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("code ran",))


def test_a_packed_operation_that_widens_trust_or_is_not_plain_data_is_rebuilt(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = load_specs()
    layers = spec_layers(specs_root(), ())
    key = speccache.cache_key(layers)
    resolved, _ = check_layers(layers)
    assert resolved is not None
    planted = copy.deepcopy(resolved)
    funnels = next(e for e in planted["operations"] if e["data"]["key"] == "listSavedFunnels")
    funnels["data"]["request"]["url"] = "http://127.0.0.1:8765/api/query/funnels/list"
    funnels["data"]["request"]["allow_any_host"] = True
    packed = lazy.packed(planted)
    alias = next(s for s in packed["operations"] if s["key"] == "createAlias")
    alias["blob"] = pickle.dumps({"kind": "action", "data": Planted()})
    _valid_entry(cache, key, packed)
    spec = load_specs()
    assert spec.actions["listSavedFunnels"] == fresh.actions["listSavedFunnels"]
    assert spec.actions["createAlias"] == fresh.actions["createAlias"]
    assert "code ran" not in capsys.readouterr().out
    rewritten = speccache.read(key)  # checked again from the files and stored anew
    assert rewritten is not None and b"127.0.0.1" not in pickle.dumps(rewritten)
    (entry,) = cache.glob("specs-*.pickle")
    assert b"127.0.0.1" not in entry.read_bytes()  # nor in an operation after the index


def test_unchanged_files_are_not_read_for_the_key(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speccache, "SETTLED_NS", 0)
    first = load_specs(overlays=[overlay])
    assert len(list(cache.glob("keys-*"))) == 1

    def refuse(layers: object) -> str:
        raise AssertionError("the files' content was read")

    monkeypatch.setattr(speccache, "cache_key", refuse)
    monkeypatch.setattr(catalog, "check_layers", refuse)
    assert load_specs(overlays=[overlay]) == first


def test_an_edit_in_place_that_keeps_size_and_mtime_is_never_served_stale(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speccache, "SETTLED_NS", 0)
    assert load_specs(overlays=[overlay]).actions["ping"].label == "Ping"
    before = speccache.quick_key(spec_layers(specs_root(), [overlay]))
    path = overlay / "actions" / "ping.yaml"
    info = path.stat()
    path.write_text(ACTION.replace("label: Ping", "label: Pung"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # the ctime still moves
    assert path.stat().st_size == info.st_size
    # The folder's times did not move: a start finds the same entry, and reads no spec file...
    assert speccache.quick_key(spec_layers(specs_root(), [overlay])) == before
    # ...but the operation is looked at when first used, and checked again from the files.
    assert load_specs(overlays=[overlay]).actions["ping"].label == "Pung"
    after = speccache.quick_key(spec_layers(specs_root(), [overlay]))
    assert after != before and after == speccache.cache_key(spec_layers(specs_root(), [overlay]))

    def refuse(*args: object) -> object:
        raise AssertionError("the specs were checked again")

    monkeypatch.setattr(catalog, "check_layers", refuse)  # the next start uses the new entry
    assert load_specs(overlays=[overlay]).actions["ping"].label == "Pung"


def test_a_start_looks_at_no_operation_file_until_the_operation_is_used(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speccache, "SETTLED_NS", 0)
    load_specs()
    looked: list[str] = []
    original = stamps._stat_row

    def spy(path: str) -> tuple[int, int, int, int, int]:
        looked.append(Path(path).name)
        return original(path)

    monkeypatch.setattr(stamps, "_stat_row", spy)
    spec = load_specs()
    assert looked == []
    assert spec.actions["createAlias"].key == "createAlias"
    assert looked == ["createAlias.yaml"]


def test_files_changed_just_now_are_keyed_by_content_until_settled(
    cache: Path, overlay: Path
) -> None:
    layers = spec_layers(specs_root(), [overlay])
    assert speccache.quick_key(layers) == speccache.cache_key(layers)
    assert list(cache.glob("keys-*")) == []  # ping.yaml was written within SETTLED_NS


def test_a_forged_index_entry_is_ignored(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speccache, "SETTLED_NS", 0)
    layers = spec_layers(specs_root(), [overlay])
    key = speccache.quick_key(layers)
    (index,) = cache.glob("keys-*")
    fingerprint, _, digest = index.read_text().split("\n")
    index.write_text(f"{fingerprint}\n{'0' * len(key)}\n{digest}")
    assert speccache.quick_key(layers) == key


def test_a_start_reads_the_index_only_and_each_operation_when_first_used(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_specs()
    fetched: list[int] = []
    original = blobs.Blobs.fetch

    def counting(self: blobs.Blobs, record: blobs.Record) -> tuple[Any, bytes]:
        fetched.append(record[2])
        return original(self, record)

    monkeypatch.setattr(blobs.Blobs, "fetch", counting)
    read: list[int] = []
    real_read = speccache.DataOnly.load

    def measuring(self: Any) -> Any:
        data = real_read(self)
        read.append(len(pickle.dumps(data)))
        return data

    monkeypatch.setattr(speccache.DataOnly, "load", measuring)
    spec = load_specs()
    assert fetched == []
    (entry,) = cache.glob("specs-*.pickle")
    assert read and read[0] < entry.stat().st_size / 4  # the index, not every operation
    assert spec.actions["createAlias"] == fresh.actions["createAlias"]
    assert len(fetched) == 1


def test_an_operation_changed_after_its_index_is_refused_and_rebuilt(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = load_specs()
    (entry,) = cache.glob("specs-*.pickle")
    key, header, rest = entry.read_bytes().split(b"\n", 2)
    length = int(header.split(b" ")[1])
    index = pickle.loads(rest[:length])
    _, _, at, size, _ = next(r for r in index["operations"] if r[1] == "listSavedFunnels")
    start = length + at
    blob = rest[start : start + size]
    stamped = pickle.loads(blob)  # the stamps of its files, and the operation
    operation = pickle.loads(stamped["blob"])
    operation["data"]["request"]["url"] = "http://127.0.0.1:8765/x"
    stamped["blob"] = pickle.dumps(operation, protocol=pickle.HIGHEST_PROTOCOL)
    moved = pickle.dumps(stamped, protocol=pickle.HIGHEST_PROTOCOL)
    planted = rest[:start] + moved + rest[start + size :]
    entry.write_bytes(key + b"\n" + header + b"\n" + planted)  # the index, still authentic
    spec = load_specs()
    assert spec.actions["listSavedFunnels"] == fresh.actions["listSavedFunnels"]
    assert spec == fresh
    assert b"127.0.0.1" not in entry.read_bytes()  # checked again from the files, stored anew
