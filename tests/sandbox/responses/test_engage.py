"""Profile queries: group profiles paged like user profiles, cohorts applied to what is stored."""

from __future__ import annotations

from typing import Any

import requests

from connector.sandbox import Sandbox


def _send(sb: Sandbox, path: str, records: list[dict[str, Any]]) -> None:
    assert requests.post(f"{sb.base_url}{path}", json=records, timeout=5).text == "1"


def _engage(sb: Sandbox, **params: Any) -> dict[str, Any]:
    answer = requests.get(
        f"{sb.base_url}/api/2.0/engage",
        params={"project_id": sb.project_id, **params},
        auth=(sb.username, sb.password),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_group_profiles_page_like_user_profiles() -> None:
    with Sandbox(engage_page_size=2) as sb:
        token = sb.project_token
        _send(
            sb,
            "/groups",
            [
                {"$token": token, "$group_key": "company", "$group_id": f"g{i}", "$set": {"i": i}}
                for i in range(5)
            ],
        )
        _send(sb, "/engage", [{"$token": token, "$distinct_id": "g0", "$set": {"user": True}}])
        first = _engage(sb, data_group_id="company")
        assert first["total"] == 5 and [r["$distinct_id"] for r in first["results"]] == ["g0", "g1"]
        session = first["session_id"]
        pages = [_engage(sb, data_group_id="company", session_id=session, page=p) for p in (1, 2)]
        assert [r["$distinct_id"] for p in pages for r in p["results"]] == ["g2", "g3", "g4"]
        assert pages[1]["results"] == [{"$distinct_id": "g4", "$properties": {"i": 4}}]
        users = _engage(sb)
        assert users["results"] == [{"$distinct_id": "g0", "$properties": {"user": True}}]
        assert sb.errors == []


def test_an_unknown_cohort_is_refused_by_name() -> None:
    with Sandbox() as sb:
        answer = requests.get(
            f"{sb.base_url}/api/query/engage",
            params={"project_id": sb.project_id, "filter_by_cohort": '{"id": 5}'},
            auth=(sb.username, sb.password),
            timeout=5,
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "filter_by_cohort: 5 is not a saved cohort of this project"
