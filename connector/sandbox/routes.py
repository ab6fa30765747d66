"""Routing, authentication and the ingestion endpoints (/track, /import, /engage)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from . import export, pipelines, query
from .faults import advertised_policy
from .ingest import MAX_BYTES, MAX_RECORDS, ingest_events, ingest_updates, records_of
from .reply import Call, Problem, Reply, error, json_reply, text_reply

Route = Callable[[Call], Reply]


def style_of(path: str) -> str:
    """Which of Mixpanel's error shapes the path uses."""
    if path.startswith("/api/query"):
        return "query"
    return "code" if path == "/import" else "status"


def authenticate(call: Call, *, token_ok: bool = True) -> None:
    """Check Basic auth as Mixpanel does: a service account plus `project_id`, or the token."""
    sb, style = call.sandbox, style_of(call.path)
    header = call.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        raise Problem(error(401, "Unable to authenticate request", style=style, path=call.path))
    try:
        user, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Problem(error(401, "Invalid credentials", style=style, path=call.path)) from None
    if token_ok and user == sb.project_token and not secret:
        given = call.params.get("project_id")
        if given and given != sb.project_id:
            raise Problem(
                error(403, f"Permission denied for project {given}", style=style, path=call.path)
            )
        return
    if user != sb.username or secret != sb.password:
        raise Problem(error(401, "Invalid credentials", style=style, path=call.path))
    given = call.params.get("project_id")
    if not given:
        raise Problem(
            error(
                400,
                "project_id is required when authenticating with a service account",
                style=style,
                path=call.path,
            )
        )
    if given != sb.project_id:
        raise Problem(
            error(
                403,
                f"service account has no access to project {given}",
                style=style,
                path=call.path,
            )
        )


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


# The 1x1 transparent GIF that /track answers with img=1.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _ok(call: Call) -> Reply:
    if call.params.get("img") == "1":
        return Reply(200, PIXEL, "image/gif")
    if call.params.get("verbose") == "1":
        return json_reply(200, {"error": None, "status": 1})
    return text_reply(200, "1")


def _token_problem(call: Call, failed: list[dict[str, Any]]) -> None:
    if any(f["message"].endswith("does not match this project") for f in failed):
        raise Problem(error(401, "Invalid project token in the request body", style="status"))


def track(call: Call) -> Reply:
    """POST /track: events authenticated by their `token`; all or nothing."""
    records = records_of(json_body(call))
    _limits(call, records)
    stored, failed = ingest_events(
        call.sandbox.store, records, kind="track", token=call.sandbox.project_token
    )
    if failed:
        _token_problem(call, failed)
        first = failed[0]
        return _bad(call, f"records[{first['index']}]: {first['message']}")
    return _ok(call)


def import_events(call: Call) -> Reply:
    """POST /import: service account or token auth; strict=1 reports failed records."""
    authenticate(call)
    records = records_of(json_body(call))
    _limits(call, records)
    strict = call.params.get("strict", "1") != "0"
    stored, failed = ingest_events(call.sandbox.store, records, kind="import", token=None)
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


def engage(call: Call) -> Reply:
    """POST /engage: profile operations authenticated by `$token`; all or nothing."""
    records = records_of(json_body(call))
    _limits(call, records)
    failed = ingest_updates(call.sandbox.store, records, call.sandbox.project_token)
    if failed:
        if any(f["message"].endswith("does not match this project") for f in failed):
            raise Problem(error(401, "Invalid project token in the request body"))
        first = failed[0]
        return _bad(call, f"records[{first['index']}]: {first['message']}")
    return _ok(call)


def _authenticated(route: Route) -> Route:
    def wrapped(call: Call) -> Reply:
        authenticate(call)
        return route(call)

    wrapped.__doc__ = route.__doc__
    return wrapped


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/track"): track,
    ("GET", "/track"): track,
    ("POST", "/import"): import_events,
    ("POST", "/engage"): engage,
    ("POST", "/api/query/engage"): _authenticated(query.engage_query),
    ("GET", "/api/query/funnels/list"): _authenticated(query.funnels_list),
    ("GET", "/api/query/funnels"): _authenticated(query.funnels),
    ("GET", "/api/query/insights"): _authenticated(query.insights),
    ("POST", "/api/query/jql"): _authenticated(query.jql),
    ("GET", "/api/2.0/export"): _authenticated(export.export),
    **{key: _authenticated(route) for key, route in pipelines.ROUTES.items()},
}


def dispatch(call: Call) -> Reply:
    """Answer one request (404 in Mixpanel's shape for unknown paths), its limits advertised."""
    reply = _routed(call)
    policy = advertised_policy(call.sandbox.faults, call.sandbox.workers)
    if policy is not None:
        reply.headers.setdefault("RateLimit-Policy", policy)
    return reply


def _routed(call: Call) -> Reply:
    route = ROUTES.get((call.method, call.path))
    if route is None:
        methods = sorted(m for m, p in ROUTES if p == call.path)
        if methods:
            return error(
                405,
                f"{call.method} is not allowed on {call.path}; use " + " or ".join(methods),
                style=style_of(call.path),
                path=call.path,
            )
        return error(404, f"unknown path {call.path}", style=style_of(call.path), path=call.path)
    try:
        return route(call)
    except Problem as problem:
        return problem.reply
