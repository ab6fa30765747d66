"""The app API's generic answers (/api/app/...): a family's CRUD in `{"status": "ok", "results"}`.

urls.crud() builds its routes from these handlers; a family whose operations document another
success shape passes its own `answer`. Refusals (400, 404, 409) are `ModelError`s, answered by
the router in the API's error shape (`{"status": "error", "error": ...}` for the app API).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from connector.core.jsondepth import loads_bounded
from connector.errors import JSONTooDeep

from ..models.base import Body, Family, ModelError
from ..reply import Call, Handler, Reply, json_reply

#: Builds a success answer from the HTTP status and the results.
Answer = Callable[[int, Any], Reply]
OPERATIONS = ("list", "create", "get", "patch", "put", "delete")


def ok(status: int, results: Any) -> Reply:
    """The app API's envelope: `{"status": "ok", "results": ...}`."""
    return json_reply(status, {"status": "ok", "results": results})


def body_of(call: Call) -> Body:
    """The request's JSON object (400 when it is not one)."""
    try:
        value = loads_bounded(call.body.decode("utf-8") or "null", where="the body")
    except JSONTooDeep as exc:
        raise ModelError(400, str(exc)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ModelError(400, "the body must be a JSON object")
    return value


def handler(
    op: str, family: Family, item: str, *, answer: Answer = ok, created: int = 201
) -> Handler:
    """The handler of one CRUD operation of `family`; `item` names the id's path parameter."""
    if op not in OPERATIONS:
        raise ValueError(f"unknown operation {op!r}; use one of {', '.join(OPERATIONS)}")

    def handle(call: Call) -> Reply:
        resources, ctx = call.sandbox.store.resources, call.context()
        rid = call.path_params.get(item, "")
        if op == "list":
            return answer(200, resources.list(family, ctx))
        if op == "create":
            return answer(created, resources.create(family, ctx, body_of(call)))
        if op == "get":
            found = resources.get(family, ctx, rid)
            if found is None:
                raise ModelError(404, f"{family.name} {rid} not found", family.id_field)
            return answer(200, found)
        if op == "patch":
            return answer(200, resources.update(family, ctx, rid, body_of(call)))
        if op == "put" and family.id_kind == "given":
            return answer(200, resources.put(family, ctx, rid, body_of(call)))
        if op == "put":
            return answer(200, resources.update(family, ctx, rid, body_of(call), replace=True))
        if not resources.delete(family, ctx, rid):
            raise ModelError(404, f"{family.name} {rid} not found", family.id_field)
        key = family.key(rid)
        return answer(200, {family.id_field: int(str(key)) if family.id_kind == "int" else key})

    handle.__doc__ = f"{op} {family.name} (generic app API CRUD)."
    return handle
