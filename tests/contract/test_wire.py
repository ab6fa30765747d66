"""The wire-contract checker accepts correct Mixpanel requests and rejects wrong ones."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from . import wire
from .wire import NoMatchingOperationError, WireRequest, check_wire_request

SERVICE_ACCOUNT = "Basic " + base64.b64encode(b"svc.user.123.mp-service-account:s3cr3t").decode()
PROJECT_TOKEN_AUTH = "Basic " + base64.b64encode(b"0123456789abcdef:").decode()
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
NO_CREDENTIALS = (
    "security: operation requires credentials (ServiceAccount | ProjectSecret); request has none"
)

IMPORT_URL = "https://api-eu.mixpanel.com/import?strict=1&project_id=1"
IMPORT_EVENTS = [
    {
        "event": "Signed up",
        "properties": {"time": 1704067200, "$insert_id": "ins-1", "distinct_id": "user-1"},
    }
]
CREATE_ALIAS = {
    "event": "$create_alias",
    "properties": {"distinct_id": "anon-1", "alias": "user-1", "token": "0123456789abcdef"},
}
BEHAVIORS = json.dumps(
    [{"window": "30d", "name": "signed", "event_selectors": [{"event": "Signed up"}]}]
)
EXPORT_URL = (
    "https://data-eu.mixpanel.com/api/2.0/export"
    "?from_date=2024-01-01&to_date=2024-01-31&project_id=1"
)
PIPELINES = "https://data.mixpanel.com/api/2.0/nessie/pipeline"
GCS_RAW_PIPELINE = {
    "project_id": "1",
    "type": "gcs-raw",
    "from_date": "2024-01-01",
    "gcs_bucket": "exports",
    "gcs_region": "us-east1",
}


def json_request(
    method: str, url: str, body: Any, auth: str | None = SERVICE_ACCOUNT, **headers: str
) -> WireRequest:
    all_headers = {"Content-Type": JSON, **headers}
    if auth is not None:
        all_headers["Authorization"] = auth
    return WireRequest(method, url, all_headers, json.dumps(body).encode())


def form_request(
    url: str, fields: dict[str, Any], auth: str | None = SERVICE_ACCOUNT
) -> WireRequest:
    headers = {"Content-Type": FORM}
    if auth is not None:
        headers["Authorization"] = auth
    return WireRequest("POST", url, headers, urlencode(fields).encode())


def get_request(url: str, auth: str | None = SERVICE_ACCOUNT) -> WireRequest:
    return WireRequest("GET", url, {} if auth is None else {"Authorization": auth}, None)


def without_allow_list(request: WireRequest, operation_id: str | None = None) -> list[str]:
    """Check against the vendored specs as published, to prove an allow-list entry matters."""
    return wire._check(request, operation_id, allow_list=False)


# --- /import -------------------------------------------------------------------------------


def test_import_correct_request_is_accepted() -> None:
    assert check_wire_request(json_request("POST", IMPORT_URL, IMPORT_EVENTS)) == []
    assert (
        check_wire_request(json_request("POST", IMPORT_URL, IMPORT_EVENTS), "import-events") == []
    )


def test_import_with_charset_and_gzip_is_accepted() -> None:
    body = gzip.compress(json.dumps(IMPORT_EVENTS).encode())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Encoding": "gzip",
        "Authorization": SERVICE_ACCOUNT,
    }
    assert check_wire_request(WireRequest("POST", IMPORT_URL, headers, body)) == []


def test_import_wrong_method_is_rejected() -> None:
    problems = check_wire_request(get_request(IMPORT_URL))
    assert problems and "method GET not allowed" in problems[0]


def test_import_missing_body_is_rejected() -> None:
    request = WireRequest("POST", IMPORT_URL, {"Authorization": SERVICE_ACCOUNT}, None)
    problems = check_wire_request(request, "import-events")
    assert problems == ["missing required request body"]


def test_import_invalid_event_is_rejected() -> None:
    event = {"event": "Signed up", "properties": {"time": "yesterday", "distinct_id": "u"}}
    problems = check_wire_request(json_request("POST", IMPORT_URL, [event]), "import-events")
    assert "body: 0/properties/time: 'yesterday' is not of type 'integer'" in problems
    assert "body: 0/properties: '$insert_id' is a required property" in problems


def test_import_empty_batch_is_rejected() -> None:
    assert check_wire_request(json_request("POST", IMPORT_URL, []), "import-events")


def test_import_without_credentials_is_rejected() -> None:
    problems = check_wire_request(json_request("POST", IMPORT_URL, IMPORT_EVENTS, auth=None))
    assert any("requires credentials" in p and "request has none" in p for p in problems)


def test_import_required_query_parameters() -> None:
    # openapi-core would fill the documentation defaults in; the checker reports absence
    url = "https://api.mixpanel.com/import?strict=1"
    problems = check_wire_request(json_request("POST", url, IMPORT_EVENTS), "import-events")
    assert problems == ["missing required query parameter 'project_id'"]
    url = "https://api.mixpanel.com/import?project_id=1"
    problems = check_wire_request(json_request("POST", url, IMPORT_EVENTS), "import-events")
    assert problems == ["missing required query parameter 'strict'"]
    url = "https://api.mixpanel.com/import?project_id=1&strict=yes"
    assert check_wire_request(json_request("POST", url, IMPORT_EVENTS), "import-events")


def test_fake_credentials_pass_but_malformed_basic_is_reported() -> None:
    assert (
        check_wire_request(json_request("POST", IMPORT_URL, IMPORT_EVENTS, auth="Basic Zm9vOg=="))
        == []
    )
    problems = check_wire_request(json_request("POST", IMPORT_URL, IMPORT_EVENTS, auth="Basic !!"))
    assert problems == ["security: Authorization Basic value is not base64"]
    no_colon = "Basic " + base64.b64encode(b"nocolon").decode()
    problems = check_wire_request(json_request("POST", IMPORT_URL, IMPORT_EVENTS, auth=no_colon))
    assert problems == ["security: Authorization Basic value is not 'username:password'"]


# --- /track (form body, fragment paths) ----------------------------------------------------


@pytest.mark.parametrize("region", ["api", "api-eu", "api-in"])
def test_track_create_alias_form_post_is_accepted(region: str) -> None:
    url = f"https://{region}.mixpanel.com/track"
    request = form_request(url, {"data": json.dumps(CREATE_ALIAS)}, auth=None)
    assert check_wire_request(request) == []
    assert check_wire_request(request, "identity-create-alias") == []


def test_track_form_body_is_validated_against_the_event_schema() -> None:
    url = "https://api-in.mixpanel.com/track"
    # allow-list: /track form body with data=<json> (SDK wire format), one event or a list
    sdk_fields = {"data": json.dumps([CREATE_ALIAS]), "verbose": 1, "ip": 0}
    assert check_wire_request(form_request(url, sdk_fields, auth=None), "track-event") == []
    assert (
        check_wire_request(form_request(url, {"data": json.dumps(CREATE_ALIAS)}), "track-event")
        == []
    )
    assert without_allow_list(form_request(url, {"data": json.dumps(CREATE_ALIAS)}), "track-event")
    # the JSON inside data= is still checked
    bad_json = form_request(url, {"data": "{not json"})
    assert check_wire_request(bad_json, "track-event") == [
        "body: cannot deserialize as application/json: '{not json'"
    ]
    no_event_name = form_request(url, {"data": json.dumps({"properties": {"token": "t"}})})
    assert check_wire_request(no_event_name, "track-event")
    assert check_wire_request(form_request(url, {"verbose": 1}), "track-event") == [
        "body: (root): 'data' is a required property"
    ]


def test_track_json_body_is_still_accepted() -> None:
    request = json_request("POST", "https://api.mixpanel.com/track", [CREATE_ALIAS], auth=None)
    assert check_wire_request(request, "track-event") == []


def test_unknown_region_host_is_unmatched() -> None:
    request = form_request("https://api-us.mixpanel.com/track", {"data": "{}"})
    with pytest.raises(NoMatchingOperationError):
        check_wire_request(request)


# --- /engage and /groups fragment operations -----------------------------------------------


def test_engage_fragment_operations_route_on_the_wire_path() -> None:
    url = "https://api.mixpanel.com/engage?verbose=1"
    profile_set = [{"$token": "t", "$distinct_id": "u1", "$set": {"plan": "pro"}}]
    assert check_wire_request(json_request("POST", url, profile_set, auth=None)) == []
    assert (
        check_wire_request(json_request("POST", url, profile_set, auth=None), "profile-set") == []
    )
    delete = [{"$token": "t", "$distinct_id": "u1", "$delete": None}]
    assert check_wire_request(json_request("POST", url, delete, auth=None), "delete-profile") == []
    problems = check_wire_request(json_request("POST", url, delete, auth=None), "profile-set")
    assert problems == ["body: 0: '$set' is a required property"]


def test_operation_id_must_fit_the_url() -> None:
    request = json_request("POST", "https://api.mixpanel.com/engage", [], auth=None)
    assert check_wire_request(request, "track-event") == [
        "URL https://api.mixpanel.com/engage does not route to "
        "track-event (POST /track in ingestion.openapi.yaml)"
    ]
    with pytest.raises(KeyError):
        check_wire_request(request, "no-such-operation")


def test_profile_batch_update_json_array_is_accepted() -> None:
    url = "https://api.mixpanel.com/engage"
    batch = [
        {"$token": "t", "$distinct_id": "u1", "$set": {"plan": "pro"}},
        {"$token": "t", "$distinct_id": "u2", "$unset": ["plan"]},
    ]
    request = json_request("POST", url, batch, auth=None)
    assert check_wire_request(request, "profile-batch-update") == []
    assert without_allow_list(request, "profile-batch-update")
    two_operations = [{"$token": "t", "$distinct_id": "u1", "$set": {}, "$unset": ["a"]}]
    assert check_wire_request(json_request("POST", url, two_operations), "profile-batch-update")
    no_token = [{"$distinct_id": "u1", "$set": {}}]
    assert check_wire_request(json_request("POST", url, no_token), "profile-batch-update") == [
        "body: 0: '$token' is a required property"
    ]


def test_group_union_and_delete_require_their_own_operation() -> None:
    url = "https://api-eu.mixpanel.com/groups"
    union = [{"$token": "t", "$group_key": "company", "$group_id": "c1", "$union": {"tags": ["a"]}}]
    assert check_wire_request(json_request("POST", url, union, auth=None), "group-union") == []
    assert without_allow_list(json_request("POST", url, union, auth=None), "group-union")
    delete = [{"$token": "t", "$group_key": "company", "$group_id": "c1", "$delete": None}]
    assert check_wire_request(json_request("POST", url, delete, auth=None), "delete-group") == []
    assert without_allow_list(json_request("POST", url, delete, auth=None), "delete-group")
    no_union = [{"$token": "t", "$group_key": "company", "$group_id": "c1"}]
    assert check_wire_request(json_request("POST", url, no_union), "group-union") == [
        "body: 0: '$union' is a required property"
    ]


# --- Query API -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["mixpanel.com", "eu.mixpanel.com", "in.mixpanel.com"])
def test_funnels_list_is_accepted(host: str) -> None:
    url = f"https://{host}/api/query/funnels/list?project_id=1"
    assert check_wire_request(get_request(url)) == []


def test_funnels_list_legacy_path_is_unmatched() -> None:
    with pytest.raises(NoMatchingOperationError, match="/api/2.0/funnels/list"):
        check_wire_request(get_request("https://mixpanel.com/api/2.0/funnels/list?project_id=1"))
    with pytest.raises(NoMatchingOperationError):
        check_wire_request(get_request("https://example.com/api/query/funnels/list?project_id=1"))


def test_query_api_rejects_bad_parameters_and_missing_auth() -> None:
    url = "https://mixpanel.com/api/query/funnels/list"
    assert check_wire_request(get_request(url + "?project_id=abc")) == [
        "query parameter 'project_id': Failed to cast value to integer type: abc"
    ]
    assert check_wire_request(get_request(url)) == ["missing required query parameter 'project_id'"]
    assert check_wire_request(get_request(url + "?project_id=1", auth=None)) == [NO_CREDENTIALS]
    assert check_wire_request(get_request(url + "?project_id=1", auth=PROJECT_TOKEN_AUTH)) == []


def test_engage_query_behaviors_string_is_accepted() -> None:
    url = "https://eu.mixpanel.com/api/query/engage?project_id=1"
    fields = {"behaviors": BEHAVIORS, "as_of_timestamp": 1704067200, "page": 0}
    assert check_wire_request(form_request(url, fields)) == []
    # the allow-list entry is what makes this pass
    assert without_allow_list(form_request(url, fields))


def test_engage_query_invalid_inputs_are_rejected() -> None:
    url = "https://eu.mixpanel.com/api/query/engage"
    fields = {"behaviors": BEHAVIORS}
    assert check_wire_request(form_request(url, fields)) == [
        "missing required query parameter 'project_id'"
    ]
    bad_page = {**fields, "page": "first"}
    assert check_wire_request(form_request(url + "?project_id=1", bad_page)) == [
        "body: Failed to cast value to integer type: first"
    ]
    bad_timestamp = {**fields, "as_of_timestamp": "now"}
    assert check_wire_request(form_request(url + "?project_id=1", bad_timestamp))


# --- Export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["data", "data-eu", "data-in"])
def test_export_with_service_account_is_accepted(server: str) -> None:
    url = EXPORT_URL.replace("data-eu", server)
    assert check_wire_request(get_request(url)) == []


def test_export_rejections() -> None:
    no_from = EXPORT_URL.replace("from_date=2024-01-01&", "")
    assert check_wire_request(get_request(no_from)) == [
        "missing required query parameter 'from_date'"
    ]
    no_project = EXPORT_URL.replace("&project_id=1", "")
    assert check_wire_request(get_request(no_project)) == [
        "missing required query parameter 'project_id'"
    ]
    assert check_wire_request(get_request(EXPORT_URL, auth=None)) == [NO_CREDENTIALS]
    assert check_wire_request(
        WireRequest("POST", EXPORT_URL, {"Authorization": SERVICE_ACCOUNT}, None)
    )


# --- Data pipelines ------------------------------------------------------------------------


def test_pipeline_create_form_post_is_accepted() -> None:
    assert check_wire_request(form_request(f"{PIPELINES}/create", GCS_RAW_PIPELINE)) == []
    schematized = {
        **GCS_RAW_PIPELINE,
        "type": "gcs-schema",
        "sync": "true",
        "schema_type": "multischema",
    }
    # the discriminated branch is used, not the first overlapping one (tool workaround)
    assert check_wire_request(form_request(f"{PIPELINES}/create", schematized)) == []


def test_pipeline_create_invalid_bodies_are_rejected() -> None:
    no_bucket = {k: v for k, v in GCS_RAW_PIPELINE.items() if k != "gcs_bucket"}
    assert check_wire_request(form_request(f"{PIPELINES}/create", no_bucket))
    bad_region = {**GCS_RAW_PIPELINE, "gcs_region": "mars-north1"}
    assert check_wire_request(form_request(f"{PIPELINES}/create", bad_region))
    schematized_without_sync = {
        **GCS_RAW_PIPELINE,
        "type": "gcs-schema",
        "schema_type": "multischema",
    }
    assert check_wire_request(form_request(f"{PIPELINES}/create", schematized_without_sync))
    assert check_wire_request(form_request(f"{PIPELINES}/create", GCS_RAW_PIPELINE, auth=None))


def test_pipeline_edit_one_of_is_read_as_any_of() -> None:
    request = form_request(f"{PIPELINES}/edit", {"name": "events-daily", "project_id": 1})
    assert check_wire_request(request) == []
    assert without_allow_list(request)
    assert check_wire_request(form_request(f"{PIPELINES}/edit", {"project_id": 1}))


def test_pipeline_status_and_jobs() -> None:
    assert check_wire_request(get_request(f"{PIPELINES}/jobs?project_id=1")) == []
    assert check_wire_request(get_request(f"{PIPELINES}/status?project_id=1&name=p")) == []
    assert check_wire_request(get_request(f"{PIPELINES}/status?project_id=1")) == [
        "missing required query parameter 'name'"
    ]


# --- the allow-list itself ---------------------------------------------------------------


def test_every_allow_list_entry_cites_known_defects_and_names_one_operation() -> None:
    known_defects = (wire.SPEC_DIR / "KNOWN-DEFECTS.md").read_text(encoding="utf-8")
    operation_ids = {op.operation_id for op in wire.operations()}
    for entry in wire.ALLOW_LIST:
        assert entry.known_defect in known_defects
        assert entry.operation_id in operation_ids


def test_fragment_paths_are_split_into_routable_operations() -> None:
    engage = [op for op in wire.operations() if op.spec_path.startswith("/engage#")]
    assert len(engage) == 9
    assert {op.wire_path for op in engage} == {"/engage"}
    assert {"/track#create-identity", "/track#identity-create-alias"} <= {
        op.spec_path for op in wire.operations()
    }
