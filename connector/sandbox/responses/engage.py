"""The Query API's profiles: /engage (users, or groups by data_group_id), their properties, cohorts.

Group profiles are read with `data_group_id=<group key>`; each result's `$distinct_id` is then the
group id. A cohort is a saved `where` selector over the user profiles; `filter_by_cohort` and
its `count` apply it to the profiles stored now.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from connector.core.jsondepth import loads_bounded

from ..models.base import Context, Family
from ..models.families import COHORTS, GROUPS, PROFILES
from ..models.identities import canonical
from ..models.profiles import properties
from ..reply import Call, Reply, json_reply
from ..where import WhereError, parse_where
from .breakdown import profile_properties
from .query import bad, integer, json_list, where_of

MAX_SESSIONS = 256
Rows = list[tuple[str, dict[str, Any]]]


def _rows(call: Call) -> Rows:
    """The profiles the request reads: users, or the groups of `data_group_id`."""
    store = call.sandbox.store
    group_key = call.params.get("data_group_id")
    return store.group_profiles(group_key) if group_key else store.profiles()


def _family(call: Call) -> tuple[Family, Context]:
    """The family and context a profile id of this request is read with."""
    group_key = call.params.get("data_group_id")
    if group_key:
        return GROUPS, call.context(**{"$group_key": group_key})
    return PROFILES, call.context()


def _cohort_match(call: Call, cohort: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    text = str(cohort.get("where") or "")
    if not text:
        return lambda props: True
    try:
        return parse_where(text)
    except WhereError as exc:
        raise bad(call, f"cohort {cohort.get('id')} has an invalid selector: {exc}") from None


def _cohort_filter(call: Call) -> Callable[[dict[str, Any]], bool] | None:
    text = call.params.get("filter_by_cohort")
    if not text:
        return None
    try:
        wanted = loads_bounded(text, where="filter_by_cohort")
        cohort_id = int(wanted["id"] if isinstance(wanted, dict) else wanted)
    except (ValueError, KeyError, TypeError):
        raise bad(call, 'filter_by_cohort must be a JSON object like {"id": 1000}') from None
    cohort = call.sandbox.store.resources.get(COHORTS, call.context(), cohort_id)
    if cohort is None:
        raise bad(call, f"filter_by_cohort: {cohort_id} is not a saved cohort of this project")
    return _cohort_match(call, cohort)


def _select(call: Call) -> list[str]:
    """The ids of the profiles page 0 selects: distinct ids, `where`, cohort."""
    wanted = json_list(call, "distinct_ids")
    if call.params.get("distinct_id"):
        wanted = (wanted or []) + [call.params["distinct_id"]]
    match, cohort = where_of(call), _cohort_filter(call)
    aliases = call.sandbox.store.alias_map()
    grouped = bool(call.params.get("data_group_id"))
    keys = None
    if wanted is not None:
        keys = {str(d) if grouped else canonical(aliases, str(d)) for d in wanted}
    return [
        rid
        for rid, props in _rows(call)
        if (keys is None or rid in keys)
        and (match is None or match(props))
        and (cohort is None or cohort(props))
    ]


def engage_query(call: Call) -> Reply:
    """Profiles filtered by distinct ids, `where` and cohort, paged with session_id/page."""
    sb = call.sandbox
    page = integer(call, "page", 0)
    if page < 0:
        raise bad(call, "page must be 0 or more")
    session_id = call.params.get("session_id") or ""
    page_size = sb.engage_page_size
    if page > 0 or session_id:
        found = sb.sessions.get(session_id)
        if found is None:
            raise bad(call, "session_id is unknown or expired; query page 0 again")
        ids = found
    else:
        ids = _select(call)
        session_id = secrets.token_hex(8)
        with sb.lock:  # handlers run in parallel threads
            sb.sessions[session_id] = ids
            while len(sb.sessions) > MAX_SESSIONS:
                sb.sessions.pop(next(iter(sb.sessions)))
    wanted_props = json_list(call, "output_properties")
    family, ctx = _family(call)
    results = []
    for rid in ids[page * page_size : (page + 1) * page_size]:
        props = properties(sb.store.resources.get(family, ctx, rid))
        if props is None:  # deleted since page 0
            continue
        if wanted_props is not None:
            props = {k: v for k, v in props.items() if k in wanted_props}
        results.append({"$distinct_id": rid, "$properties": props})
    return json_reply(
        200,
        {
            "page": page,
            "page_size": page_size,
            "session_id": session_id,
            "status": "ok",
            "total": len(ids),
            "results": results,
        },
    )


def engage_properties(call: Call) -> Reply:
    """/engage/properties: every property of the stored profiles, with a count and a type."""
    results = profile_properties(_rows(call))
    return json_reply(200, {"results": results, "session_id": None, "status": "ok"})


def cohorts_list(call: Call) -> Reply:
    """/cohorts/list: the saved cohorts, each counted over the profiles stored now."""
    profiles = call.sandbox.store.profiles()
    answer = []
    for cohort in call.sandbox.store.resources.list(COHORTS, call.context(), order="id"):
        match = _cohort_match(call, cohort)
        answer.append(
            {
                "count": sum(1 for _, props in profiles if match(props)),
                "is_visible": int(cohort.get("is_visible", 1)),
                "description": str(cohort.get("description", "")),
                "created": str(cohort.get("created", "")),
                "project_id": int(call.sandbox.project_id)
                if call.sandbox.project_id.isdigit()
                else call.sandbox.project_id,
                "id": int(cohort["id"]),
                "name": str(cohort["name"]),
            }
        )
    return json_reply(200, answer)
