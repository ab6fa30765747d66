"""Ingestion as Mixpanel validates it: /track, /import and /engage (profile operations)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from .store import Store, canonical, now_ms
from .store import seconds as to_seconds

MAX_RECORDS = 2000
MAX_BYTES = 10 * 1024 * 1024
MAX_EVENT_NAME = 255
MAX_PROPERTIES = 255
FUTURE_SLACK_S = 3600
TRACK_MAX_AGE_S = 5 * 24 * 3600
INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
PROFILE_OPS = ("$set", "$set_once", "$add", "$union", "$append", "$remove", "$unset", "$delete")


class Rejected(ValueError):
    """One record failed validation: `field` and Mixpanel's message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def records_of(payload: Any) -> list[Any]:
    """A JSON body is one record or a list of them."""
    return payload if isinstance(payload, list) else [payload]


def check_event(record: Any, *, kind: str, token: str | None, now_s: float) -> dict[str, Any]:
    """Validate one event for `/track` or `/import`; fill `time` for /track; return it."""
    if not isinstance(record, dict):
        raise Rejected("", "event must be a JSON object with 'event' and 'properties'")
    name = record.get("event")
    if not isinstance(name, str) or not name.strip():
        raise Rejected("event", "'event' must be a non-empty string")
    if len(name) > MAX_EVENT_NAME:
        raise Rejected("event", f"'event' must be at most {MAX_EVENT_NAME} characters")
    props = record.get("properties")
    if not isinstance(props, dict):
        raise Rejected("properties", "'properties' must be a JSON object")
    if len(props) > MAX_PROPERTIES:
        raise Rejected("properties", f"an event may have at most {MAX_PROPERTIES} properties")
    if kind == "track":
        if props.get("token") in (None, ""):
            raise Rejected("properties.token", "token, missing or empty")
        if token is not None and props.get("token") != token:
            raise Rejected("properties.token", "token does not match this project")
        props.setdefault("time", int(now_s))
    check_time(props.get("time"), kind=kind, now_s=now_s)
    if kind == "import" and not isinstance(props.get("distinct_id"), str | int):
        raise Rejected("properties.distinct_id", "'properties.distinct_id' must be specified")
    insert_id = props.get("$insert_id")
    if insert_id is None and kind == "import":
        raise Rejected("properties.$insert_id", "'properties.$insert_id' must be specified")
    if insert_id is not None and not (isinstance(insert_id, str) and INSERT_ID.match(insert_id)):
        raise Rejected(
            "properties.$insert_id",
            "'properties.$insert_id' is invalid: it must be 1-36 letters, digits or '-'",
        )
    return record


def check_time(value: Any, *, kind: str, now_s: float) -> None:
    """Event time: seconds (or milliseconds) since the epoch, not in the future, in range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise Rejected(
            "properties.time",
            "'properties.time' is invalid: must be specified as seconds since epoch",
        )
    seconds = to_seconds(value)
    if seconds > now_s + FUTURE_SLACK_S:
        raise Rejected("properties.time", "'properties.time' is invalid: it is in the future")
    if kind == "track" and seconds < now_s - TRACK_MAX_AGE_S:
        raise Rejected(
            "properties.time",
            "'properties.time' is more than 5 days old: /track takes recent events; use /import",
        )


def ingest_events(
    store: Store, records: list[Any], *, kind: str, token: str | None
) -> tuple[int, list[dict[str, Any]]]:
    """Validate and store events; return (stored, failed_records)."""
    now_s = time.time()
    accepted, failed = [], []
    for index, record in enumerate(records):
        try:
            accepted.append(check_event(record, kind=kind, token=token, now_s=now_s))
        except Rejected as problem:
            props = record.get("properties") if isinstance(record, dict) else None
            insert_id = props.get("$insert_id") if isinstance(props, dict) else None
            failed.append(
                {
                    "index": index,
                    "insert_id": str(insert_id or ""),
                    "$insert_id": str(insert_id or ""),
                    "field": problem.field,
                    "message": problem.message,
                }
            )
    if kind == "track" and failed:
        return 0, failed
    for record in accepted:
        name, props = record["event"], record["properties"]
        if name == "$create_alias" and props.get("alias") and props.get("distinct_id"):
            store.add_alias(str(props["alias"]), str(props["distinct_id"]))
        elif name == "$identify" and props.get("$anon_id") and props.get("$identified_id"):
            store.add_alias(str(props["$anon_id"]), str(props["$identified_id"]))
    return store.add_events(accepted), failed


def check_update(record: Any, token: str | None) -> tuple[str, str, Any]:
    """Validate one /engage update; return (distinct_id, operation, value)."""
    if not isinstance(record, dict):
        raise Rejected("", "each profile update must be a JSON object")
    if record.get("$token") in (None, ""):
        raise Rejected("$token", "$token, missing or empty")
    if token is not None and record["$token"] != token:
        raise Rejected("$token", "$token does not match this project")
    distinct_id = record.get("$distinct_id")
    if not isinstance(distinct_id, str | int) or str(distinct_id) == "":
        raise Rejected("$distinct_id", "$distinct_id, missing or empty")
    ops = [key for key in record if key in PROFILE_OPS]
    if len(ops) != 1:
        raise Rejected("", f"each update needs exactly one of {', '.join(PROFILE_OPS)}")
    op, value = ops[0], record[ops[0]]
    if op == "$unset" and not isinstance(value, list):
        raise Rejected(op, "$unset takes a list of property names")
    if op not in ("$unset", "$delete") and not isinstance(value, dict):
        raise Rejected(op, f"{op} takes an object of properties")
    if op == "$add" and not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        raise Rejected(op, "$add takes numeric values")
    return str(distinct_id), op, value


def apply_update(props: dict[str, Any] | None, op: str, value: Any) -> dict[str, Any] | None:
    """One operation on a profile's properties; None means the profile is deleted."""
    if op == "$delete":
        return None
    props = dict(props or {})
    if op == "$set":
        props.update(value)
    elif op == "$set_once":
        props.update({k: v for k, v in value.items() if k not in props})
    elif op == "$add":
        for key, amount in value.items():
            current = props.get(key)
            props[key] = (current if isinstance(current, int | float) else 0) + amount
    elif op in ("$union", "$append", "$remove"):
        for key, item in value.items():
            items = list(props.get(key) or []) if isinstance(props.get(key), list) else []
            if op == "$append":
                items.append(item)
            elif op == "$remove":
                items = [x for x in items if x != item]
            else:
                items += [x for x in (item if isinstance(item, list) else [item]) if x not in items]
            props[key] = items
    elif op == "$unset":
        for key in value:
            props.pop(key, None)
    return props


def ingest_updates(store: Store, records: list[Any], token: str | None) -> list[dict[str, Any]]:
    """Validate every update, then apply them in order in one transaction; return failures."""
    checked, failed = [], []
    for index, record in enumerate(records):
        try:
            checked.append(check_update(record, token))
        except Rejected as problem:
            failed.append({"index": index, "field": problem.field, "message": problem.message})
    if failed:
        return failed
    aliases = store.alias_map()
    stamp = now_ms()
    with store.transaction() as db:
        cache: dict[str, dict[str, Any] | None] = {}
        for distinct_id, op, value in checked:
            key = canonical(aliases, distinct_id)
            if key not in cache:
                row = db.execute("SELECT props FROM profiles WHERE distinct_id = ?", (key,))
                found = row.fetchone()
                cache[key] = json.loads(found[0]) if found else None
            cache[key] = apply_update(cache[key], op, value)
        db.executemany(
            "DELETE FROM profiles WHERE distinct_id = ?",
            [(k,) for k, v in cache.items() if v is None],
        )
        db.executemany(
            "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?)",
            [(k, json.dumps(v), stamp) for k, v in cache.items() if v is not None],
        )
    return []
