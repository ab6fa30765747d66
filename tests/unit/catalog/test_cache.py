"""The checked-spec cache: used when every file is unchanged, never when anything differs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from connector import load_specs
from connector.catalog import cache as speccache
from connector.catalog import load as catalog
from connector.catalog.layers import spec_layers
from connector.catalog.load import check_specs, specs_root

ACTION = """\
key: ping
label: Ping
description: Asks whether the API is there.
inputs:
  - use: connection
request: {method: GET, url: "https://api.mixpanel.com/ping", auth: none}
sample: {data: ok}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(speccache.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    (tmp_path / "overlay" / "actions").mkdir(parents=True)
    (tmp_path / "overlay" / "actions" / "ping.yaml").write_text(ACTION)
    return tmp_path / "overlay"


def _no_checking(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> object:
        raise AssertionError("the specs were checked again")

    monkeypatch.setattr(catalog, "check_layers", refuse)


def _entry(cache: Path) -> Path:
    (entry,) = cache.glob("specs-*.pickle")
    return entry


def test_unchanged_specs_are_not_checked_again(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_specs(overlays=[overlay])
    assert _entry(cache).is_file()
    _no_checking(monkeypatch)
    assert load_specs(overlays=[overlay]) == first


def test_an_edited_spec_file_is_checked_and_used(cache: Path, overlay: Path) -> None:
    load_specs(overlays=[overlay])
    (overlay / "actions" / "ping.yaml").write_text(ACTION.replace("label: Ping", "label: Pong"))
    assert load_specs(overlays=[overlay]).actions["ping"].label == "Pong"
    assert len(list(cache.glob("specs-*.pickle"))) == 2


def test_the_key_covers_every_file_its_place_and_the_layer_order(
    overlay: Path, tmp_path: Path
) -> None:
    root = specs_root()
    base = speccache.cache_key(spec_layers(root, [overlay]))
    assert speccache.cache_key(spec_layers(root, [])) != base
    other = tmp_path / "other"
    (other / "data_sources").mkdir(parents=True)
    (other / "data_sources" / "ping.yaml").write_text(ACTION)
    assert speccache.cache_key(spec_layers(root, [other])) != base
    assert speccache.cache_key(spec_layers(root, [overlay, other])) != speccache.cache_key(
        spec_layers(root, [other, overlay])
    )
    (overlay / "actions" / "ping.yaml").write_text(ACTION + "\n")
    assert speccache.cache_key(spec_layers(root, [overlay])) != base


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-20],  # truncated
        lambda blob: blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:],  # one bit flipped
        lambda blob: b"",  # empty
        lambda blob: b"\x00" * len(blob),  # garbage
    ],
)
def test_a_corrupted_entry_is_ignored(cache: Path, overlay: Path, damage: object) -> None:
    fresh = load_specs(overlays=[overlay])
    entry = _entry(cache)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert load_specs(overlays=[overlay]) == fresh
    assert speccache.read(speccache.cache_key(spec_layers(specs_root(), [overlay]))) is not None


class Planted:
    """Not plain data: an entry holding it must never be loaded."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("code ran",))


def test_an_entry_holding_anything_but_plain_data_is_refused(
    cache: Path, overlay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = load_specs(overlays=[overlay])
    key = speccache.cache_key(spec_layers(specs_root(), [overlay]))
    payload = pickle.dumps({"component": Planted()})
    digest = str(speccache.entry_digest(key, payload)).encode()  # authentic, yet refused
    _entry(cache).write_bytes(key.encode() + b"\n" + digest + b"\n" + payload)
    assert speccache.read(key) is None
    assert load_specs(overlays=[overlay]) == fresh
    assert "code ran" not in capsys.readouterr().out


def test_an_entry_for_another_key_is_ignored(cache: Path, overlay: Path) -> None:
    load_specs(overlays=[overlay])
    key = speccache.cache_key(spec_layers(specs_root(), [overlay]))
    entry = _entry(cache)
    entry.write_bytes(entry.read_bytes().replace(key.encode(), b"0" * len(key), 1))
    assert speccache.read(key) is None


def test_validate_always_checks_everything(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with a (forged) entry for exactly these files, check_specs reads the files."""
    key = speccache.cache_key(spec_layers(specs_root(), [overlay]))
    resolved, problems = catalog.check_layers(spec_layers(specs_root(), [overlay]))
    assert resolved is not None and problems == []
    forged = {**resolved, "component": {**resolved["component"], "name": "Forged"}}
    speccache.write(key, forged)
    assert load_specs(overlays=[overlay]).name == "Forged"  # the cache is what load_specs uses
    component, _ = check_specs(overlays=[overlay])
    assert component is not None and component.name == "Mixpanel"


def test_an_unwritable_cache_folder_falls_back_to_checking(
    tmp_path: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(speccache.CACHE_ENV, str(blocker / "cache"))
    assert load_specs(overlays=[overlay]).actions["ping"].label == "Ping"
    assert load_specs(overlays=[overlay]).actions["ping"].label == "Ping"


def test_the_cache_can_be_switched_off(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(speccache.CACHE_ENV, "off")
    load_specs(overlays=[overlay])
    assert not cache.exists()


def test_a_broken_overlay_is_never_cached(cache: Path, overlay: Path) -> None:
    (overlay / "actions" / "ping.yaml").write_text(ACTION.replace("key: ping", "key: pong"))
    with pytest.raises(Exception, match="does not match the file name"):
        load_specs(overlays=[overlay])
    assert list(cache.glob("specs-*.pickle")) == []
    with pytest.raises(Exception, match="does not match the file name"):
        load_specs(overlays=[overlay])


def test_an_entry_over_the_size_cap_is_not_read(
    cache: Path, overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_specs(overlays=[overlay])
    entry = _entry(cache)
    with entry.open("ab") as handle:
        handle.truncate(speccache.MAX_ENTRY_BYTES + 1)  # sparse: no disk, no memory
    key = speccache.cache_key(spec_layers(specs_root(), [overlay]))
    read: list[int] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object) -> object:
        handle = real_open(self, *args, **kwargs)  # type: ignore[call-overload]
        if self == entry:
            real_read = handle.read
            handle.read = lambda n=-1: read.append(n) or real_read(n)  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(Path, "open", spy)
    assert speccache.read(key) is None
    assert read == []  # refused on its size, before reading
    monkeypatch.undo()
    monkeypatch.setenv(speccache.CACHE_ENV, str(cache))
    assert load_specs(overlays=[overlay]) == fresh
    assert _entry(cache).stat().st_size < speccache.MAX_ENTRY_BYTES, "rewritten"


@pytest.mark.parametrize(
    "shape",
    [
        {"component": [], "connection": {}, "operations": []},
        {"component": {}, "connection": {}, "operations": [{"kind": "action"}]},
        {"component": {"key": 1}, "connection": {"inputs": 3}, "operations": []},
    ],
)
def test_a_well_formed_entry_of_the_wrong_shape_is_ignored_and_rewritten(
    cache: Path, overlay: Path, shape: dict[str, object]
) -> None:
    fresh = load_specs(overlays=[overlay])
    key = speccache.cache_key(spec_layers(specs_root(), [overlay]))
    payload = pickle.dumps(shape)
    digest = str(speccache.entry_digest(key, payload)).encode()
    _entry(cache).write_bytes(key.encode() + b"\n" + digest + b"\n" + payload)
    assert load_specs(overlays=[overlay]) == fresh
    assert load_specs(overlays=[overlay]) == fresh
    assert speccache.read(key) is not None and speccache.read(key) != shape


def test_the_key_covers_every_runtime_subpackage_and_no_optional_part() -> None:
    sources = speccache.runtime_sources()
    folders = {name.rpartition("/")[0] for name in sources}
    package = Path(speccache.__file__).resolve().parents[1]
    subpackages = {
        p.parent.relative_to(package).as_posix() for p in package.rglob("__init__.py")
    } - {"."}
    optional = {f for f in subpackages if f.split("/")[0] in ("sandbox", "engines")}
    assert subpackages - optional <= folders
    assert not folders & optional
    assert {"call.py", "catalog/cache.py", "modes/batched/run.py", "send/attempts.py"} <= set(
        sources
    )
