"""Pure rendering of spec templates into an HTTPRequest, in a strict Jinja sandbox."""

from __future__ import annotations

import fnmatch
import functools
import gzip as gzip_lib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson
from jinja2 import StrictUndefined, TemplateError, Undefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from .errors import RenderError
from .redact import Redactor
from .request import HTTPRequest
from .spec import OperationSpec
from .values import is_missing, parse_bool

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%).)*)\}\}\s*$", re.DOTALL)


class TrustedURL(str):
    """A URL part produced by a filter that already checked it; not percent-encoded again."""


class EncodedList(list[Any]):
    """A list whose compact JSON is already known, in `parts` (joined by commas, bracketed).

    Batched actions encode each record once to measure it; bodies reuse those bytes.
    """

    def __init__(self, items: list[Any], parts: list[bytes]) -> None:
        super().__init__(items)
        self.parts = parts  # each the JSON of one or more consecutive items, comma-separated

    def json_bytes(self) -> bytes:
        """The whole list's compact JSON."""
        return b"[" + b",".join(self.parts) + b"]"


def _to_json(value: Any) -> str | None:
    """JSON-encode compactly; empty values stay empty so their parameter is dropped."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if type(value) is EncodedList:
        return value.json_bytes().decode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _join_url(base: Any, path: Any) -> TrustedURL:
    """Join a base URL and a path; an absolute http(s) path replaces the base."""
    path_text = "" if path is None else str(path).strip()
    if urlsplit(path_text).scheme in ("http", "https"):
        return TrustedURL(path_text)
    base_text = str(base or "").strip()
    if urlsplit(base_text).scheme not in ("http", "https") or not urlsplit(base_text).hostname:
        raise ValueError(f"{base_text!r} is not an http(s) URL")
    joined = base_text.rstrip("/") + "/" + path_text.lstrip("/") if path_text else base_text
    return TrustedURL(quote(joined, safe=":/?#[]@!$&'()*+,;=%~"))


def _flatten_groups(value: Any, key_name: str) -> list[dict[str, Any]]:
    """Turn {group: [item, …]} (or {group: item}) into [item + {key_name: group}, …]."""
    if not isinstance(value, Mapping):
        return []
    flat: list[dict[str, Any]] = []
    for group, items in value.items():
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, Mapping):
                flat.append({**item, key_name: group})
    return flat


def _fill_missing(items: Any, path: str, value: Any) -> Any:
    """Set the dotted `path` in each mapping of `items` where it is missing or empty.

    The items are copied, never changed in place; a None `value` leaves them as they are.
    """
    if is_missing(value) or not isinstance(items, list):
        return items
    keys = path.split(".")

    def fill(node: Any, depth: int) -> Any:
        if not isinstance(node, Mapping):
            return node
        key = keys[depth]
        if depth == len(keys) - 1:
            return node if not is_missing(node.get(key)) else {**node, key: value}
        if key in node and not isinstance(node[key], Mapping):
            return node
        return {**node, key: fill(node.get(key, {}), depth + 1)}

    return [fill(item, 0) for item in items]


def _merge(base: Any, other: Any) -> dict[str, Any]:
    """A new mapping with `other`'s entries over `base`'s; a non-mapping counts as empty."""
    left = dict(base) if isinstance(base, Mapping) else {}
    right = dict(other) if isinstance(other, Mapping) else {}
    return {**left, **right}


def _finalize_url_part(value: Any) -> str:
    if isinstance(value, TrustedURL):
        return str(value)
    return "" if value is None else quote(str(value), safe="")


def _make_environment(finalize: Callable[[Any], Any] | None = None) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, finalize=finalize)
    env.filters.update(
        json=_to_json,
        join_url=_join_url,
        flatten_groups=_flatten_groups,
        fill_missing=_fill_missing,
        merge=_merge,
    )
    return env


ENV = _make_environment()
URL_ENV = _make_environment(_finalize_url_part)


def is_template(value: Any) -> bool:
    """True when `value` is a string holding Jinja syntax."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str, url: bool) -> Callable[[dict[str, Any]], Any]:
    match = None if url else _SINGLE_EXPRESSION.match(source)
    if match:
        expression = ENV.compile_expression(match.group("expr"), undefined_to_none=False)
        return expression
    template = (URL_ENV if url else ENV).from_string(source)
    return template.render


def evaluate(source: str, context: dict[str, Any], *, action: str, field: str) -> Any:
    """Evaluate a bare Jinja expression (no braces), as rules and conditions are written."""
    return render_value("{{ " + source + " }}", context, action=action, field=field)


def render_value(value: Any, context: dict[str, Any], *, action: str, field: str) -> Any:
    """Render a template tree; mapping entries that render to null or "" are dropped."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        try:
            result = _compiled(value, False)(context)
        except TemplateError as exc:
            raise RenderError(action, field, exc.message or str(exc)) from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise RenderError(action, field, str(exc)) from None
        if isinstance(result, Undefined):
            raise RenderError(action, field, "the template names an undefined variable")
        return result
    if isinstance(value, dict):
        rendered = {}
        for key, item in value.items():
            out = render_value(item, context, action=action, field=f"{field}.{key}")
            if not is_missing(out):
                rendered[key] = out
        return rendered
    if isinstance(value, list):
        return [
            render_value(item, context, action=action, field=f"{field}[{n}]")
            for n, item in enumerate(value)
        ]
    return value


def render_url(source: str, context: dict[str, Any], *, action: str) -> str:
    """Render a URL template; interpolated values are percent-encoded unless trusted."""
    try:
        return str(_compiled(source, True)(context))
    except TemplateError as exc:
        raise RenderError(action, "request.url", exc.message or str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise RenderError(action, "request.url", str(exc)) from None


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> nodes.Template:
    return ENV.parse(source)


def undeclared_names(source: str) -> set[str]:
    """Names a template reads that it does not define itself (for spec checks)."""
    return set(meta.find_undeclared_variables(_parsed(source)))


def syntax_error(source: str) -> str | None:
    """The template's syntax error, or None when it parses."""
    try:
        _parsed(source)
    except TemplateError as exc:
        return exc.message or str(exc)
    return None


#: The words forms and specs use for true and false, wherever text is read as a flag.
def as_bool(value: Any) -> bool:
    """Truth of a rendered flag: true/false text or a bool (empty: false); else its truthiness.

    Raises:
        ValueError: text that is neither a true nor a false word.
    """
    if isinstance(value, str | bool) or value is None:
        return bool(parse_bool(value))
    return bool(value)


def encode_scalar(value: Any) -> str:
    """Text of a scalar as forms and query strings send it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
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


#: zlib level 1: about 9x faster than level 9 for about 1.7x the bytes on event JSON; a bulk
#: import is bound by the client's CPU long before the link (tools/bench/bench_import.py).
GZIP_LEVEL = 1


def gzip_bytes(content: bytes) -> bytes:
    """Gzip a body deterministically (mtime 0), so cassettes can match it."""
    return gzip_lib.compress(content, compresslevel=GZIP_LEVEL, mtime=0)


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
        return fmt, value, _dumps(value), _CONTENT_TYPES[fmt], [], []
    if fmt == "form":
        pairs = encode_pairs(value or {})
        return fmt, dict(value or {}), urlencode(pairs).encode(), _CONTENT_TYPES[fmt], [], []
    if fmt == "ndjson":
        lines = value if isinstance(value, list) else [value]
        text = "".join(
            json.dumps(v, separators=(",", ":"), ensure_ascii=False) + "\n" for v in lines
        )
        return fmt, value, text.encode(), _CONTENT_TYPES[fmt], [], []
    if fmt == "raw":
        if is_missing(value):
            return "none", None, None, None, [], []
        if isinstance(value, dict | list):
            return fmt, value, _dumps(value), "application/json", [], []
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
    if fmt == "none":
        return fmt, None, None, None, [], []
    raise RenderError(action, "request.body.format", f"unknown body format {fmt!r}")


def _dumps(value: Any) -> bytes:
    if type(value) is EncodedList:
        return value.json_bytes()
    try:  # orjson writes the same compact UTF-8 JSON, several times faster
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _rebase(url: str, base_url: str | None, hosts: Iterable[str]) -> str:
    """Send to `base_url`'s scheme and host instead, keeping path and query.

    Only a URL whose host matches one of the `hosts` patterns moves; any other host is kept.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not base_url or not any(fnmatch.fnmatchcase(host, p.lower()) for p in hosts):
        return url
    base = urlsplit(base_url)
    return parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()


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
    context: dict[str, Any] = {**values, "connection": dict(connection)}
    action = op.key
    method = str(render_value(spec["method"], context, action=action, field="request.method"))
    url = _rebase(render_url(spec["url"], context, action=action), base_url, rebase_hosts)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise RenderError(action, "request.url", f"{url!r} is not an absolute http(s) URL")
    params = encode_pairs(_render_mapping(spec.get("query"), context, action, "request.query"))
    headers = {
        str(k): encode_scalar(v)
        for k, v in _render_mapping(spec.get("headers"), context, action, "request.headers").items()
    }
    fmt, shown, content, content_type, fields, files = _encode_body(
        spec.get("body") or {"format": "none"}, context, action
    )
    body_spec = spec.get("body") or {}
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
