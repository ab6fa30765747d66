"""Finds where an overlay widens credential trust beyond the specs it overlays.

Three things widen it: adding trusted hosts, letting a request send credentials to any host,
and rendering a secret connection field anywhere but the auth scheme choice. An overlay that
does any of them is refused unless the caller opts in (`allow_overlay_trust_widening`); then
each widening is listed on the operations it affects, and describe and the dry run show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from jinja2 import nodes

from ..core.templates import ENV, is_template
from ..core.urls import origin_of, trusted_by
from ..errors import UnsafeURL

Problem = tuple[str, str]  # (JSON pointer, message)

#: The opt-in, as the runtime's argument and the command line's flag name it.
OPT_IN = "allow_overlay_trust_widening"
OPT_IN_FLAG = "--allow-overlay-trust-widening"
_EXPRESSION_FIELDS = {"when", "if", "ok_when", "items", "enabled", "stop_when"}
_ALL = "*"


def refusal(message: str) -> str:
    """The spec problem for a widening the caller did not opt in to."""
    return (
        f"{message}; an overlay may not widen where credentials go unless the caller opts in "
        f"({OPT_IN_FLAG}, or {OPT_IN}=True)"
    )


def component_widening(current: dict[str, Any], overlay: dict[str, Any]) -> list[Problem]:
    """An overlay's component.yaml adding trusted host patterns to those loaded so far."""
    if "trusted_hosts" not in overlay:
        return []
    known = set(current.get("trusted_hosts") or ())
    added = [h for h in overlay.get("trusted_hosts") or () if h not in known]
    if not added:
        return []
    shown = ", ".join(repr(h) for h in added)
    return [("/trusted_hosts", f"adds trusted host(s) {shown}: credentials would go there")]


def _strings(tree: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(tree, str):
        yield pointer, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            token = str(key).replace("~", "~0").replace("/", "~1")
            yield from _strings(value, f"{pointer}/{token}")
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _strings(value, f"{pointer}/{index}")


def connection_reads(source: str) -> set[str]:
    """The connection fields a template reads; "*" when it uses the connection as a whole."""
    try:
        tree = ENV.parse(source)
    except Exception:  # noqa: BLE001 - a syntax error is reported by the template checks
        return set()
    named: set[str] = set()
    explained: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Call)):
        target: Any = node
        field = None
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            inner = node.node
            if inner.attr == "get" and node.args and isinstance(node.args[0], nodes.Const):
                target, field = inner, node.args[0].value
        elif isinstance(node, nodes.Getattr) and node.attr != "get":
            field = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            field = node.arg.value
        base = getattr(target, "node", None)
        if field is not None and isinstance(base, nodes.Name) and base.name == "connection":
            named.add(str(field))
            explained.add(id(base))
    for name in tree.find_all(nodes.Name):
        if name.name == "connection" and id(name) not in explained:
            named.add(_ALL)
    return named


def secret_reads(op: dict[str, Any], secrets: Iterable[str]) -> dict[str, set[str]]:
    """Secret connection fields each template of `op` reads, by pointer (the auth choice aside)."""
    secret = set(secrets)
    found: dict[str, set[str]] = {}
    for pointer, text in _strings({k: v for k, v in op.items() if k != "sample"}, ""):
        if pointer == "/request/auth":
            continue
        if pointer.rsplit("/", 1)[-1] in _EXPRESSION_FIELDS and not is_template(text):
            text = "{{ " + text + " }}"
        if not is_template(text):
            continue
        reads = connection_reads(text)
        hit = secret if _ALL in reads else reads & secret
        if hit:
            found[pointer] = hit
    return found


def pinned_to_trusted_host(url: Any, trusted_hosts: Iterable[str]) -> bool:
    """True when a URL template can only reach a trusted https origin.

    That is a literal `https://` and a host that is literal, or templated only in its leading
    labels (`https://{{ region }}.mixpanel.com/...`): interpolated URL values are percent-encoded,
    so they cannot add a `/`, `@` or `:` and move the request to another host.
    """
    if not isinstance(url, str) or not url.lower().startswith("https://"):
        return False
    authority = url[len("https://") :].split("/", 1)[0]
    if (
        "{%" in authority
        or "join_url" in authority
        or authority.count("{{") != authority.count("}}")
    ):
        return False
    literal = authority.rsplit("}}", 1)[-1]
    if "}}" in authority:
        if not literal.startswith(".") or len(literal) < 2:
            return False
        literal = "label" + literal
    try:
        origin = origin_of(f"https://{literal}/")
    except UnsafeURL:
        return False
    return trusted_by(origin, trusted_hosts, None) is not None


def _allows_any_host(op: dict[str, Any]) -> Any:
    value = (op.get("request") or {}).get("allow_any_host", False)
    return None if value in (False, None, "false", "False") else value


def operation_widening(
    op: dict[str, Any],
    shipped: dict[str, Any] | None,
    secrets: Iterable[str],
    trusted_hosts: Iterable[str] = (),
) -> list[Problem]:
    """What an overlay's operation widens compared with the operation it replaces (if any).

    A secret rendered outside the auth scheme is no widening when the URL template can only
    reach a trusted host (as Mixpanel's ingestion endpoints take the project token in the body).
    """
    problems: list[Problem] = []
    allow = _allows_any_host(op)
    if allow is not None and allow != _allows_any_host(shipped or {}):
        problems.append(
            ("/request/allow_any_host", "lets the request send credentials to any host")
        )
    if pinned_to_trusted_host((op.get("request") or {}).get("url"), trusted_hosts):
        return problems
    secrets = list(secrets)
    before = secret_reads(shipped or {}, secrets)
    for pointer, fields in secret_reads(op, secrets).items():
        new = sorted(fields - before.get(pointer, set()))
        if new:
            problems.append(
                (
                    pointer,
                    f"renders the secret connection field(s) {', '.join(new)} outside an "
                    "auth scheme",
                )
            )
    return problems
