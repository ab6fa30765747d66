"""The /api/app answers beyond plain CRUD: lexicon, memberships, syncs, lifecycles, flags."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from ..models.base import Body, ModelError
from ..models.families import (
    EXPERIMENTS,
    FEATURE_FLAGS,
    SCHEMAS,
    SERVICE_ACCOUNTS,
    WAREHOUSE_IMPORTS,
)
from ..reply import Call, Handler, Reply, json_reply
from .app import body_of, ok


def _schema_key(entity_type: str, name: str) -> str:
    return f"{entity_type}/{name}"


def _entity_type(call: Call) -> str:
    entity_type = call.path_params.get("entityType", "")
    if entity_type not in ("event", "profile"):
        raise ModelError(400, f"entityType must be event or profile, not {entity_type!r}")
    return entity_type


def _schemas(call: Call, entity_type: str | None = None, name: str | None = None) -> list[Body]:
    found = call.sandbox.store.resources.list(SCHEMAS, call.context(), order="id")
    return [
        {k: s[k] for k in ("entityType", "name", "schemaJson")}
        for s in found
        if (entity_type is None or s["entityType"] == entity_type)
        and (name is None or s["name"] == name)
    ]


def _put_schema(call: Call, entity_type: Any, name: Any, schema_json: Any) -> None:
    if entity_type not in ("event", "profile") or not isinstance(name, str) or not name:
        raise ModelError(400, "each schema needs entityType (event or profile) and a name")
    if not isinstance(schema_json, dict):
        raise ModelError(400, "schemaJson must be a JSON object", "schemaJson")
    body = {"entityType": entity_type, "name": name, "schemaJson": schema_json}
    call.sandbox.store.resources.put(SCHEMAS, call.context(), _schema_key(entity_type, name), body)


def _delete_schemas(call: Call, entity_type: str | None = None, name: str | None = None) -> Reply:
    resources, ctx = call.sandbox.store.resources, call.context()
    gone = [_schema_key(s["entityType"], s["name"]) for s in _schemas(call, entity_type, name)]
    for key in gone:
        resources.delete(SCHEMAS, ctx, key)
    return json_reply(200, {"results": {"delete_count": len(gone)}, "status": "ok"})


def schemas_list(call: Call) -> Reply:
    """Every schema, or those of the path's entity type (`entity_name` filters by name)."""
    entity_type = _entity_type(call) if "entityType" in call.path_params else None
    name = call.params.get("entity_name") or None
    return json_reply(200, {"results": _schemas(call, entity_type, name), "status": "ok"})


def schemas_upload(call: Call) -> Reply:
    """POST many: `{"entries": [{entityType, name, schemaJson}], "truncate"}`."""
    body = body_of(call)
    entries = body.get("entries")
    if not isinstance(entries, list):
        raise ModelError(400, "entries must be a list of schemas", "entries")
    deleted = 0
    if body.get("truncate") is True:
        deleted = len(_schemas(call))
        _delete_schemas(call)
    for entry in entries:
        if not isinstance(entry, dict):
            raise ModelError(400, "each entry must be a JSON object", "entries")
        _put_schema(call, entry.get("entityType"), entry.get("name"), entry.get("schemaJson"))
    return json_reply(200, {"results": {"added": len(entries), "deleted": deleted}, "status": "ok"})


def schemas_delete(call: Call) -> Reply:
    """DELETE every schema, an entity type's, or one (entity type and name)."""
    entity_type = _entity_type(call) if "entityType" in call.path_params else None
    name = call.path_params.get("name") or call.params.get("entity_name") or None
    return _delete_schemas(call, entity_type, name)


def schema_get(call: Call) -> Reply:
    """GET one schema: its schemaJson."""
    found = _schemas(call, _entity_type(call), call.path_params["name"])
    if not found:
        raise ModelError(404, f"no schema for {call.path_params['name']}")
    return json_reply(200, found[0]["schemaJson"])


def schema_upload(call: Call) -> Reply:
    """POST one schema: the body is its schemaJson."""
    _put_schema(call, _entity_type(call), call.path_params["name"], body_of(call))
    return json_reply(200, {"status": "ok"})


def _account_view(account: Body) -> Body:
    return {k: v for k, v in account.items() if k not in ("projects", "token")}


def service_account_create(call: Call) -> Reply:
    """POST: a new account and its secret (shown once)."""
    body = body_of(call)
    projects = body.get("projects") or []
    if not isinstance(projects, list):
        raise ModelError(400, "projects must be a list", "projects")
    stored = call.sandbox.store.resources.create(
        SERVICE_ACCOUNTS,
        call.context(),
        {"username": body.get("username"), "role": body.get("role"), "projects": projects},
    )
    results = {**_account_view(stored), "token": uuid.uuid4().hex}
    return json_reply(201, {"results": results, "status": "ok"})


def service_accounts_list(call: Call) -> Reply:
    """GET the organization's accounts."""
    found = call.sandbox.store.resources.list(SERVICE_ACCOUNTS, call.context())
    return json_reply(200, {"results": [_account_view(a) for a in found], "status": "ok"})


def service_account_get(call: Call) -> Reply:
    """GET one account (no envelope, as documented)."""
    found = call.sandbox.store.resources.get(
        SERVICE_ACCOUNTS, call.context(), call.path_params["serviceAccountId"]
    )
    if found is None:
        raise ModelError(404, "service account not found")
    return json_reply(200, _account_view(found))


def service_account_delete(call: Call) -> Reply:
    """DELETE one account."""
    ctx, rid = call.context(), call.path_params["serviceAccountId"]
    if not call.sandbox.store.resources.delete(SERVICE_ACCOUNTS, ctx, rid):
        raise ModelError(404, "service account not found")
    return json_reply(200, {"status": "ok"})


def project_service_accounts(call: Call) -> Reply:
    """GET the accounts that are members of the path's project."""
    sb = call.sandbox
    ctx = call.context(organizationId=sb.organization_id)
    project = int(call.path_params["projectId"])
    members = [
        {**_account_view(a), "role": p.get("role", "member")}
        for a in sb.store.resources.list(SERVICE_ACCOUNTS, ctx)
        for p in a["projects"]
        if isinstance(p, dict) and p.get("id") == project
    ]
    return json_reply(200, {"results": members, "status": "ok"})


def _membership_changes(body: Body, add: bool) -> dict[str, list[Body]]:
    """Per account id, the project entries to add (`{"id", "role"}`) or the ids to drop."""
    if add:
        ids, projects = body.get("service_account_ids"), body.get("projects")
        if not isinstance(ids, list) or not isinstance(projects, list):
            raise ModelError(400, "service_account_ids and projects must be lists")
        entries = [p for p in projects if isinstance(p, dict) and "id" in p]
        return {str(i): entries for i in ids}
    changes: dict[str, list[Body]] = {}
    projects = body.get("projects")
    if not isinstance(projects, list):
        raise ModelError(400, "projects must be a list of {id, service_account_ids}")
    for project in projects:
        if not isinstance(project, dict) or not isinstance(
            project.get("service_account_ids"), list
        ):
            raise ModelError(400, "each project needs an id and service_account_ids")
        for rid in project["service_account_ids"]:
            changes.setdefault(str(rid), []).append({"id": project.get("id")})
    return changes


def membership(add: bool) -> Handler:
    """POST add-to-project / remove-from-project: the accounts join or leave the projects."""

    def handle(call: Call) -> Reply:
        changes = _membership_changes(body_of(call), add)

        def change(found: dict[str, Body | None]) -> dict[str, Body | None]:
            out: dict[str, Body | None] = {}
            for rid, account in found.items():
                if account is None:
                    raise ModelError(404, f"service account {rid} not found")
                ids = {p.get("id") for p in changes[rid]}
                kept = [p for p in account["projects"] if p.get("id") not in ids]
                out[rid] = {**account, "projects": kept + (changes[rid] if add else [])}
            return out

        call.sandbox.store.resources.modify(SERVICE_ACCOUNTS, call.context(), changes, change)
        return json_reply(200, {"status": "ok"})

    handle.__doc__ = f"{'Add' if add else 'Remove'} service accounts to or from projects."
    return handle


def import_create(import_type: str) -> Handler:
    """POST .../imports/<type>: a warehouse import of that type."""

    def handle(call: Call) -> Reply:
        body = {**body_of(call), "import_type": import_type}
        return ok(200, call.sandbox.store.resources.create(WAREHOUSE_IMPORTS, call.context(), body))

    handle.__doc__ = f"Create a {import_type} warehouse import."
    return handle


def _import_change(call: Call, change: Callable[[Body], Body]) -> Body:
    resources, ctx, rid = call.sandbox.store.resources, call.context(), call.path_params["importId"]
    found = resources.get(WAREHOUSE_IMPORTS, ctx, rid)
    if found is None:
        raise ModelError(404, f"warehouse import {rid} not found")
    return resources.update(WAREHOUSE_IMPORTS, ctx, rid, change(found))


def import_sync(call: Call) -> Reply:
    """PUT manual-sync: a run, recorded in the import's history, finished at once."""
    run_id = uuid.uuid4().hex
    now = call.context().now_ms() // 1000
    run = {"run_id": run_id, "status": "SUCCESS", "start_time": now, "end_time": now}
    _import_change(
        call, lambda found: {"runs": [*found["runs"], {**run, "num_events_imported": 0}]}
    )
    return ok(200, {"run_id": run_id})


def import_history(call: Call) -> Reply:
    """GET history: the import's runs."""
    found = _import_change(call, lambda found: {})
    return ok(200, {"runs": [{k: v for k, v in r.items() if k != "run_id"} for r in found["runs"]]})


def import_delete(call: Call) -> Reply:
    """DELETE an import (its imported data is not modelled)."""
    ctx, rid = call.context(), call.path_params["importId"]
    if not call.sandbox.store.resources.delete(WAREHOUSE_IMPORTS, ctx, rid):
        raise ModelError(404, f"warehouse import {rid} not found")
    return json_reply(200, {"status": "ok"})


def experiment_step(change: Callable[[Body], Body], *, empty: bool = False) -> Handler:
    """An experiment's lifecycle step (archive, launch, decide, ...): a change of its fields."""

    def handle(call: Call) -> Reply:
        resources, ctx = call.sandbox.store.resources, call.context()
        rid = call.path_params["experiment_id"]
        found = resources.get(EXPERIMENTS, ctx, rid)
        if found is None:
            raise ModelError(404, f"experiment {rid} not found")
        given = body_of(call) if call.body.strip() else {}
        updated = resources.update(EXPERIMENTS, ctx, rid, change({**found, **given}))
        return ok(200, {} if empty else updated)

    handle.__doc__ = "One lifecycle step of an experiment."
    return handle


def _variant(flag: Body, distinct_id: str) -> Body | None:
    variants = [v for v in flag["ruleset"].get("variants", []) if isinstance(v, dict)]
    if flag["status"] != "enabled" or not variants:
        return None
    digest = hashlib.sha256(f"{flag['key']}{distinct_id}".encode()).digest()
    chosen = variants[digest[0] % len(variants)]
    return {"variant_key": chosen.get("key"), "variant_value": chosen.get("value")}


def _flags(call: Call) -> list[Body]:
    sb = call.sandbox
    ctx = call.context(project_id=sb.project_id, workspace_id=sb.workspace_id)
    return sb.store.resources.list(FEATURE_FLAGS, ctx)


def flags_evaluate(call: Call) -> Reply:
    """GET /flags: the variant of every enabled flag for the `context`'s distinct_id."""
    try:
        context = json.loads(call.params.get("context") or "")
    except json.JSONDecodeError:
        context = None
    if not isinstance(context, dict) or not context.get("distinct_id"):
        raise ModelError(400, "context must be a JSON object with a distinct_id", "context")
    assigned = {f["key"]: _variant(f, str(context["distinct_id"])) for f in _flags(call)}
    return json_reply(200, {"flags": {k: v for k, v in assigned.items() if v is not None}})


def flags_definitions(call: Call) -> Reply:
    """GET /flags/definitions: every flag of the project."""
    return json_reply(200, {"flags": _flags(call)})
