"""The ingestion API's answers: /track, /import and /engage (`1`/`0`, verbose, strict shapes)."""

from __future__ import annotations

import base64
import json
from typing import Any

from connector.core.jsondepth import loads_bounded
from connector.errors import JSONTooDeep

from ..models.base import Context, ModelError
from ..models.events import ingest_events
from ..models.families import GROUPS, PROFILES
from ..models.identities import canonical
from ..models.profiles import Update, apply_updates, check_update
from ..reply import Call, Problem, Reply, error, json_reply, text_reply
from ..store import Store

MAX_RECORDS = 2000
MAX_BYTES = 10 * 1024 * 1024
# The 1x1 transparent GIF that /track answers with img=1.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def records_of(payload: Any) -> list[Any]:
    """A JSON body is one record or a list of them."""
    return payload if isinstance(payload, list) else [payload]


def as_parameter(call: Call) -> bool:
    """True when the records came as a `data` parameter (form body or query), not a JSON body."""
    form = call.content_type == "application/x-www-form-urlencoded"
    return form or (not call.body.strip() and "data" in call.params)


def json_body(call: Call, *, form_key: str = "data") -> Any:
    """The JSON payload: a JSON body, NDJSON, or `data` (form field or query) as JSON or base64."""
    if as_parameter(call):
        text = call.params.get(form_key, "")
        if text.strip() and text.lstrip()[:1] not in "[{":
            text = _unbase64(text)
    else:
        text = call.body.decode("utf-8", "replace")
    try:
        if call.content_type == "application/x-ndjson":
            return [
                loads_bounded(line, where="a line of the body")
                for line in text.splitlines()
                if line.strip()
            ]
        return loads_bounded(text, where="the body")
    except JSONTooDeep as exc:
        raise Problem(_bad(call, str(exc))) from None
    except json.JSONDecodeError as exc:
        raise Problem(
            _bad(call, f"the body is not valid JSON: {exc.msg} at character {exc.pos}")
        ) from None


def _unbase64(text: str) -> str:
    """`text` decoded from base64 (standard or URL-safe, padding optional); as is when it is not."""
    compact = "".join(text.split())
    padded = compact + "=" * (-len(compact) % 4)
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=altchars, validate=True).decode()
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            continue
    return text  # neither JSON nor base64: the JSON error says so


def legacy(call: Call) -> bool:
    """The answer is `1`/`0` (or verbose JSON) rather than the /import API's JSON shapes."""
    return call.path != "/import" or (as_parameter(call) and not strict(call))


def strict(call: Call) -> bool:
    """`strict=1` asks /import to validate every record and report the failures (opt-in)."""
    return call.params.get("strict", "").strip().lower() in ("1", "true")


def _bad(call: Call, message: str) -> Reply:
    if not legacy(call):
        return error(400, message, style="code")
    if call.params.get("verbose") == "1":
        return json_reply(200, {"error": message, "status": 0})
    return text_reply(200, "0")


def _limits(call: Call, records: list[Any]) -> None:
    style = "status" if legacy(call) else "code"
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
    """/track (POST or GET): events authenticated by their `token`; all or nothing.

    `strict` is not honoured here: the answer is `1`/`0`, or `{"error", "status"}` with verbose=1.
    """
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
    """/import: strict=1 reports failed records (400); else the valid ones are stored.

    Without `strict=1` a `data=` parameter (form or query, as the SDKs send it) gets the legacy
    answer (`1`/`0`, or `{"error", "status"}` with verbose=1), and a JSON body gets
    `{"code": 200, "num_records_imported", "status": "OK"}`.
    """
    records = records_of(json_body(call))
    _limits(call, records)
    store, token = call.sandbox.store, call.sandbox.project_token
    stored, failed = ingest_events(
        store.events, store.identities, records, kind="import", token=token
    )
    if failed and strict(call):
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
    if legacy(call):
        if failed and not stored:
            first = failed[0]
            return _bad(call, f"records[{first['index']}]: {first['message']}")
        return _ok(call)
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
    """/engage (POST or GET): profile operations authenticated by `$token`; all or nothing."""
    records = records_of(json_body(call))
    _limits(call, records)
    failed = ingest_updates(call.sandbox.store, records, call.sandbox.project_token)
    return _updated(call, failed)


def groups(call: Call) -> Reply:
    """/groups (POST or GET): group profile operations, keyed by `$group_key` and `$group_id`."""
    records = records_of(json_body(call))
    _limits(call, records)
    failed = ingest_group_updates(call.sandbox.store, records, call.sandbox.project_token)
    return _updated(call, failed)


def ingest_group_updates(
    store: Store, records: list[Any], token: str | None
) -> list[dict[str, Any]]:
    """Validate every group update, then apply them in order, per group key; failures."""
    by_key: dict[str, list[Update]] = {}
    failed = []
    for index, record in enumerate(records):
        try:
            key = record.get("$group_key") if isinstance(record, dict) else None
            if not isinstance(key, str) or not key:
                raise ModelError(400, "$group_key, missing or empty", "$group_key")
            by_key.setdefault(key, []).append(check_update(record, token, id_key="$group_id"))
        except ModelError as problem:
            failed.append({"index": index, "field": problem.field, "message": problem.message})
    if failed:
        return failed
    for key, updates in by_key.items():
        apply_updates(store.resources, GROUPS, Context(scope={"$group_key": key}), updates)
    return []


def _updated(call: Call, failed: list[dict[str, Any]]) -> Reply:
    if failed:
        _token_problem(failed)
        first = failed[0]
        return _bad(call, f"records[{first['index']}]: {first['message']}")
    return _ok(call)
