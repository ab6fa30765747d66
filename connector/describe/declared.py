"""The reference's lines for what an operation declares beyond its request: limits and waits."""

from __future__ import annotations

from ..catalog.spec import ComponentSpec, OperationSpec


def _limit(op: OperationSpec, limit: dict[str, object]) -> str:
    first = op.input(str(limit["input"])).describe()
    if "to" in limit:
        text = f"{first} no later than {op.input(str(limit['to'])).describe()}"
        if limit.get("max_days"):
            text += f", at most {int(str(limit['max_days'])):,} days apart (both included)"
        return text
    if "max_items" in limit:
        return f"{first} at most {int(str(limit['max_items'])):,} items"
    bounds = [f"at least {limit['min']}" if "min" in limit else ""]
    bounds.append(f"at most {limit['max']}" if "max" in limit else "")
    return f"{first} {' and '.join(b for b in bounds if b)}"


def declared_facts(op: OperationSpec, spec: ComponentSpec) -> list[str]:
    """Bullet lines: the body's size limit, the documented limits, and how the job is waited for."""
    lines = []
    body = op.request.get("body") or {}
    if body.get("max_bytes"):
        size = int(body["max_bytes"])
        lines.append(f"- Body limit: {size:,} bytes ({size / 2**20:g} MB), checked before sending")
    if op.limits:
        checked = "; ".join(_limit(op, dict(limit)) for limit in op.limits)
        lines.append(f"- Limits checked before sending: {checked}")
    wait = op.wait
    if wait:
        status = spec.actions.get(str(wait["status"]))
        label = status.label if status else wait["status"]
        done, failed = ", ".join(map(str, wait["done"])), ", ".join(map(str, wait["failed"]))
        text = (
            f"- Waits for its job when `{wait['enabled']}`: checks {label} until "
            f"`{wait['field']}` is {done} (failed: {failed or 'none'})"
        )
        if wait.get("resume"):
            text += f"; {op.input(str(wait['resume'])).describe()} resumes a job created earlier"
        lines.append(text)
    return lines
