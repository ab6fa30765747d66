"""A sync's state is trusted only when its mac, format and identity hold."""

from __future__ import annotations

import pytest

from connector.errors import StateError
from connector.sync.state import MAX_STATE_BYTES, decode_state, encode_state, new_state

PATHS, TIME = ["id"], "t"


def _document() -> bytes:
    state = new_state("ident", PATHS, TIME)
    digest, _ = state.seen.identity({"id": "a", "t": 1768046400})
    state.seen.add(digest, __import__("datetime").date(2026, 1, 10))
    return encode_state(state)


def test_a_state_round_trips_without_the_keys_values() -> None:
    document = _document()
    assert b'"a"' not in document
    state = decode_state(document, "s", "ident", PATHS, TIME)
    assert len(state.seen) == 1 and state.seen.identity({"id": "a", "t": 1})[0] in state.seen


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.replace(b'"cursor":null', b'"cursor":"2026-01-01"'), "does not match"),
        (lambda d: d[:-3], "not a sync state"),
        (lambda d: b"x" * (MAX_STATE_BYTES + 1), "larger than"),
    ],
)
def test_a_changed_or_oversized_state_is_refused(change: object, says: str) -> None:
    with pytest.raises(StateError, match=says):
        decode_state(change(_document()), "s", "ident", PATHS, TIME)  # type: ignore[operator]


def test_another_syncs_state_is_refused() -> None:
    with pytest.raises(StateError, match="another action or other filters"):
        decode_state(_document(), "s", "other", PATHS, TIME)


def test_the_destinations_position_is_saved_under_the_mac() -> None:
    state = new_state("ident", PATHS, TIME)
    state.sink = {"file": [1, 2], "length": 120}
    document = encode_state(state)
    assert decode_state(document, "s", "ident", PATHS, TIME).sink == state.sink
    with pytest.raises(StateError, match="does not match"):
        decode_state(document.replace(b'"length":120', b'"length":0'), "s", "ident", PATHS, TIME)
