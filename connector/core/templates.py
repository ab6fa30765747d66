"""Spec templates: a strict Jinja sandbox, its filters, compiled-template cache and rendering."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import StrictUndefined, TemplateError, Undefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from ..errors import RenderError, UnsafeURL
from .jsonenc import EncodedList, json_text
from .paths import dotted
from .values import is_missing, parse_bool

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%).)*)\}\}\s*$", re.DOTALL)


class TrustedURL(str):
    """A URL part produced by a filter that already checked it; not percent-encoded again."""


def _to_json(value: Any) -> str | None:
    """JSON-encode compactly; empty values stay empty so their parameter is dropped."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if type(value) is EncodedList:  # the bytes its records were measured with
        return value.json_bytes().decode()
    return json_text(value)


def _fingerprint(value: Any) -> str | None:
    """A short SHA-256 fingerprint: keys state by a secret without storing or showing it."""
    if is_missing(value):
        return None
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12]


def _join_url(base: Any, path: Any) -> TrustedURL:
    """Join a base URL and a path; an absolute http(s) path replaces the base."""
    path_text = "" if path is None else str(path).strip()
    if urlsplit(path_text).scheme in ("http", "https"):
        return TrustedURL(path_text)
    base_text = str(base or "").strip()
    if urlsplit(base_text).scheme not in ("http", "https") or not urlsplit(base_text).hostname:
        raise UnsafeURL("has a base that is not an absolute http(s) URL", base_text)
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
    keys = dotted(path)

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


#: Path segments that URL parsers resolve (`/a/../b` is `/b`): a value that is one of them would
#: move a path parameter's request elsewhere, so it is refused rather than encoded.
_DOT_SEGMENTS = frozenset({".", ".."})


def _finalize_url_part(value: Any) -> str:
    if isinstance(value, TrustedURL):
        return str(value)
    text = "" if value is None else str(value)
    if text.strip() in _DOT_SEGMENTS:
        raise UnsafeURL(
            f"would get the path segment {text.strip()!r}, which moves the request", text
        )
    return quote(text, safe="")


def _make_environment(finalize: Callable[[Any], Any] | None = None) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, finalize=finalize)
    env.filters.update(
        json=_to_json,
        fingerprint=_fingerprint,
        join_url=_join_url,
        flatten_groups=_flatten_groups,
        fill_missing=_fill_missing,
        merge=_merge,
    )
    return env


ENV = _make_environment()
URL_ENV = _make_environment(_finalize_url_part)


def input_context(values: Mapping[str, Any], connection: Mapping[str, Any]) -> dict[str, Any]:
    """What an operation's templates read: its input values, and `connection`'s fields."""
    return {**values, "connection": dict(connection)}


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
    except UnsafeURL:
        raise  # the caller names the input that holds it
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


def as_bool(value: Any) -> bool:
    """Truth of a rendered flag: true/false text or a bool (empty: false); else its truthiness.

    Raises:
        ValueError: text that is neither a true nor a false word.
    """
    if isinstance(value, str | bool) or value is None:
        return bool(parse_bool(value))
    return bool(value)
