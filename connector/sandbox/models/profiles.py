"""Profile updates, written once for user profiles and group profiles alike.

The operations are `$set`, `$set_once`, `$add`, `$union`, `$append`, `$remove`, `$unset` and
`$delete`. The rules are written once for any profile-like family: a user profile is keyed by its
distinct id, a group profile by (group key as the scope, group id). A profile's stored body is
`{<id field>: id, "$properties": {...}}`, the shape the engage query answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import Body, Context, Family, ModelError
from .resources import Resources

OPERATIONS = ("$set", "$set_once", "$add", "$union", "$append", "$remove", "$unset", "$delete")
PROPERTIES = "$properties"

Update = tuple[str, str, Any]  # (profile id, operation, value)


def check_update(record: Any, token: str | None, id_key: str = "$distinct_id") -> Update:
    """Validate one update record; return (id, operation, value). `token` None skips its check."""
    if not isinstance(record, dict):
        raise ModelError(400, "each profile update must be a JSON object", "")
    if record.get("$token") in (None, ""):
        raise ModelError(400, "$token, missing or empty", "$token")
    if token is not None and record["$token"] != token:
        raise ModelError(400, "$token does not match this project", "$token")
    rid = record.get(id_key)
    if not isinstance(rid, str | int) or str(rid) == "":
        raise ModelError(400, f"{id_key}, missing or empty", id_key)
    ops = [key for key in record if key in OPERATIONS]
    if len(ops) != 1:
        raise ModelError(400, f"each update needs exactly one of {', '.join(OPERATIONS)}", "")
    op, value = ops[0], record[ops[0]]
    if op == "$unset" and not isinstance(value, list):
        raise ModelError(400, "$unset takes a list of property names", op)
    if op not in ("$unset", "$delete") and not isinstance(value, dict):
        raise ModelError(400, f"{op} takes an object of properties", op)
    if op == "$add" and not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        raise ModelError(400, "$add takes numeric values", op)
    return str(rid), op, value


def apply_operation(props: dict[str, Any] | None, op: str, value: Any) -> dict[str, Any] | None:
    """One operation on a profile's properties; None means the profile is deleted."""
    if op == "$delete":
        return None
    props = dict(props or {})
    if op == "$set":
        props.update(value)
    elif op == "$set_once":
        props.update({k: v for k, v in value.items() if k not in props})
    elif op == "$add":
        for key, amount in value.items():
            current = props.get(key)
            props[key] = (current if isinstance(current, int | float) else 0) + amount
    elif op in ("$union", "$append", "$remove"):
        for key, item in value.items():
            items = list(props.get(key) or []) if isinstance(props.get(key), list) else []
            if op == "$append":
                items.append(item)
            elif op == "$remove":
                items = [x for x in items if x != item]
            else:  # "ensures that those values only appear once", repeats in the value too
                for new in item if isinstance(item, list) else [item]:
                    if new not in items:
                        items.append(new)
            props[key] = items
    elif op == "$unset":
        for key in value:
            props.pop(key, None)
    return props


def apply_updates(
    resources: Resources, family: Family, ctx: Context, updates: Sequence[Update]
) -> None:
    """Apply checked updates in order, in one transaction (ids already resolved to their key)."""

    def change(current: dict[str, Body | None]) -> Mapping[str, Body | None]:
        props = {rid: None if body is None else body[PROPERTIES] for rid, body in current.items()}
        for rid, op, value in updates:
            props[rid] = apply_operation(props[rid], op, value)
        return {
            rid: None if found is None else {family.id_field: rid, PROPERTIES: found}
            for rid, found in props.items()
        }

    resources.modify(family, ctx, [rid for rid, _, _ in updates], change)


def properties(body: Body | None) -> dict[str, Any] | None:
    """A stored profile's properties (None for no profile)."""
    return None if body is None else dict(body[PROPERTIES])
