"""Pure rendering of an operation's request template into an HTTPRequest (no I/O)."""

from __future__ import annotations

import functools
import gzip as gzip_lib
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from ..catalog.spec import OperationSpec
from ..core.jsonenc import json_bytes, json_text
from ..core.redact import Redactor
from ..core.templates import (
    as_bool,
    input_context,
    is_template,
    render_url,
    render_value,
    undeclared_names,
)
from ..core.urls import rebase
from ..core.values import is_missing
from ..errors import InputError, InputProblem, RenderError, UnsafeURL
from .csvbody import CSV_CONTENT_TYPE, CSVFile, csv_bytes, csv_file
from .request import HTTPRequest


def encode_scalar(value: Any) -> str:
    """Text of a scalar as forms and query strings send it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json_text(value)
    return str(value)


def encode_pairs(mapping: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten a mapping into (name, text) pairs; lists repeat the name, mappings become JSON."""
    pairs: list[tuple[str, str]] = []
    for name, value in mapping.items():
        if isinstance(value, list):
            pairs.extend((name, encode_scalar(v)) for v in value if not is_missing(v))
        elif not is_missing(value):
            pairs.append((name, encode_scalar(value)))
    return pairs


#: Level 1: zlib's is about 9x faster than its level 9 for about 1.7x the bytes on event JSON; a
#: bulk import is bound by the client's CPU long before the link (tools/bench/bench_import.py).
#: ISA-L's level 1 (`isal`, a dependency) is 3.8x faster again than zlib's, and 6% smaller:
#: 0.33 against 1.26 us of CPU an event on 2,000-event /import bodies.
REQUEST_GZIP_LEVEL = 1


@functools.cache
def gzip_compress() -> Callable[..., bytes]:
    """The gzip compressor of request bodies: ISA-L's igzip if installed, else the stdlib's."""
    try:
        from isal import igzip  # loaded by the first gzip body, not by every run
    except ImportError:  # a platform without its wheels: zlib, slower, the same protocol
        return gzip_lib.compress
    return igzip.compress


def gzip_bytes(content: bytes) -> bytes:
    """Gzip a body deterministically (mtime 0), so cassettes can match it."""
    return gzip_compress()(content, compresslevel=REQUEST_GZIP_LEVEL, mtime=0)


_CONTENT_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "ndjson": "application/x-ndjson",
}


def _render_mapping(spec: Any, context: dict[str, Any], action: str, field: str) -> dict[str, Any]:
    rendered = render_value(spec, context, action=action, field=field) if spec else {}
    if is_missing(rendered):
        return {}
    if not isinstance(rendered, Mapping):
        raise RenderError(action, field, f"expected a mapping, got {type(rendered).__name__}")
    return dict(rendered)


def _encode_body(
    body: Mapping[str, Any], context: dict[str, Any], action: str
) -> tuple[str, Any, bytes | None, str | None, list[tuple[str, str]], list[tuple[str, str, bytes]]]:
    """Return (format, readable body, content, content type, form fields, files)."""
    fmt = str(
        render_value(
            body.get("format", "none"), context, action=action, field="request.body.format"
        )
    )
    value = render_value(body.get("content"), context, action=action, field="request.body.content")
    if fmt == "json":
        return fmt, value, json_bytes(value), _CONTENT_TYPES[fmt], [], []
    if fmt == "form":
        pairs = encode_pairs(value or {})
        return fmt, dict(value or {}), urlencode(pairs).encode(), _CONTENT_TYPES[fmt], [], []
    if fmt == "ndjson":
        lines = value if isinstance(value, list) else [value]
        text = "".join(json_text(v) + "\n" for v in lines)
        return fmt, value, text.encode(), _CONTENT_TYPES[fmt], [], []
    if fmt == "raw":
        if is_missing(value):
            return "none", None, None, None, [], []
        if isinstance(value, dict | list):
            return fmt, value, json_bytes(value), "application/json", [], []
        return fmt, value, str(value).encode(), None, [], []
    if fmt == "multipart":
        fields = encode_pairs(value or {})
        files_spec = _render_mapping(body.get("files"), context, action, "request.body.files")
        names = _render_mapping(body.get("file_names"), context, action, "request.body.file_names")
        files = [
            (name, str(names.get(name, name)), encode_scalar(data).encode())
            for name, data in files_spec.items()
        ]
        shown = {"fields": dict(fields), "files": sorted(files_spec)}
        return fmt, shown, None, None, fields, files
    if fmt == "csv":
        if is_missing(value):
            return fmt, None, None, CSV_CONTENT_TYPE, [], []
        content = csv_bytes(value)
        csv_shown = {"bytes": len(content), "lines": content.count(b"\n")}
        return fmt, csv_shown, content, CSV_CONTENT_TYPE, [], []
    if fmt == "none":
        return fmt, None, None, None, [], []
    raise RenderError(action, "request.body.format", f"unknown body format {fmt!r}")


def _url_problem(op: OperationSpec, values: Mapping[str, Any], exc: UnsafeURL) -> Exception:
    """The error for an unsafe URL, naming the inputs its template reads that hold the culprit."""
    named = undeclared_names(op.request["url"]) if is_template(op.request["url"]) else set()
    reads = [spec for spec in op.value_inputs if spec.key in named and values.get(spec.key)]
    culprits = [s for s in reads if exc.marker and exc.marker in str(values[s.key])] or reads
    if not culprits:
        return RenderError(op.key, "request.url", f"the URL {exc}")
    return InputError(op.key, [InputProblem(s.key, s.label, f"the URL {exc}.") for s in culprits])


def _input_problem(
    op: OperationSpec, values: Mapping[str, Any], sources: list[Any], message: str
) -> InputError | RenderError:
    """An InputError naming the given inputs the `sources` templates read, else a RenderError."""
    named: set[str] = set()
    for source in sources:
        if is_template(source):
            named |= undeclared_names(source)
    culprits = [s for s in op.value_inputs if s.key in named and not is_missing(values.get(s.key))]
    if not culprits:
        return RenderError(op.key, "request.body", message)
    return InputError(op.key, [InputProblem(s.key, s.label, message) for s in culprits])


def _streamed_file(
    body_spec: Mapping[str, Any], context: dict[str, Any], op: OperationSpec
) -> CSVFile | None:
    """The file a `csv` body streams (`body.file`), or None."""
    path = render_value(body_spec.get("file"), context, action=op.key, field="request.body.file")
    try:
        return csv_file(path)
    except ValueError as exc:  # csv_file's refusal
        raise _input_problem(op, context, [body_spec.get("file")], f"{exc}.") from None


def _check_size(
    op: OperationSpec, values: Mapping[str, Any], body_spec: Mapping[str, Any], size: int
) -> None:
    """Refuse a body larger than `body.max_bytes`, naming the inputs that fill it."""
    limit = body_spec.get("max_bytes")
    if limit is None or size <= int(limit):
        return
    message = (
        f"the request body would be {size:,} bytes, more than the {int(limit):,} bytes "
        f"({int(limit) / 2**20:g} MB) the API accepts in one request; split it or make it smaller."
    )
    sources = [body_spec.get("content"), body_spec.get("file")]
    raise _input_problem(op, values, sources, message)


def _body(
    op: OperationSpec, values: Mapping[str, Any], context: dict[str, Any], headers: dict[str, str]
) -> tuple[
    str, Any, bytes | None, list[tuple[str, str]], list[tuple[str, str, bytes]], CSVFile | None
]:
    """The encoded body (format, readable form, bytes, form fields, files, streamed file).

    Sets its headers; a body over the declared `max_bytes` is refused here, before sending.
    """
    spec, action = op.request, op.key
    body_spec = spec.get("body") or {}
    try:
        fmt, shown, content, content_type, fields, files = _encode_body(
            body_spec or {"format": "none"}, context, action
        )
    except ValueError as exc:  # rows csv_bytes refused (a template's own fails as RenderError)
        if body_spec.get("format") != "csv":
            raise
        raise _input_problem(op, values, [body_spec.get("content")], f"{exc}.") from None
    streamed = _streamed_file(body_spec, context, op) if fmt == "csv" else None
    if streamed is not None:
        if content is not None:
            message = "give the rows or the file, not both."
            raise _input_problem(op, values, [body_spec["content"], body_spec["file"]], message)
        shown = {"file": streamed.path, "bytes": streamed.size}
    if "content_type" in body_spec:
        content_type = str(
            render_value(
                body_spec["content_type"], context, action=action, field="request.body.content_type"
            )
        )
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    if content is not None and as_bool(
        render_value(
            body_spec.get("gzip", False), context, action=action, field="request.body.gzip"
        )
    ):
        content = gzip_bytes(content)
        headers["Content-Encoding"] = "gzip"
    size = streamed.size if streamed is not None else len(content or b"")
    _check_size(op, values, body_spec, size)
    return fmt, shown, content, fields, files, streamed


def render_request(
    op: OperationSpec,
    values: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    base_url: str | None = None,
    rebase_hosts: Iterable[str] = (),
    secrets: Redactor | None = None,
) -> HTTPRequest:
    """Render the operation's request template with validated input values. Pure: no I/O.

    With `base_url`, a URL whose host matches a `rebase_hosts` pattern goes to that base instead.
    """
    spec = op.request
    context = input_context(values, connection)
    action = op.key
    method = str(render_value(spec["method"], context, action=action, field="request.method"))
    try:
        url = rebase(render_url(spec["url"], context, action=action), base_url, rebase_hosts)
    except UnsafeURL as exc:
        raise _url_problem(op, values, exc) from None
    params = encode_pairs(_render_mapping(spec.get("query"), context, action, "request.query"))
    headers = {
        str(k): encode_scalar(v)
        for k, v in _render_mapping(spec.get("headers"), context, action, "request.headers").items()
    }
    fmt, shown, content, fields, files, streamed = _body(op, values, context, headers)
    timeout = render_value(spec.get("timeout_s"), context, action=action, field="request.timeout_s")
    retry = render_value(dict(op.retry), context, action=action, field="retry")
    return HTTPRequest(
        action=action,
        method=method.upper(),
        url=url,
        params=tuple(params),
        headers=headers,
        body_format=fmt,
        body=shown,
        content=content,
        body_file=streamed,
        files=tuple(files),
        form_fields=tuple(fields),
        auth_scheme=str(render_value(spec["auth"], context, action=action, field="request.auth")),
        allow_any_host=as_bool(
            render_value(
                spec.get("allow_any_host", False),
                context,
                action=action,
                field="request.allow_any_host",
            )
        ),
        timeout_s=float(timeout) if not is_missing(timeout) else None,
        retry=retry,
        response=dict(op.response),
        inputs=dict(values),
        secrets=secrets or Redactor(),
    )
