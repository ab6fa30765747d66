"""Renders the Markdown reference of whatever specs are loaded (shipped and overlays)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..budgets.memory import RateLimit
from ..catalog.spec import ComponentSpec, ConnectionSpec, InputSpec, OperationSpec
from ..core.templates import is_template, render_value, undeclared_names
from ..errors import ConnectorError
from .declared import declared_facts

TYPE_NAMES = {
    "string": "text",
    "password": "secret text",
    "integer": "whole number",
    "number": "number",
    "boolean": "true/false",
    "json": "JSON",
    "json_or_text": "JSON or text",
    "list": "list (comma-separated or JSON array)",
    "key_value_list": "key/value list",
    "connection": "connection",
}


def _cell(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split()).replace("|", "\\|")


def _input_row(spec: InputSpec) -> str:
    details = [TYPE_NAMES[spec.type]]
    details.append("required" if spec.required else "optional")
    if spec.default not in (None, ""):
        details.append(f"default `{_cell(spec.default)}`")
    if spec.choices:
        details.append("one of " + ", ".join(f"`{_cell(c)}`" for c in spec.choices))
    if spec.group:
        details.append(f"also accepted inside `{spec.group}`")
    if spec.data_source:
        details.append(f"picked from the `{spec.data_source}` data source")
    if spec.deprecated:
        details.append(f"deprecated: {spec.deprecated}")
    notes = _cell(spec.notes)
    return (
        f"| {_cell(spec.label)} | `{spec.key}` | {'; '.join(details)} | {notes} | "
        f"{_cell(spec.example)} |"
    )


def _inputs_table(inputs: tuple[InputSpec, ...]) -> list[str]:
    rows = ["| Input | Key | Type | Notes | Example |", "|---|---|---|---|---|"]
    return rows + [_input_row(spec) for spec in inputs]


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```"]


def _lifecycle(notice: dict[str, Any]) -> str:
    subject = f"{notice['subject']}: " if notice.get("subject") else ""
    link = f" ({notice['url']})" if notice.get("url") else ""
    return f"**{notice['status']}**: {subject}{' '.join(notice['message'].split())}{link}"


def _named_inputs(op: OperationSpec, template: str) -> list[InputSpec]:
    names = undeclared_names(template)
    return [i for i in op.value_inputs if i.key in names]


def _urls(op: OperationSpec) -> list[str]:
    """The request URL for each choice of the input that picks the host (the region)."""
    template = str(op.request["url"])
    if not is_template(template):
        return [f"`{template}`"]
    used = _named_inputs(op, template)
    context: dict[str, Any] = {i.key: "{" + i.key + "}" for i in used}
    picker = next((i for i in used if i.choices), None)

    def url(values: dict[str, Any]) -> str:
        text = str(render_value(template, values, action=op.key, field="url"))
        for key in context:  # a placeholder percent-encoded by a URL filter reads as one again
            text = text.replace("%7B" + key + "%7D", "{" + key + "}")
        return f"`{text}`"

    try:
        if picker is None:
            return [url(context)]
        choices = picker.choices
        return [f"{picker.describe()} `{c}`: {url({**context, picker.key: c})}" for c in choices]
    except (ConnectorError, ValueError):
        named = ", ".join(i.describe() for i in used)
        return [f"built from {named}"]


def _method(op: OperationSpec) -> str:
    method = str(op.request["method"])
    if not is_template(method):
        return f"`{method.upper()}`"
    return "set by " + ", ".join(i.describe() for i in _named_inputs(op, method))


def _auth(op: OperationSpec, connection: ConnectionSpec) -> str:
    auth = str(op.request["auth"])
    schemes = connection.auth_schemes
    if not is_template(auth):
        return f"`{auth}`: {schemes[auth].description}" if auth in schemes else f"`{auth}`"
    named = [name for name in schemes if f"'{name}'" in auth or f'"{name}"' in auth]
    deciders = [i.describe() for i in _named_inputs(op, auth)]
    if "connection" in undeclared_names(auth):
        deciders.append("the connection's fields")
    return f"{' or '.join(f'`{n}`' for n in named)}, depending on {' and '.join(deciders)}"


def _budget(limit: RateLimit) -> str:
    parts = []
    if limit.per_hour:
        parts.append(f"{limit.per_hour} {limit.unit} per hour")
    if limit.per_minute:
        unit = "" if parts else f" {limit.unit}"
        parts.append(f"{limit.per_minute}{unit} per minute")
    if limit.per_second:
        parts.append(f"{limit.per_second} per second")
    if limit.max_concurrent:
        parts.append(f"{limit.max_concurrent} at once")
    scope = f", per {limit.scope}" if limit.scope else ""
    return f"{limit.label or limit.name} (`{limit.name}`): {', '.join(parts)}{scope}"


def _figure(value: str | int | float) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _request_facts(op: OperationSpec, spec: ComponentSpec) -> list[str]:
    urls = _urls(op)
    lines = [f"- Method: {_method(op)}"]
    if len(urls) == 1:
        lines.append(f"- URL: {urls[0]}")
    else:
        lines += ["- URL:"] + [f"  - {url}" for url in urls]
    lines.append(f"- Authentication: {_auth(op, spec.connection)}")
    budget = str(op.retry.get("rate_limit") or "")
    if budget in spec.rate_limits:
        lines.append(f"- Rate budget: {_budget(spec.rate_limits[budget])}")
    elif budget and is_template(budget):
        lines.append(f"- Rate budget: chosen by inputs (`{budget}`)")
    scalars = {k: v for k, v in op.batch.items() if isinstance(v, str | int | float)}
    if scalars:
        facts = ", ".join(f"{key.replace('_', ' ')} {_figure(v)}" for key, v in scalars.items())
        adaptive = op.batch.get("concurrency")
        if adaptive:
            facts += f", up to {_figure(adaptive['max'])} requests in flight (fewer after 429/503)"
        lines.append(f"- Batching: {facts}")
    lines += declared_facts(op, spec)
    if op.lifecycle:
        lines.append(f"- Lifecycle: {_lifecycle(op.lifecycle)}")
    return lines + [""]


def _operation(op: OperationSpec, spec: ComponentSpec) -> list[str]:
    kind = f"key: `{op.key}`" + (f" · type: {op.type}" if op.type else "")
    lines = [f"### {op.label}", "", op.description, "", kind, ""]
    if op.source != "shipped":
        lines += [f"From the overlay folder `{op.source}` (`{op.file}`).", ""]
    if op.openapi:
        lines += [
            f"{spec.name} operation: `{op.openapi.get('operation_id')}` in "
            f"`{op.openapi.get('file')}`.",
            "",
        ]
    lines += _request_facts(op, spec)
    if op.notes:
        lines += [f"**Notes.** {' '.join(op.notes.split())}", ""]
    lines += _inputs_table(op.inputs) + ["", "Sample output:", ""] + _json_block(op.sample)
    return lines + [""]


def _compatibility(spec: ComponentSpec) -> list[str]:
    """One section: every departure from the vendor's docs and from earlier versions, once."""
    notes = spec.compatibility
    operations = [*spec.data_sources.values(), *spec.actions.values()]
    earlier = [op for op in operations if op.earlier_sample is not None]
    if not notes and not earlier:
        return []
    lines = ["## Compatibility", ""]
    if notes.get("intro"):
        lines += [" ".join(str(notes["intro"]).split()), ""]
    headings = {
        "vendor_docs": f"Differences from {spec.name}'s documentation",
        "earlier_versions": "Differences from earlier versions of this component",
    }
    for section, heading in headings.items():
        if notes.get(section):
            lines += [f"### {heading}", ""]
            for note in notes[section]:
                lines.append(f"- **{note['applies_to']}.** {' '.join(note['text'].split())}")
            lines.append("")
    if earlier:
        lines += [
            "### Sample outputs earlier versions documented",
            "",
            f"These samples are not what {spec.name} returns for the call; the action's own "
            "section shows the real answer.",
            "",
        ]
        for op in earlier:
            lines += [f"{op.label} (`{op.key}`):", ""] + _json_block(op.earlier_sample) + [""]
    return lines


def render_reference(spec: ComponentSpec) -> str:
    """The whole reference as Markdown."""
    lines = [
        f"# {spec.name} component reference",
        "",
        "<!-- Generated by `mixpanel-connector docs` from the specs; do not edit by hand. -->",
        "",
        spec.description,
        "",
        f"Component key: `{spec.key}`",
        "",
        " ".join(spec.overview.split()),
        "",
        f"API documentation: {spec.documentation_url}",
        "",
        "## Connection",
        "",
        f"### {spec.connection.label}",
        "",
        f"key: `{spec.connection.key}`",
        "",
        " ".join(spec.connection.description.split()),
        "",
        spec.connection.setup.strip(),
        "",
    ]
    lines += _inputs_table(spec.connection.inputs) + [""]
    lines += ["Authentication schemes used by the actions:", ""]
    for name, scheme in spec.connection.auth_schemes.items():
        notice = f" {_lifecycle(scheme.lifecycle)}" if scheme.lifecycle else ""
        lines.append(f"- `{name}`: {scheme.description}{notice}")
    if spec.connection.lifecycle:
        lines += ["", "Notices:", ""] + [f"- {_lifecycle(n)}" for n in spec.connection.lifecycle]
    lines += ["", "## Data sources", ""]
    for op in spec.data_sources.values():
        lines += _operation(op, spec)
    lines += ["## Actions", ""]
    for op in spec.actions.values():
        lines += _operation(op, spec)
    lines += _compatibility(spec)
    return "\n".join(lines).rstrip() + "\n"


def write_reference(text: str, out: Path | None, *, check: bool = False) -> int:
    """Print the reference, or write it to out/reference.md; with `check`, compare instead."""
    if out is None:
        sys.stdout.write(text)
        return 0
    path = out / "reference.md"
    if check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is out of date: run mixpanel-connector docs --out {out}")
            return 1
        print(f"{path} is up to date.")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
