"""Strict cassette matching on everything Mixpanel sees, with bodies compared type-strictly.

A live request matches a recorded one only when the method, scheme, host, port, path, the
parsed query (order-free, every key and value), the masked auth fingerprint, Content-Type,
Content-Encoding and the body all agree. The body is decoded by the Content-Type the CASSETTE
recorded (an NDJSON request never matches a JSON cassette) and compared with `difference`,
which checks types recursively (`true` is not `1`, `1` is not `1.0`). Gzip is never undone
silently: the Content-Encoding must match first, then the decompressed content is compared.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

AUTHORIZATION = "Authorization"
UNKNOWN_CREDENTIAL = "<unknown credential>"
NOT_GZIP = b"<Content-Encoding gzip, but the body is not gzip>"
GZIP_UNDECLARED = b"<gzip-compressed body without Content-Encoding gzip>"
_GZIP_MAGIC = b"\x1f\x8b"
_FINGERPRINT = re.compile(r"^\S+ <[^<>]+>$")


# --- fingerprints (record and match time) --------------------------------------------------


def auth_fingerprint(header: str | None, known: Mapping[str, str]) -> str | None:
    """`Basic <service_account>` for the known credential's header, never the credential.

    `known` maps each exact header value of the test (or recording) credentials to the name
    that stands for it in cassettes (the auth scheme that produces it).
    """
    if not header or _FINGERPRINT.match(header):
        return header or None  # vcrpy runs the filter again on loaded and copied requests
    scheme = header.split(" ", 1)[0]
    name = known.get(header)
    return f"{scheme} <{name}>" if name else f"{scheme} {UNKNOWN_CREDENTIAL}"


def _header(request: Any, name: str) -> str | None:
    for key, value in (request.headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def _set_header(request: Any, name: str, value: str | None) -> None:
    for key in [k for k in request.headers if k.lower() == name.lower()]:
        del request.headers[key]
    if value is not None:
        request.headers[name] = value


def fingerprint_request(request: Any, known: Mapping[str, str], scrub: Callable[[str], str]) -> Any:
    """Mask the Authorization header, decompress a declared-gzip body, scrub secrets.

    Runs on the live request before it is matched or recorded (vcrpy passes a copy), and
    again on requests loaded from a cassette, so it leaves fingerprinted requests as they are:
    a declared-gzip body is decompressed only while it still starts with gzip's magic bytes.
    """
    _set_header(request, AUTHORIZATION, auth_fingerprint(_header(request, AUTHORIZATION), known))
    for name in ("Cookie", "Content-Length"):
        _set_header(request, name, None)
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    if body:
        declared = (_header(request, "Content-Encoding") or "").strip().lower() == "gzip"
        if declared and body[:2] == _GZIP_MAGIC:
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                body = NOT_GZIP
        elif not declared and body[:2] == _GZIP_MAGIC:
            body = GZIP_UNDECLARED
        request.body = scrub(body.decode("utf-8", "replace")).encode()
    request.uri = scrub(request.uri)
    return request


# --- type-strict comparison ------------------------------------------------------------------


def difference(left: Any, right: Any, path: str = "$") -> str | None:
    """Where `left` and `right` differ (types compared too), or None when they are the same."""
    if type(left) is not type(right):
        return f"{path}: {type(left).__name__} {left!r} vs {type(right).__name__} {right!r}"
    if isinstance(left, dict):
        if left.keys() != right.keys():
            keys = sorted(set(left) ^ set(right))
            return f"{path}: keys differ: {keys}"
        for key in left:
            found = difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list | tuple):
        if len(left) != len(right):
            return f"{path}: {len(left)} items vs {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path}: {left!r} vs {right!r}"


# --- bodies decoded by the recorded Content-Type -------------------------------------------


def media_type(content_type: str | None) -> str:
    """The lower-cased media type alone (`application/json; charset=utf-8` -> application/json)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def normal_content_type(content_type: str | None) -> str | None:
    """Content-Type without the multipart boundary (random per request); parameters sorted."""
    if content_type is None:
        return None
    media, *params = [part.strip() for part in content_type.split(";")]
    kept = sorted(
        p.lower().replace(" ", "") for p in params if not p.lower().startswith("boundary")
    )
    return ";".join([media.lower(), *kept])


def _form_value(text: str) -> Any:
    """Embedded JSON objects and arrays compare as data (key order and spacing do not count)."""
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _multipart(body: bytes, content_type: str) -> list[Any]:
    message = BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, headersonly=False
    )
    parts = []
    for part in message.get_payload() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        parts.append([name, filename, part.get_payload(decode=True).decode("utf-8", "replace")])
    return sorted(parts, key=json.dumps)


def decode_body(body: bytes | str | None, content_type: str | None) -> Any:
    """The body as data, read as `content_type` says; ValueError when it is not that."""
    raw = body.encode() if isinstance(body, str) else (body or b"")
    media = media_type(content_type)
    text = raw.decode("utf-8", "replace")
    if media == "application/json":
        return json.loads(text) if text.strip() else None
    if media == "application/x-ndjson":
        return [json.loads(line) for line in text.split("\n") if line.strip()]
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        decoded = [[k, _form_value(v)] for k, v in pairs]
        return sorted(decoded, key=lambda pair: json.dumps(pair, sort_keys=True))
    if media == "multipart/form-data":
        return _multipart(raw, content_type or "")
    return text


# --- the matcher -----------------------------------------------------------------------------


def _url_parts(uri: str) -> tuple[str, str, int | None, str, list[tuple[str, str]]]:
    parts = urlsplit(uri)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return parts.scheme, (parts.hostname or "").lower(), parts.port, parts.path, query


def mismatch(live: Any, recorded: Any) -> str | None:
    """Why `live` does not match `recorded` (both fingerprinted), or None when it matches."""
    if live.method.upper() != recorded.method.upper():
        return f"method {live.method} vs {recorded.method}"
    names = ("scheme", "host", "port", "path", "query")
    for name, a, b in zip(names, _url_parts(live.uri), _url_parts(recorded.uri), strict=True):
        if a != b:
            return f"{name} {a!r} vs {b!r}"
    for header in (AUTHORIZATION, "Content-Encoding"):
        a, b = _header(live, header), _header(recorded, header)
        if a != b:
            return f"{header} {a!r} vs {b!r}"
    recorded_type = _header(recorded, "Content-Type")
    a_type, b_type = normal_content_type(_header(live, "Content-Type")), recorded_type
    if a_type != normal_content_type(b_type):
        return f"Content-Type {a_type!r} vs {normal_content_type(b_type)!r}"
    try:
        expected = decode_body(recorded.body, recorded_type)
    except ValueError as exc:  # pragma: no cover - a broken cassette
        return f"the cassette's body is not {media_type(recorded_type)}: {exc}"
    try:
        actual = decode_body(live.body, recorded_type)
    except ValueError as exc:
        return f"the body is not {media_type(recorded_type)} as recorded: {exc}"
    found = difference(actual, expected, "body")
    return found


def wire_matcher(live: Any, recorded: Any) -> None:
    """A vcrpy matcher: raises AssertionError saying the first difference."""
    found = mismatch(live, recorded)
    assert found is None, found
