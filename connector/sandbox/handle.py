"""One parsed request to the sandbox's answer: injected faults, body decoding, routes, the log."""

from __future__ import annotations

import time
import traceback
from urllib.parse import parse_qsl, urlsplit

from . import page, requestlog
from .faults import Decision
from .inflate import NotCompressed, TooLarge, decode_body
from .models.base import now_ms
from .reply import Call, Reply, Served, api_error, json_reply
from .responses.ingestion import MAX_BYTES
from .urls import Router, api_of
from .wire import Outgoing, Request, WireError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def respond(sandbox: Served, router: Router, item: Request | WireError) -> Outgoing:
    """The answer to a request, or to a request that could not be read (which closes)."""
    started = now_ms()
    if isinstance(item, WireError):
        path = item.path
        reply = api_error(api_of(path), item.status, item.message, path)
        reply.headers.update(item.headers)
        target = item.target if path else ""
        _log(sandbox, item.method or "?", target, {}, b"", reply.status, started, "unreadable")
        return _outgoing(reply, close=True)
    quiet = page.is_page(item.path)
    decision = sandbox.faults.decide() if not quiet else Decision()
    if decision.delay_s:
        time.sleep(decision.delay_s)
    out, status = _answer(sandbox, router, decision, item)
    if not quiet:
        headers, body = item.headers, item.body
        _log(sandbox, item.method, item.target, headers, body, status, started, decision.label)
    return out


def _log(
    sandbox: Served,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    started: int,
    fault: str | None,
) -> None:
    entry = requestlog.entry(
        sandbox,
        method,
        target,
        headers,
        body,
        status=status,
        started=started,
        finished=now_ms(),
        fault=fault,
    )
    sandbox.store.log_request(entry)


def _outgoing(reply: Reply, *, close: bool = False, reset: str | None = None) -> Outgoing:
    return Outgoing(reply.status, reply.body, reply.content_type, reply.headers, close, reset)


def _answer(
    sandbox: Served, router: Router, decision: Decision, request: Request
) -> tuple[Outgoing, int]:
    path = request.path
    if decision.reset == "before":
        return Outgoing(0, reset="before"), 0
    if decision.status is not None:
        message = (
            "Project exceeded rate limits. Please retry the request with exponential backoff."
            if decision.status == 429
            else "injected server error"
        )
        reply = api_error(api_of(path), decision.status, message, path)
        if decision.retry_after_s:
            reply.headers["Retry-After"] = str(decision.retry_after_s)
    else:
        reply = _reply(sandbox, router, request)
    if decision.reset == "after":  # part of the answer, then a TCP reset
        return _outgoing(reply, reset="after"), 0
    return _outgoing(reply), reply.status


def _reply(sandbox: Served, router: Router, request: Request) -> Reply:
    path, headers = request.path, request.headers
    api = api_of(path)
    if request.method not in METHODS:
        return api_error(api, 501, f"method {request.method} is not supported", path)
    encoding = headers.get("content-encoding", "")
    try:
        body = decode_body(request.body, encoding, MAX_BYTES)
    except TooLarge:
        return api_error(api, 413, f"request exceeds max limit of {MAX_BYTES} bytes", path)
    except NotCompressed as exc:
        message = f"the body is not valid {encoding.strip() or 'gzip'}: {exc}"
        return api_error(api, 400, message, path)
    if page.is_page(path):
        return page.serve(sandbox, request.target, headers.get("host"))
    params = dict(parse_qsl(urlsplit(request.target).query, keep_blank_values=True))
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        params = {**form, **params}
    call = Call(request.method, path, params, headers, body, sandbox)
    try:
        return router.dispatch(call)
    except Exception as exc:  # a sandbox bug: answer 500 and keep serving
        trace = traceback.format_exc(limit=-3)
        sandbox.errors.append(f"{request.method} {path}: {exc!r}\n{trace}")
        return json_reply(500, {"error": f"sandbox error: {type(exc).__name__}", "status": "error"})
