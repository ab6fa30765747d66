"""The ingestion API's answers: /track, /import and /engage (`1`/`0`, verbose, strict shapes)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

from ..models.base import Context, ModelError
from ..models.events import ingest_events
from ..models.families import GROUPS, PROFILES
from ..models.identities import canonical
from ..models.profiles import apply_updates, check_update
from ..reply import Call, Problem, Reply, error, json_reply, text_reply
from ..store import Store

MAX_RECORDS = 2000
MAX_BYTES = 10 * 1024 * 1024
# The 1x1 transparent GIF that /track answers with img=1.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def records_of(payload: Any) -> list[Any]:
    """A JSON body is one record or a list of them."""
    return payload if isinstance(payload, list) else [payload]


def json_body(call: Call, *, form_key: str = "data") -> Any:
    """The JSON payload: a JSON body, NDJSON, or a form field `data` holding JSON (or base64)."""
    text = call.body.decode("utf-8", "replace")
    if call.content_type == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(text, keep_blank_values=True))
        text = form.get(form_key, "")
        if text and text.lstrip()[:1] not in "[{":
            try:
                text = base64.b64decode(text, validate=True).decode()
            except ValueError:  # neither JSON nor base64: the JSON error below says so
                pass
    elif call.method == "GET":
        text = call.params.get(form_key, "")
    try:
        if call.content_type == "application/x-ndjson":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Problem(
            _bad(call, f"the body is not valid JSON: {exc.msg} at character {exc.pos}")
        ) from None


def _bad(call: Call, message: str) -> Reply:
    if call.path == "/import":
        return error(400, message, style="code")
    if call.params.get("verbose") == "1":
        return json_reply(200, {"error": message, "status": 0})
    return text_reply(200, "0")


def _limits(call: Call, records: list[Any]) -> None:
    style = "code" if call.path == "/import" else "status"
    if len(call.body) > MAX_BYTES:
        raise Problem(error(413, f"request exceeds max limit of {MAX_BYTES} bytes", style=style))
    if len(records) > MAX_RECORDS:
        raise Problem(
            error(413, f"request exceeds max limit of {MAX_RECORDS} records", style=style)
        )
    if not records:
        raise Problem(_bad(call, "no records in the request"))


def _ok(call: Call) -> Reply:
    if call.params.get("img") == "1":
        return Reply(200, PIXEL, "image/gif")
    if call.params.get("verbose") == "1":
        return json_reply(200, {"error": None, "status": 1})
    return text_reply(200, "1")


def _token_problem(failed: list[dict[str, Any]]) -> None:
    if any(f["message"].endswith("does not match this project") for f in failed):
        raise Problem(error(401, "Invalid project token in the request body", style="status"))


def track(call: Call) -> Reply:
    """POST (or GET) /track: events authenticated by their `token`; all or nothing."""
    records = records_of(json_body(call))
    _limits(call, records)
    store = call.sandbox.store
    token = call.sandbox.project_token
    _, failed = ingest_events(store.events, store.identities, records, kind="track", token=token)
    if failed:
        _token_problem(failed)
        first = failed[0]
        return _bad(call, f"records[{first['index']}]: {first['message']}")
    return _ok(call)


def import_events(call: Call) -> Reply:
    """POST /import: strict=1 (the default) reports failed records with a 400."""
    records = records_of(json_body(call))
    _limits(call, records)
    strict = call.params.get("strict", "1") != "0"
    store = call.sandbox.store
    stored, failed = ingest_events(
        store.events, store.identities, records, kind="import", token=None
    )
    if failed and strict:
        for item in failed:
            item.pop("$insert_id", None)
        return json_reply(
            400,
            {
                "code": 400,
                "error": "some data points in the request failed validation",
                "status": "Bad Request",
                "num_records_imported": stored,
                "failed_records": failed,
            },
        )
    return json_reply(200, {"code": 200, "num_records_imported": stored, "status": "OK"})


def ingest_updates(store: Store, records: list[Any], token: str | None) -> list[dict[str, Any]]:
    """Validate every profile update, then apply them in order (one transaction); failures."""
    checked, failed = [], []
    for index, record in enumerate(records):
        try:
            checked.append(check_update(record, token))
        except ModelError as problem:
            failed.append({"index": index, "field": problem.field, "message": problem.message})
    if failed:
        return failed
    aliases = store.alias_map()
    updates = [(canonical(aliases, rid), op, value) for rid, op, value in checked]
    apply_updates(store.resources, PROFILES, Context(), updates)
    return []


def engage(call: Call) -> Reply:
    """POST /engage: profile operations authenticated by `$token`; all or nothing."""
    records = records_of(json_body(call))
    _limits(call, records)
    failed = ingest_updates(call.sandbox.store, records, call.sandbox.project_token)
    if failed:
        _token_problem(failed)
        first = failed[0]
        return _bad(call, f"records[{first['index']}]: {first['message']}")
    return _ok(call)


def groups(call: Call) -> Reply:
    """POST /groups: group profile updates by `$group_key` and `$group_id`; all or nothing."""
    records = records_of(json_body(call))
    _limits(call, records)
    token = call.sandbox.project_token
    by_key: dict[str, list[tuple[str, str, Any]]] = {}
    failed = []
    for index, record in enumerate(records):
        try:
            update = check_update(record, token, id_key="$group_id")
            key = record.get("$group_key")
            if not isinstance(key, str) or not key:
                raise ModelError(400, "$group_key, missing or empty", "$group_key")
            by_key.setdefault(key, []).append(update)
        except ModelError as problem:
            failed.append({"index": index, "field": problem.field, "message": problem.message})
    if failed:
        _token_problem(failed)
        return _bad(call, f"records[{failed[0]['index']}]: {failed[0]['message']}")
    for key, updates in by_key.items():
        apply_updates(
            call.sandbox.store.resources, GROUPS, Context(scope={"$group_key": key}), updates
        )
    return _ok(call)
