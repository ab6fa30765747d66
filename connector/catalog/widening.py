"""Finds where an overlay widens credential trust beyond the specs it overlays.

Three things widen it: adding trusted hosts, letting a request send credentials to any host,
and rendering a secret connection field anywhere but the auth scheme choice. An overlay that
does any of them is refused unless the caller opts in (`allow_overlay_trust_widening`); then
each widening is listed on the operations it affects, and describe and the dry run show it.
"""

from __future__ import annotations

import functools
import re
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
# `allow_any_host` as the shipped specs write it: a switch the caller sets, one boolean input.
_INPUT_SWITCH = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


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


def _strings(tree: Any, pointer: str, needle: str = "") -> Iterator[tuple[str, str]]:
    """Every string in `tree` holding `needle`, with its JSON pointer (made only for those)."""
    if isinstance(tree, str):
        if needle in tree:
            yield pointer, tree
        return
    if isinstance(tree, dict):
        pairs: Iterable[tuple[Any, Any]] = tree.items()
    elif isinstance(tree, list):
        pairs = enumerate(tree)
    else:
        return
    for key, value in pairs:
        if isinstance(value, str) and needle not in value:
            continue
        token = str(key).replace("~", "~0").replace("/", "~1")
        yield from _strings(value, f"{pointer}/{token}", needle)


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
    # A template without the name `connection` cannot read it: only those holding it are read.
    for pointer, text in _strings({k: v for k, v in op.items() if k != "sample"}, "", "connection"):
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


_CHOSEN_HOST = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}([A-Za-z0-9.-]+)$")


def _chosen_hosts(authority: str, inputs: Iterable[Any]) -> list[str] | None:
    """The hosts `{{ name }}.com` can be, when `name` is an input with a fixed list of choices."""
    found = _CHOSEN_HOST.match(authority)
    spec = found and next(
        (i for i in inputs if isinstance(i, dict) and i.get("key") == found.group(1)), None
    )
    if not found or not spec or not spec.get("choices"):
        return None
    values = [c.get("value") if isinstance(c, dict) else c for c in spec["choices"]]
    return [f"{value}{found.group(2)}" for value in values]


def pinned_to_trusted_host(
    url: Any, trusted_hosts: Iterable[str], inputs: Iterable[Any] = ()
) -> bool:
    """True when a URL template can only reach a trusted https origin.

    That is a literal `https://` and a host that is literal, templated only in its leading
    labels (`https://{{ region }}.mixpanel.com/...`), or one input's value followed by literal
    labels when that input only takes choices that all make trusted hosts
    (`https://{{ regionAndDomain }}.com/...`): interpolated URL values are percent-encoded, so
    they cannot add a `/`, `@` or `:` and move the request to another host.
    """
    if not isinstance(url, str) or not url.lower().startswith("https://"):
        return False
    authority = url[len("https://") :].split("/", 1)[0]
    trusted_hosts = list(trusted_hosts)
    chosen = _chosen_hosts(authority, inputs)
    if chosen is not None:
        return all(_trusted_host(host, trusted_hosts) for host in chosen)
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
    return _trusted_host(literal, trusted_hosts)


def _trusted_host(host: str, trusted_hosts: Iterable[str]) -> bool:
    """True when https://host/ is a trusted origin."""
    return _trusted_host_of(host, tuple(trusted_hosts))


@functools.lru_cache(maxsize=1024)
def _trusted_host_of(host: str, trusted_hosts: tuple[str, ...]) -> bool:
    """`_trusted_host`, remembered: every action repeats its family's few region hosts."""
    try:
        origin = origin_of(f"https://{host}/")
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
    inputs: Iterable[Any] = (),
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
    if pinned_to_trusted_host((op.get("request") or {}).get("url"), trusted_hosts, inputs):
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


def entry_widening(
    resolved: dict[str, Any],
    declared_hosts: Iterable[str],
    secrets: Iterable[str],
    *,
    allow_trust_widening: bool,
) -> list[str]:
    """Where a cached entry (checked, resolved specs read back) claims more trust than allowed.

    An entry is re-checked against the trust rules when it is read, so one written by someone
    else (a shared or planted cache folder) cannot widen where credentials go, even with a valid
    digest. Its trusted hosts must be among `declared_hosts` (those the component files declare:
    the shipped ones only, unless the caller opted in). Without the opt-in, no operation may
    carry widening notes, let a request go to any host other than through one boolean input (as
    Raw Request's Allow Any Host does), or render a secret connection field outside its auth
    scheme unless its URL can only reach a trusted host. Empty: nothing widened.
    """
    hosts = list(resolved["component"].get("trusted_hosts") or ())
    problems = host_widening(hosts, declared_hosts)
    if allow_trust_widening:
        return problems
    secrets = list(secrets)
    for entry in resolved["operations"]:
        problems += operation_entry_widening(entry, hosts, secrets)
    return problems


def host_widening(hosts: Iterable[str], declared_hosts: Iterable[str]) -> list[str]:
    """An entry's trusted hosts that no component file declares (entry_widening's first rule)."""
    declared = set(declared_hosts)
    added = [h for h in hosts if h not in declared]
    if added:
        return [f"trusted host(s) {', '.join(map(repr, added))} no component file declares"]
    return []


def operation_entry_widening(
    entry: dict[str, Any], hosts: Iterable[str], secrets: Iterable[str]
) -> list[str]:
    """Where one cached operation claims more trust than allowed (entry_widening's other rules)."""
    problems: list[str] = []
    op = entry["data"]
    key = op.get("key")
    if entry.get("widened"):
        problems.append(f"{key}: notes of widened trust")
    allow = _allows_any_host(op)
    if allow is not None and not _input_switch(allow, entry.get("inputs") or ()):
        problems.append(f"{key}: allow_any_host {allow!r} is not a boolean input's switch")
    url = (op.get("request") or {}).get("url")
    if pinned_to_trusted_host(url, hosts, entry.get("inputs") or ()):
        return problems
    reads = secret_reads(op, secrets)
    if reads:
        problems.append(f"{key}: renders secret connection field(s) at {sorted(reads)}")
    return problems


def _input_switch(value: Any, inputs: Iterable[Any]) -> bool:
    """True when `value` is `{{ name }}` for one of the operation's boolean inputs."""
    found = _INPUT_SWITCH.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        return False
    return any(
        isinstance(spec, dict)
        and spec.get("key") == found.group(1)
        and spec.get("type") == "boolean"
        for spec in inputs
    )
