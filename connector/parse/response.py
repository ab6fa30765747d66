"""Pure parsing of a raw response into the operation's output, or into a typed APIError."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from ..core.jsondepth import MAX_JSON_DEPTH, loads_bounded
from ..core.templates import as_bool, evaluate, render_value
from ..errors import (
    APIError,
    AuthError,
    ClientError,
    JSONTooDeep,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
)
from ..prepare.request import HTTPRequest
from ..send.response import RawResponse


def _json_lines(text: str, depth: int) -> list[Any]:
    return [loads_bounded(line, depth) for line in text.splitlines() if line.strip()]


def decode_body(response: RawResponse, fmt: str, depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode the body as `fmt` (json, text, jsonl, binary or auto).

    JSON nested deeper than `depth` raises JSONTooDeep before it is parsed.
    """
    content_type = response.headers.get("content-type", "").lower()
    if fmt == "binary" or fmt == "arraybuffer":
        return base64.b64encode(response.content).decode("ascii")
    text = response.content.decode("utf-8", "replace")
    if fmt == "text" or fmt == "document":
        return text
    if fmt == "jsonl" or (fmt == "auto" and ("ndjson" in content_type or "jsonl" in content_type)):
        return _json_lines(text, depth)
    if not text.strip():
        return None
    try:
        return loads_bounded(text, depth)
    except json.JSONDecodeError:
        if fmt == "json" and "json" in content_type:
            raise
        try:
            return _json_lines(text, depth)
        except json.JSONDecodeError:
            return text


def error_message(body: Any) -> str:
    """Mixpanel's own error text from a decoded body, as text (never a Python repr).

    A body of JSON lines (a list) gives the distinct messages of its lines, joined by "; ".
    """
    if isinstance(body, list | tuple):
        texts = list(dict.fromkeys(error_message(item) for item in body[:20]))
        return "; ".join(texts)[:500] if texts else "(empty body)"
    if isinstance(body, Mapping):
        for key in ("error", "message", "detail", "errors"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else json.dumps(value)[:500]
        return json.dumps(body)[:500]
    text = str(body or "").strip()
    return text[:500] if text else "(empty body)"


_STATUS_ERRORS: list[tuple[range, type[APIError], str]] = [
    (range(401, 402), AuthError, "{api} refused the credentials"),
    (range(403, 404), AuthError, "{api} denied access with these credentials"),
    (range(413, 414), PayloadTooLargeError, "The request is larger than {api} accepts"),
    (range(429, 430), RateLimitError, "{api}'s rate limit was hit"),
    (range(400, 500), ClientError, "{api} rejected the request"),
    (range(500, 600), ServerError, "{api} failed to answer"),
]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def answered_by(request: HTTPRequest, response: RawResponse) -> str:
    """Who answered, as messages name it.

    The API's name at its own hosts; elsewhere the server its `Server` header names when it
    calls itself after the API ("mixpanel-sandbox" is "the sandbox"), else "the server at
    ORIGIN".
    """
    if not request.server or not request.api:
        return request.api_name
    product = response.headers.get("server", "").split("/")[0].strip().lower()
    words = product.replace("_", "-").split("-")
    if len(words) > 1 and words[0] == request.api.lower() and all(words[1:]):
        return "the " + " ".join(words[1:])
    return request.api_name


def status_error(
    request: HTTPRequest, response: RawResponse, body: Any, auth_hint: str = ""
) -> APIError:
    """The typed error for a non-2xx response, with the API's message and no secrets."""
    error_class: type[APIError] = APIError
    summary = "Unexpected answer from {api}"
    for statuses, candidate, text in _STATUS_ERRORS:
        if response.status in statuses:
            error_class, summary = candidate, text
            break
    api = answered_by(request, response)
    summary = _sentence(summary.format(api=api))
    detail = error_message(body)
    message = f"{summary} (HTTP {response.status}) for {request.action}: {detail}"
    if error_class is AuthError and auth_hint:
        message += f". Credentials used: {auth_hint}."
    if error_class is PayloadTooLargeError:
        size = len(request.content or b"")
        packed = any(
            k.lower() == "content-encoding" and "gzip" in v.lower()
            for k, v in request.headers.items()
        )
        what = f"{size} bytes gzip-compressed" if packed else f"{size} bytes"
        message += f". The body sent was {what}; split the data into smaller requests"
    if error_class is RateLimitError and response.retry_after_s is not None:
        message += f". {_sentence(api)} asks to wait {response.retry_after_s:.0f} s"
    hints = request.response.get("error_hints") or {}
    hint = hints.get(response.status) or hints.get(str(response.status))
    if hint:
        message += f". {' '.join(str(hint).split())}"
    message = message if message.endswith(".") else message + "."
    return error_class(
        request.secrets.text(message),
        status=response.status,
        request=request,
        body=request.secrets.data(body),
        retry_after_s=response.retry_after_s,
    )


def parse_response(request: HTTPRequest, response: RawResponse, auth_hint: str = "") -> Any:
    """Turn a response into the operation's output (`data`), or raise its typed error."""
    spec = request.response
    # Response templates read the action's inputs too (e.g. Response Type picks the format).
    context: dict[str, Any] = {
        **request.inputs,
        "status": response.status,
        "headers": response.headers,
    }
    fmt = str(
        render_value(
            spec.get("format", "auto"), context, action=request.action, field="response.format"
        )
    )
    depth = int((spec.get("reads") or {}).get("max_depth") or MAX_JSON_DEPTH)
    try:
        body = decode_body(response, fmt, depth)
    except JSONTooDeep as exc:
        if 200 <= response.status < 300:
            raise ClientError(
                f"{request.action}: {answered_by(request, response)}'s answer is refused: "
                f"{exc} (response.reads.max_depth)",
                status=response.status,
                request=request,
            ) from None
        body = response.content.decode("utf-8", "replace")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if 200 <= response.status < 300:
            raise ClientError(
                f"{request.action}: {answered_by(request, response)}'s answer is not valid "
                f"{fmt}: {exc}",
                status=response.status,
                request=request,
            ) from None
        body = response.content.decode("utf-8", "replace")
    context["body"] = body
    if "ok_when" in spec:
        ok = as_bool(
            evaluate(spec["ok_when"], context, action=request.action, field="response.ok_when")
        )
    else:
        ok = 200 <= response.status < 300
    if not ok:
        raise status_error(request, response, body, auth_hint)
    for rule in spec.get("fail_when", ()):
        if as_bool(
            evaluate(rule["if"], context, action=request.action, field="response.fail_when")
        ):
            text = str(
                render_value(
                    rule["message"],
                    context,
                    action=request.action,
                    field="response.fail_when.message",
                )
            )
            error_class = {"auth": AuthError, "server": ServerError}.get(
                rule.get("error", ""), ClientError
            )
            raise error_class(
                request.secrets.text(f"{request.action}: {text}"),
                status=response.status,
                request=request,
                body=request.secrets.data(body),
            )
    if "output" in spec:
        return render_value(spec["output"], context, action=request.action, field="response.output")
    return body
