"""A data source's answer as the picklist its spec declares: `[{"label", "key"}, ...]`."""

from __future__ import annotations

from typing import Any

from ..catalog.spec import OperationSpec
from ..core.templates import render_value

__all__ = ["picklist"]


def picklist(op: OperationSpec, body: Any) -> list[dict[str, str]]:
    """The label and key of each item the spec's `picklist.items` finds in `body`."""
    spec = op.picklist
    context = {"body": body, "status": 200, "headers": {}}
    items = render_value(spec["items"], context, action=op.key, field="picklist.items")
    result = []
    for item in items or []:
        scope = {**context, "item": item}
        label = render_value(spec["label"], scope, action=op.key, field="picklist.label")
        key = render_value(spec["key"], scope, action=op.key, field="picklist.key")
        result.append({"label": str(label), "key": str(key)})
    return result
