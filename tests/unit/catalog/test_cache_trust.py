"""A planted spec-cache entry never widens trust: authenticated per user, and re-checked.

The entry's key is computable from the package, so anyone who can write to a shared cache folder
can put an entry under it. Each planted entry below adds a trusted host and points an action at
it (or lets it send credentials anywhere, or renders a secret into it); it is written either as
the cache wrote entries before (an unkeyed SHA-256), under another user's key, or with a valid
digest under this user's key (as if the key had leaked). Every one is refused and rebuilt: the
specs equal a fresh check, the dry run calls nothing at 127.0.0.1 trusted, and no Basic header
is handed to the transport for 127.0.0.1.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector import Component, load_specs
from connector.budgets.memory import BudgetRegistry
from connector.catalog import cache as speccache
from connector.catalog.layers import spec_layers
from connector.catalog.load import check_layers, check_specs, specs_root
from connector.core import localkey
from connector.prepare.request import HTTPRequest
from connector.send.response import RawResponse
from tests.conftest import TEST_CONNECTION

PLANTED = "http://127.0.0.1:8765"
FUNNELS = "listSavedFunnels"
INPUTS = {"project_id": "2891273"}

Change = Callable[[dict[str, Any]], None]


def _op(resolved: dict[str, Any], key: str = FUNNELS) -> dict[str, Any]:
    return next(e["data"] for e in resolved["operations"] if e["data"]["key"] == key)


def _add_host_and_move(resolved: dict[str, Any]) -> None:
    resolved["component"]["trusted_hosts"].append("http://127.0.0.1:*")
    _op(resolved)["request"]["url"] = f"{PLANTED}/api/query/funnels/list"


def _allow_any_host(resolved: dict[str, Any]) -> None:
    request = _op(resolved)["request"]
    request["url"], request["allow_any_host"] = f"{PLANTED}/api/query/funnels/list", True


def _switch_on_a_text_input(resolved: dict[str, Any]) -> None:
    request = _op(resolved)["request"]
    request["url"] = f"{PLANTED}/api/query/funnels/list"
    request["allow_any_host"] = "{{ project_id }}"  # any project id turns it on


def _render_the_secret(resolved: dict[str, Any]) -> None:
    request = _op(resolved)["request"]
    request["url"] = f"{PLANTED}/api/query/funnels/list"
    request["allow_any_host"] = True
    request["query"] = {"t": "{{ connection.password }}"}


def _widening_notes(resolved: dict[str, Any]) -> None:
    _add_host_and_move(resolved)
    for entry in resolved["operations"]:
        entry["widened"] = ["overlay.yaml: /trusted_hosts: adds trusted host(s)"]


CHANGES: dict[str, Change] = {
    "adds a trusted host and moves one URL there": _add_host_and_move,
    "allow_any_host true": _allow_any_host,
    "allow_any_host on a text input": _switch_on_a_text_input,
    "renders the password into a moved URL": _render_the_secret,
    "carries widening notes": _widening_notes,
}


def _unkeyed(key: str, payload: bytes) -> bytes:
    return hashlib.sha256(payload).hexdigest().encode()  # what the cache accepted before


def _other_users(key: str, payload: bytes) -> bytes:
    return localkey.keyed_digest(speccache.PURPOSE, key, payload, key=os.urandom(32)).encode()


def _this_users(key: str, payload: bytes) -> bytes:
    return str(speccache.entry_digest(key, payload)).encode()


SIGNERS = {"unkeyed sha256": _unkeyed, "another user's key": _other_users, "valid": _this_users}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shared-cache"
    monkeypatch.setenv(speccache.CACHE_ENV, str(folder))
    monkeypatch.setenv(localkey.LOCAL_KEY_ENV, str(tmp_path / "state" / "local.key"))
    return folder


def _plant(folder: Path, change: Change, sign: Callable[[str, bytes], bytes]) -> str:
    layers = spec_layers(specs_root(), ())
    key = speccache.cache_key(layers)
    resolved, problems = check_layers(layers)
    assert resolved is not None and not problems
    planted = copy.deepcopy(resolved)
    change(planted)
    payload = pickle.dumps(planted, protocol=pickle.HIGHEST_PROTOCOL)
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / f"specs-{key[:32]}.pickle"
    entry.write_bytes(key.encode() + b"\n" + sign(key, payload) + b"\n" + payload)
    return key


class Recorder:
    """A transport that records what it is handed (URL, Authorization) and answers `[]`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []

    def send(self, request: HTTPRequest, authorization: str | None) -> RawResponse:
        self.sent.append((request.url, authorization))
        return RawResponse(200, {"content-type": "application/json"}, b"[]")


@pytest.mark.parametrize("sign", list(SIGNERS), ids=str)
@pytest.mark.parametrize("change", list(CHANGES), ids=str)
def test_a_planted_entry_is_refused_and_rebuilt(cache: Path, change: str, sign: str) -> None:
    key = _plant(cache, CHANGES[change], SIGNERS[sign])
    spec = load_specs()
    fresh, _ = check_specs()
    assert spec == fresh
    assert spec.trusted_hosts == ("mixpanel.com", "*.mixpanel.com") or list(spec.trusted_hosts) == [
        "mixpanel.com",
        "*.mixpanel.com",
    ]
    # The entry was rewritten from the spec files, authenticated for this user.
    rewritten = speccache.read(key)
    assert rewritten is not None and "127.0.0.1" not in json.dumps(rewritten, default=str)

    recorder = Recorder()
    component = Component(spec, transport=recorder, rate_registry=BudgetRegistry())  # type: ignore[arg-type]
    shown = json.dumps(component.preview(FUNNELS, INPUTS, TEST_CONNECTION))
    assert "127.0.0.1" not in shown and "(trusted host mixpanel.com)" in shown
    component.run(FUNNELS, INPUTS, TEST_CONNECTION)
    assert recorder.sent and all("127.0.0.1" not in url for url, _ in recorder.sent)


def test_the_issue_case_end_to_end(cache: Path) -> None:
    """The entry as found: a trusted host added, one URL moved, an unkeyed checksum."""
    _plant(cache, _add_host_and_move, _unkeyed)
    recorder = Recorder()
    component = Component(load_specs(), transport=recorder, rate_registry=BudgetRegistry())  # type: ignore[arg-type]
    assert "trusted host http://127.0.0.1" not in json.dumps(
        component.preview(FUNNELS, INPUTS, TEST_CONNECTION)
    )
    component.run(FUNNELS, INPUTS, TEST_CONNECTION)
    assert [url for url, header in recorder.sent if header and "127.0.0.1" in url] == []


def test_an_authentic_entry_is_used_without_checking_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_specs()
    from connector.catalog import load as catalog

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the specs were checked again")

    monkeypatch.setattr(catalog, "check_layers", refuse)
    assert load_specs() == first


def test_an_opted_in_overlay_keeps_its_widening_in_its_own_entry(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "component.yaml").write_text('trusted_hosts: ["mixpanel.com", "*.example.com"]\n')
    first = load_specs(overlays=[overlay], allow_overlay_trust_widening=True)
    assert "*.example.com" in first.trusted_hosts
    from connector.catalog import load as catalog

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the specs were checked again")

    monkeypatch.setattr(catalog, "check_layers", refuse)
    assert load_specs(overlays=[overlay], allow_overlay_trust_widening=True) == first


def test_without_a_usable_local_key_nothing_is_cached(cache: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "local.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(os.urandom(32))
    key_file.chmod(0o644)  # readable by others: refused
    assert load_specs() == check_specs()[0]
    assert list(cache.glob("specs-*.pickle")) == []


def test_entries_are_keyed_digests_not_plain_checksums(cache: Path) -> None:
    load_specs()
    (entry,) = cache.glob("specs-*.pickle")
    key, header, rest = entry.read_bytes().split(b"\n", 2)
    digest, length = header.split(b" ")
    payload = rest[: int(length)]  # the index: what the digest covers
    assert digest != hashlib.sha256(payload).hexdigest().encode()
    expected = localkey.keyed_digest(speccache.PURPOSE, key.decode(), payload)
    assert hmac.compare_digest(digest, expected.encode())
    # Each operation after the index is named there by its SHA-256, so the digest covers it too.
    index = pickle.loads(payload)
    blobs = rest[int(length) :]
    for _, _, at, size, sha256 in index["operations"]:
        assert hashlib.sha256(blobs[at : at + size]).digest() == sha256
    assert sum(size for _, _, _, size, _ in index["operations"]) == len(blobs)
