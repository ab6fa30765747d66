"""A sync's state: cursor, horizon, delivered keys, members; verified before it is trusted.

The document is JSON `{"body": {...}, "mac": HEX}`: the mac is an HMAC of the body under the
local key (connector.core.localkey), so a state file edited, copied from another user or
planted cannot make a sync skip records or deliver them again. A state larger than
MAX_STATE_BYTES, with another sync's identity, or whose mac does not match, is refused with a
StateError that says how to start over; it is never silently replaced, since starting over
would deliver the lookback window's records a second time.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..core.localkey import keyed_digest
from ..errors import StateError
from .seen import SeenKeys

__all__ = ["MAX_STATE_BYTES", "SyncState", "decode_state", "encode_state", "new_state"]

#: A state larger than this is refused unread (64 MiB: four million digests).
MAX_STATE_BYTES = 64 * 1024 * 1024
_FORMAT = "sync-state/1"
_PURPOSE = "sync-state"


@dataclass
class SyncState:
    """What one sync remembers between runs.

    Attributes:
        identity: A digest of the action and the inputs that choose its records.
        cursor: The last day a run read up to (inclusive); None before the first run.
        horizon: The oldest day whose records' keys are still kept.
        salt: Random bytes (hex) that, with the local key, key the record digests.
        members: The ids of the last membership seen (membership syncs only).
        sink: Where the destination stood after the last recorded batch (see
            connector.sync.runner.Checkpointed), saved with the keys that batch delivered.
    """

    identity: str
    seen: SeenKeys
    cursor: dt.date | None = None
    horizon: dt.date | None = None
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    members: list[str] | None = None
    sink: dict[str, Any] | None = None


def record_key(salt: str) -> bytes:
    """The key of a state's record digests: the local key's HMAC of its salt."""
    return bytes.fromhex(keyed_digest("sync-record", salt))[:32]


def encode_state(state: SyncState) -> bytes:
    """The state as its verified document."""
    body: dict[str, Any] = {
        "format": _FORMAT,
        "identity": state.identity,
        "cursor": state.cursor.isoformat() if state.cursor else None,
        "horizon": state.horizon.isoformat() if state.horizon else None,
        "salt": state.salt,
        "days": state.seen.to_json(),
    }
    if state.members is not None:
        body["members"] = sorted(state.members)
    if state.sink is not None:
        body["sink"] = state.sink
    text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return b'{"body":' + text + b',"mac":"' + _mac(text).encode() + b'"}\n'


def _mac(text: bytes) -> str:
    return keyed_digest(_PURPOSE, text)


def decode_state(
    raw: bytes, where: str, identity: str, paths: list[str], time_path: str
) -> SyncState:
    """The state in `raw`, checked: size, mac, format, identity.

    Raises:
        StateError: the state is too large, altered, not a state, or another sync's.
    """
    start_over = "remove it (or pass another state) to start over, which delivers the "
    start_over += "lookback window's records again"
    if len(raw) > MAX_STATE_BYTES:
        raise StateError(where, f"larger than {MAX_STATE_BYTES} bytes; not read; {start_over}")
    try:
        outer = orjson.loads(raw)
        body_text = orjson.dumps(outer["body"], option=orjson.OPT_SORT_KEYS)
        mac = str(outer["mac"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise StateError(where, f"not a sync state ({exc}); {start_over}") from None
    if not hmac.compare_digest(mac, _mac(body_text)):
        raise StateError(
            where,
            "the state's digest does not match: it was changed, or made by another user or "
            f"with another local key; {start_over}",
        )
    body = outer["body"]
    if body.get("format") != _FORMAT:
        raise StateError(where, f"not a {_FORMAT} document; {start_over}")
    if body.get("identity") != identity:
        raise StateError(
            where,
            "this state belongs to a sync of another action or other filters; give each sync "
            "a state of its own",
        )
    try:
        salt = str(body["salt"])
        seen = SeenKeys(record_key(salt), paths, time_path)
        seen.load(body.get("days") or {})
        members = body.get("members")
        sink = body.get("sink")
        return SyncState(
            identity=identity,
            seen=seen,
            cursor=_day(body.get("cursor")),
            horizon=_day(body.get("horizon")),
            salt=salt,
            members=[str(m) for m in members] if isinstance(members, list) else None,
            sink=dict(sink) if isinstance(sink, dict) else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(where, f"the state cannot be read ({exc}); {start_over}") from None


def new_state(identity: str, paths: list[str], time_path: str) -> SyncState:
    """A first run's state."""
    salt = secrets.token_hex(16)
    return SyncState(identity, SeenKeys(record_key(salt), paths, time_path), salt=salt)


def _day(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None
