"""Cross-field spec rules of how an operation runs: batches, streams and paging, waits, limits."""

from __future__ import annotations

from typing import Any

from .documents import escape_pointer

Problem = tuple[str, str]  # (JSON pointer, message)


def check_batch(op: dict[str, Any], inputs: list[dict[str, Any]], kind: str) -> list[Problem]:
    """A batch splits a declared `json` input of an action, with sane limits and fills."""
    batch = op.get("batch")
    if not batch:
        return []
    if kind != "action":
        return [("/batch", "only actions take `batch`")]
    problems: list[Problem] = []
    spec = next((i for i in inputs if i["key"] == batch["input"]), None)
    if spec is None or spec["type"] != "json":
        problems.append(("/batch/input", f"batch input {batch['input']!r} is not a `json` input"))
    elif (spec.get("schema") or {}).get("type") != "array":
        problems.append(("/batch/input", f"input {batch['input']!r} needs `schema.type: array`"))
    limits = [batch.get("max_item_bytes"), batch.get("max_bytes")]
    if None not in limits and limits[0] > limits[1]:
        problems.append(("/batch/max_item_bytes", "is larger than max_bytes"))
    for index, fill in enumerate(batch.get("fill") or ()):
        if fill.get("generate") == "content_id" and not fill.get("from"):
            problems.append((f"/batch/fill/{index}/from", "content_id needs `from` paths"))
        elif fill.get("generate") != "content_id" and ("from" in fill or "length" in fill):
            problems.append((f"/batch/fill/{index}", "`from` and `length` need content_id"))
    return problems


def check_streaming(op: dict[str, Any], inputs: list[dict[str, Any]]) -> list[Problem]:
    """`stream` and `paging` name declared inputs; a streamed response is JSON lines."""
    declared = {i["key"]: i for i in inputs}
    known = ", ".join(sorted(declared))
    stream, paging = op.get("stream") or {}, op.get("paging") or {}
    named = [
        (f"/stream/split/{end}", (stream.get("split") or {}).get(end))
        for end in ("from", "to", "window_input")
    ]
    named.append(("/stream/limit", stream.get("limit")))
    named.extend((f"/paging/next/{escape_pointer(k)}", k) for k in paging.get("next") or {})
    problems = [
        (pointer, f"names no input {key!r}; declared: {known}")
        for pointer, key in named
        if key is not None and key not in declared
    ]
    if stream and (op.get("response") or {}).get("format", "jsonl") != "jsonl":
        problems.append(("/response/format", "a `stream` action's response format is jsonl"))
    return problems


def check_wait(
    op: dict[str, Any], inputs: list[dict[str, Any]], kind: str, actions: set[str]
) -> list[Problem]:
    """`wait` polls another action, resumes from a declared input; done and failed differ."""
    wait = op.get("wait")
    if not wait:
        return []
    if kind != "action":
        return [("/wait", "only actions take `wait`")]
    problems: list[Problem] = []
    if wait["status"] not in actions or wait["status"] == op.get("key"):
        known = ", ".join(sorted(actions - {op.get("key", "")}))
        problems.append(("/wait/status", f"names no other action {wait['status']!r}; {known}"))
    declared = {i["key"] for i in inputs}
    if wait.get("resume") and wait["resume"] not in declared:
        problems.append(("/wait/resume", f"names no input {wait['resume']!r}"))
    both = sorted({str(v) for v in wait["done"]} & {str(v) for v in wait["failed"]})
    if both:
        problems.append(("/wait/failed", f"{', '.join(both)} is both done and failed"))
    return problems


def check_limits(op: dict[str, Any], inputs: list[dict[str, Any]]) -> list[Problem]:
    """Each limit names declared inputs and says one kind of limit."""
    declared = {i["key"] for i in inputs}
    problems: list[Problem] = []
    for n, limit in enumerate(op.get("limits") or ()):
        for field_name in ("input", "to"):
            if field_name in limit and limit[field_name] not in declared:
                problems.append(
                    (f"/limits/{n}/{field_name}", f"names no input {limit[field_name]!r}")
                )
        kinds = [k for k in ("to", "max_items") if k in limit] + (
            ["min/max"] if "min" in limit or "max" in limit else []
        )
        if len(kinds) != 1 or ("max_days" in limit and "to" not in limit):
            problems.append(
                (f"/limits/{n}", "give one of `to` (+ `max_days`), `max_items`, `min`/`max`")
            )
    return problems
