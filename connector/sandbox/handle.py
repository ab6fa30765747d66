"""One parsed request to the sandbox's answer: injected faults, body decoding, routes, the log."""

from __future__ import annotations

import time
import traceback
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from . import page
from .faults import Decision
from .inflate import NotCompressed, TooLarge, decode_body
from .ingest import MAX_BYTES
from .pool import Outgoing
from .reply import Call, Reply, error, json_reply
from .routes import dispatch, style_of
from .store import now_ms
from .wire import Request, WireError, response_bytes

if TYPE_CHECKING:
    from .server import Sandbox

METHODS = ("GET", "POST", "PUT", "DELETE")


def respond(sandbox: Sandbox, item: Request | WireError) -> Outgoing:
    """The answer to a request, or to a request that could not be read (which closes)."""
    started = now_ms()
    if isinstance(item, WireError):
        path = item.path
        reply = error(item.status, item.message, style=style_of(path), path=path)
        _log(sandbox, item.method or "?", path or "?", reply.status, started, "unreadable")
        return Outgoing(_bytes(reply, close=True), close=True)
    path = item.path
    quiet = page.is_page(path)
    decision = sandbox.faults.decide() if not quiet else Decision()
    if decision.delay_s:
        time.sleep(decision.delay_s)
    out, status = _answer(sandbox, decision, item)
    if not quiet:
        _log(sandbox, item.method, path, status, started, decision.label)
    return out


def _log(
    sandbox: Sandbox, method: str, path: str, status: int, started: int, fault: str | None
) -> None:
    entry = {"method": method, "path": path, "status": status, "started": started}
    sandbox.store.log_request({**entry, "finished": now_ms(), "fault": fault})


def _bytes(reply: Reply, *, close: bool) -> bytes:
    return response_bytes(reply.status, reply.body, reply.content_type, reply.headers, close=close)


def _answer(sandbox: Sandbox, decision: Decision, request: Request) -> tuple[Outgoing, int]:
    path = request.path
    if decision.reset == "before":
        return Outgoing(b"", reset=True), 0
    if decision.status is not None:
        message = (
            "Project exceeded rate limits. Please retry the request with exponential backoff."
            if decision.status == 429
            else "injected server error"
        )
        reply = error(decision.status, message, style=style_of(path), path=path)
        if decision.retry_after_s:
            reply.headers["Retry-After"] = str(decision.retry_after_s)
    else:
        reply = _reply(sandbox, request)
    if decision.reset == "after":  # part of the answer, then a TCP reset
        head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body) + 64}\r\n\r\n"
        return Outgoing(head.encode() + reply.body[: len(reply.body) // 2], reset=True), 0
    close = not request.keep_alive
    return Outgoing(_bytes(reply, close=close), close=close), reply.status


def _reply(sandbox: Sandbox, request: Request) -> Reply:
    path, headers = request.path, request.headers
    style = style_of(path)
    if request.method not in METHODS:
        return error(501, f"method {request.method} is not supported", style=style, path=path)
    encoding = headers.get("content-encoding", "")
    try:
        body = decode_body(request.body, encoding, MAX_BYTES)
    except TooLarge:
        return error(413, f"request exceeds max limit of {MAX_BYTES} bytes", style=style, path=path)
    except NotCompressed as exc:
        message = f"the body is not valid {encoding.strip() or 'gzip'}: {exc}"
        return error(400, message, style=style, path=path)
    if page.is_page(path):
        return page.serve(sandbox, path)
    params = dict(parse_qsl(urlsplit(request.target).query, keep_blank_values=True))
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        params = {**form, **params}
    call = Call(request.method, path, params, headers, body, sandbox)
    try:
        return dispatch(call)
    except Exception as exc:  # a sandbox bug: answer 500 and keep serving
        trace = traceback.format_exc(limit=-3)
        sandbox.errors.append(f"{request.method} {path}: {exc!r}\n{trace}")
        return json_reply(500, {"error": f"sandbox error: {type(exc).__name__}", "status": "error"})
