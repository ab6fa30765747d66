"""Check Mixpanel HTTP requests against Mixpanel's vendored OpenAPI specs using openapi-core."""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import gzip
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from jsonschema_path import SchemaPath
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.security.exceptions import SecurityNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
    V30RequestSecurityValidator,
    V31RequestBodyValidator,
    V31RequestParametersValidator,
    V31RequestSecurityValidator,
)
from openapi_spec_validator import validate as validate_openapi_document
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_DIR = Path(__file__).parent / "openapi"
SPEC_FILES = tuple(sorted(path.name for path in SPEC_DIR.glob("*.openapi.yaml")))
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

Spec = dict[str, Any]


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request exactly as it goes over the wire."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


class NoMatchingOperationError(LookupError):
    """No operation in any vendored spec matches the request's server URL and path."""


# --------------------------------------------------------------------------------------------
# Allow-list: one in-memory patch per entry of openapi/KNOWN-DEFECTS.md that affects request
# validation. Each patch touches exactly one operation of the derived (in-memory) spec, quotes
# the KNOWN-DEFECTS.md line it implements, and first asserts that the defect is still present
# in the vendored file, so a fixed upstream spec makes the patch fail loudly instead of
# silently widening the contract. The vendored files are never edited.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecPatch:
    """An explicit, single-operation correction of a known defect in a vendored spec."""

    spec_file: str
    operation_id: str
    known_defect: str  # verbatim fragment of the KNOWN-DEFECTS.md line this entry implements
    apply: Callable[[Spec, Spec], None]  # (whole derived spec, the operation object)


def _json_body_schema(operation: Spec) -> Spec:
    return operation["requestBody"]["content"]["application/json"]["schema"]


def _form_body_schema(operation: Spec) -> Spec:
    return operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]


def _patch_engage_query_behaviors(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "`behaviors` (engage query) is typed `integer`; it is an event-selector
    # definition (a string)."  Only the type of this one form field changes.
    behaviors = _form_body_schema(operation)["properties"]["behaviors"]
    assert behaviors["type"] == "integer", "defect fixed upstream? drop this allow-list entry"
    behaviors["type"] = "string"


def _patch_track_form_body(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "`/track` request content type is `application/json` in the spec,
    # `application/x-www-form-urlencoded` with `data=<json>` in the reference table and in the
    # official SDK; both are accepted by Mixpanel."  Keep application/json and add the form
    # variant whose `data` field is JSON (encoding contentType) validated against the very same
    # event schema the spec declares: either one event object or the declared array of them.
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json"}, "defect fixed upstream? drop this entry"
    events_schema = copy.deepcopy(content["application/json"]["schema"])
    content["application/x-www-form-urlencoded"] = {
        "schema": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"anyOf": [events_schema["items"], events_schema]}},
        },
        "encoding": {"data": {"contentType": "application/json"}},
    }


_PROFILE_UPDATE_OPERATIONS = (
    "$set",
    "$set_once",
    "$add",
    "$union",
    "$append",
    "$remove",
    "$unset",
    "$delete",
)


def _patch_profile_batch_update_body(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "`profile-batch-update` types its JSON body as a `string` (format `blob`);
    # the wire body is a JSON array of update objects, each with `$token`, `$distinct_id` and
    # one operation."  The operation names are the ones the spec's own description lists.
    content = operation["requestBody"]["content"]["application/json"]
    assert content["schema"]["type"] == "string", "defect fixed upstream? drop this entry"
    content["schema"] = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["$token", "$distinct_id"],
            "properties": {"$token": {"type": "string"}, "$distinct_id": {"type": "string"}},
            # exactly one operation per update object
            "oneOf": [{"required": [name]} for name in _PROFILE_UPDATE_OPERATIONS],
        },
    }


_GROUP_UPDATE_OPERATIONS = ("$set", "$set_once", "$union", "$remove", "$unset", "$delete")


def _patch_group_batch_update_body(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "`group-batch-update` types its JSON body as a `string` (format `blob`) as
    # well"  The operation names are the group update operations the spec itself declares.
    content = operation["requestBody"]["content"]["application/json"]
    assert content["schema"]["type"] == "string", "defect fixed upstream? drop this entry"
    ids = ["$token", "$group_key", "$group_id"]
    content["schema"] = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ids,
            "properties": {name: {"type": "string"} for name in ids},
            "oneOf": [{"required": [name]} for name in _GROUP_UPDATE_OPERATIONS],
        },
    }


def _patch_pipeline_edit_one_of(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "Several `oneOf` lists name the same schema twice (pipeline edit lists
    # `RawEditParams` for both GCS and S3), so a strict `oneOf` check rejects every valid body;
    # read them as `anyOf`."  Only this request-body list is rewritten, and only because it
    # does contain a repeated $ref.
    schema = _form_body_schema(operation)
    refs = [branch["$ref"] for branch in schema["oneOf"]]
    assert len(refs) != len(set(refs)), "defect fixed upstream? drop this entry"
    schema["anyOf"] = schema.pop("oneOf")


def _patch_export_security(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "Export's top-level security lists only the project secret; the reference
    # documents service account Basic auth with a `project_id` query parameter, which is the
    # mode to use."  Allow the ServiceAccount scheme for this operation and, because that is
    # the mode to use, require the `project_id` query parameter it needs.
    assert spec["security"] == [{"ProjectSecret": []}], "defect fixed upstream? drop this entry"
    operation["security"] = [{"ServiceAccount": []}, {"ProjectSecret": []}]
    (project_id,) = [p for p in operation["parameters"] if p.get("name") == "project_id"]
    project_id["required"] = True


def _patch_group_union_required(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "Group `$union` and group `$delete` operations list wrong required fields
    # (`$unset`, `$set`)."  The spec's group union requires `$unset`; its operation is `$union`.
    items = _json_body_schema(operation)["items"]
    assert "$unset" in items["required"], "defect fixed upstream? drop this entry"
    items["required"] = [("$union" if f == "$unset" else f) for f in items["required"]]


def _patch_group_delete_required(spec: Spec, operation: Spec) -> None:
    # KNOWN-DEFECTS: "Group `$union` and group `$delete` operations list wrong required fields
    # (`$unset`, `$set`)."  The spec's group delete requires `$set`; its operation is `$delete`.
    items = _json_body_schema(operation)["items"]
    assert "$set" in items["required"], "defect fixed upstream? drop this entry"
    items["required"] = [("$delete" if f == "$set" else f) for f in items["required"]]


ALLOW_LIST: tuple[SpecPatch, ...] = (
    SpecPatch(
        "query.openapi.yaml",
        "engage-query",
        "`behaviors` (engage query) is typed `integer`; it is an event-selector definition",
        _patch_engage_query_behaviors,
    ),
    SpecPatch(
        "ingestion.openapi.yaml",
        "track-event",
        "`/track` request content type is `application/json` in the spec, "
        "`application/x-www-form-urlencoded` with\n  `data=<json>`",
        _patch_track_form_body,
    ),
    SpecPatch(
        "ingestion.openapi.yaml",
        "profile-batch-update",
        "`profile-batch-update` types its JSON body as a `string` (format `blob`)",
        _patch_profile_batch_update_body,
    ),
    SpecPatch(
        "ingestion.openapi.yaml",
        "group-batch-update",
        "`group-batch-update` types its JSON body as a `string` (format `blob`) as well",
        _patch_group_batch_update_body,
    ),
    SpecPatch(
        "data-pipelines.openapi.yaml",
        "edit-warehouse-pipeline",
        "Several `oneOf` lists name the same schema twice (pipeline edit lists",
        _patch_pipeline_edit_one_of,
    ),
    SpecPatch(
        "export.openapi.yaml",
        "raw-event-export",
        "Export's top-level security lists only the project secret",
        _patch_export_security,
    ),
    SpecPatch(
        "ingestion.openapi.yaml",
        "group-union",
        "Group `$union` and group `$delete` operations list wrong required fields",
        _patch_group_union_required,
    ),
    SpecPatch(
        "ingestion.openapi.yaml",
        "delete-group",
        "Group `$union` and group `$delete` operations list wrong required fields",
        _patch_group_delete_required,
    ),
)


# --------------------------------------------------------------------------------------------
# Tool workaround (not a spec defect, not a loosening): openapi-core decodes a form body whose
# schema is a `oneOf` by taking the FIRST branch that validates and ignores the discriminator.
# Pipeline create's branches overlap (a Schematized GCS body also satisfies Raw GCS), so the
# wrong branch is picked, its extra fields are dropped, and valid bodies are rejected. Pinning
# each mapped branch's `type` property to its own discriminator value states exactly what the
# discriminator already means, so the first validating branch is the discriminated one.
# --------------------------------------------------------------------------------------------


def _pin_discriminated_branches(spec: Spec, operation: Spec) -> None:
    discriminator = _form_body_schema(operation)["discriminator"]
    prefix = "#/components/schemas/"
    for value, ref in discriminator["mapping"].items():
        assert ref.startswith(prefix)
        branch_type = spec["components"]["schemas"][ref[len(prefix) :]]["properties"]["type"]
        assert "enum" not in branch_type and branch_type.get("default") == value
        branch_type["enum"] = [value]


def _drop_ignored_header_parameters(spec: Spec, operation: Spec) -> None:
    # OpenAPI 3.0 Parameter Object: a header parameter named "Accept", "Content-Type" or
    # "Authorization" SHALL be ignored; openapi-core validates it anyway, so e.g. a legitimate
    # "application/json; charset=utf-8" fails its enum. The body's media type is still checked
    # against requestBody.content, and Authorization against the security requirements.
    ignored = {"accept", "content-type", "authorization"}
    params = operation.get("parameters", [])
    kept = [p for p in params if not (p.get("in") == "header" and p["name"].lower() in ignored)]
    assert len(kept) < len(params)
    operation["parameters"] = kept


def _strip_defaults_of_required_parameters(spec: Spec) -> None:
    # openapi-core substitutes a parameter's schema `default` when the parameter is absent,
    # even when it is `required: true`, so a request missing /import's `strict` or `project_id`
    # (defaults "1" and "<YOUR_PROJECT_ID>", documentation placeholders) would pass. A default
    # means nothing for a required parameter; drop it so absence is reported.
    parameter_lists: list[Iterable[Spec]] = [
        spec.get("components", {}).get("parameters", {}).values()
    ]
    for path_item in spec["paths"].values():
        parameter_lists.append(path_item.get("parameters", []))
        for method in HTTP_METHODS:
            parameter_lists.append(path_item.get(method, {}).get("parameters", []))
    for parameters in parameter_lists:
        for parameter in parameters:
            if parameter.get("required") and "schema" in parameter:
                parameter["schema"].pop("default", None)


TOOL_WORKAROUNDS: tuple[tuple[str, str, Callable[[Spec, Spec], None]], ...] = (
    ("data-pipelines.openapi.yaml", "create-warehouse-pipeline", _pin_discriminated_branches),
    ("ingestion.openapi.yaml", "import-events", _drop_ignored_header_parameters),
    ("ingestion.openapi.yaml", "replace-lookup-table", _drop_ignored_header_parameters),
)


# --------------------------------------------------------------------------------------------
# Derived specs: every operation becomes its own single-path OpenAPI document whose path key
# is the wire path (the `#fragment` that only makes the vendored keys unique is dropped), so
# openapi-core can route and validate `/engage#profile-set` and `/engage#profile-delete` alike.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One operation of a vendored spec, routable on its wire path."""

    spec_file: str
    operation_id: str
    spec_path: str  # path key as written in the vendored file, fragment included
    wire_path: str
    method: str  # lowercase
    document: SchemaPath  # single-operation derived OpenAPI document

    @property
    def label(self) -> str:
        """Human-readable identification of the operation."""
        return f"{self.operation_id} ({self.method.upper()} {self.spec_path} in {self.spec_file})"


def _load_vendored(spec_file: str) -> Spec:
    with (SPEC_DIR / spec_file).open(encoding="utf-8") as handle:
        loaded: Spec = yaml.safe_load(handle)
    return loaded


def _find_operation(spec: Spec, operation_id: str) -> Spec:
    for path_item in spec["paths"].values():
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if operation is not None and operation.get("operationId") == operation_id:
                return operation  # type: ignore[no-any-return]
    raise KeyError(f"operationId {operation_id!r} not found")


def _derived_spec(spec_file: str, *, allow_list: bool) -> Spec:
    spec = _load_vendored(spec_file)
    if allow_list:
        known_defects = (SPEC_DIR / "KNOWN-DEFECTS.md").read_text(encoding="utf-8")
        for patch in ALLOW_LIST:
            if patch.spec_file == spec_file:
                assert patch.known_defect in known_defects, f"uncited allow-list entry: {patch}"
                patch.apply(spec, _find_operation(spec, patch.operation_id))
    for workaround_file, operation_id, workaround in TOOL_WORKAROUNDS:
        if workaround_file == spec_file:
            workaround(spec, _find_operation(spec, operation_id))
    _strip_defaults_of_required_parameters(spec)
    # The derived document as a whole must still be valid OpenAPI.
    validate_openapi_document(spec)
    return spec


@functools.cache
def operations(*, allow_list: bool = True) -> tuple[Operation, ...]:
    """Return every operation of the vendored specs as its own routable OpenAPI document.

    Args:
        allow_list: Apply the KNOWN-DEFECTS allow-list (``False`` only proves an entry matters).
    """
    result: list[Operation] = []
    for spec_file in SPEC_FILES:
        spec = _derived_spec(spec_file, allow_list=allow_list)
        for spec_path, path_item in spec["paths"].items():
            wire_path = spec_path.split("#", 1)[0]
            shared = {k: v for k, v in path_item.items() if k not in HTTP_METHODS}
            for method in HTTP_METHODS:
                if method not in path_item:
                    continue
                operation = path_item[method]
                single = {k: v for k, v in spec.items() if k != "paths"}
                single["paths"] = {wire_path: {**shared, method: operation}}
                result.append(
                    Operation(
                        spec_file=spec_file,
                        operation_id=operation["operationId"],
                        spec_path=spec_path,
                        wire_path=wire_path,
                        method=method,
                        document=SchemaPath.from_dict(single),
                    )
                )
    ids = [op.operation_id for op in result]
    assert len(ids) == len(set(ids)), "operationIds must be unique across the vendored specs"
    return tuple(result)


# --------------------------------------------------------------------------------------------
# openapi-core request adapter and matching
# --------------------------------------------------------------------------------------------


class _OpenAPIRequest:
    """`openapi_core.protocols.Request` view of a `WireRequest`."""

    def __init__(self, request: WireRequest) -> None:
        parts = urlsplit(request.url)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.method = request.method.lower()
        headers = Headers(list(request.headers.items()))
        self.body = request.body
        self.transport_problems: list[str] = []
        if self.body and headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                self.body = gzip.decompress(self.body)
            except (OSError, EOFError):
                self.transport_problems.append("body: Content-Encoding gzip but body is not gzip")
        self.content_type = (headers.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True)),
            header=headers,
            cookie=ImmutableMultiDict(),
        )


def _url_matches(operation: Operation, request: _OpenAPIRequest) -> bool:
    """Whether the request URL routes to the operation: server (enum-checked) and path."""
    full_url = request.host_url + request.path
    finder = APICallPathFinder(operation.document)
    try:
        found = finder.find(operation.method, full_url)
    except PathError:
        return False
    # openapi-core accepts any value for a server variable; Mixpanel's hosts are enumerated.
    declared = (found.server / "variables").read_value() if "variables" in found.server else {}
    for name, value in found.server_result.variables.items():
        if value not in declared.get(name, {}).get("enum", [value]):
            return False
    return True


def _safe_str(exc: BaseException) -> str:
    if isinstance(exc, MediaTypeDeserializeError):
        # its own __str__ assumes bytes and fails on a form field's str value
        return f"cannot deserialize as {exc.mimetype}: {exc.value!r}"
    try:
        return str(exc)
    except Exception:  # a message must never hide the problem itself
        return f"{type(exc).__name__}: {exc.args!r}"


def _causes(exc: BaseException) -> list[str]:
    cause = exc.__cause__
    if cause is None:
        return [_safe_str(exc)]
    schema_errors = getattr(cause, "schema_errors", None)
    if not schema_errors:
        return [_safe_str(cause)]
    messages = []
    for error in schema_errors:
        location = "/".join(str(part) for part in error.absolute_path) or "(root)"
        messages.append(f"{location}: {error.message}")
    return messages


def _describe(exc: Exception) -> list[str]:
    if isinstance(exc, MissingRequiredParameter):
        return [f"missing required {exc.location} parameter {exc.name!r}"]
    if isinstance(exc, ParameterValidationError):
        return [f"{exc.location} parameter {exc.name!r}: {m}" for m in _causes(exc)]
    if isinstance(exc, MissingRequiredRequestBody):
        return ["missing required request body"]
    if isinstance(exc, RequestBodyValidationError):
        return [f"body: {m}" for m in _causes(exc)]
    if isinstance(exc, SecurityValidationError):
        if isinstance(exc.__cause__, SecurityNotFound):
            schemes = " | ".join("+".join(names) for names in exc.__cause__.schemes)
            return [f"security: operation requires credentials ({schemes}); request has none"]
        return [f"security: {m}" for m in _causes(exc)]
    return [f"{type(exc).__name__}: {m}" for m in _causes(exc)]


def _basic_auth_problems(request: _OpenAPIRequest) -> list[str]:
    """Fake credentials are fine, but a Basic header must be base64 of ``user:password``."""
    header = request.parameters.header.get("Authorization")
    if header is None or not header.lower().startswith("basic "):
        return []
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ["security: Authorization Basic value is not base64"]
    if ":" not in decoded:
        return ["security: Authorization Basic value is not 'username:password'"]
    return []


def _text(value: bytes, **parameters: str) -> str:
    return value.decode(parameters.get("charset", "utf-8"))


# openapi-core leaves media types it does not know as bytes; CSV (lookup tables) is text.
_EXTRA_MEDIA_TYPE_DESERIALIZERS = {"text/csv": _text}


def _validate(operation: Operation, request: _OpenAPIRequest) -> list[str]:
    problems: list[str] = []
    # The experiments and feature-flag files are OpenAPI 3.1 (`type: "null"` in `anyOf`).
    is_31 = str((operation.document / "openapi").read_value()).startswith("3.1")
    validators = (
        (V31RequestSecurityValidator, V31RequestParametersValidator, V31RequestBodyValidator)
        if is_31
        else (V30RequestSecurityValidator, V30RequestParametersValidator, V30RequestBodyValidator)
    )
    for validator_cls in validators:
        validator = validator_cls(
            operation.document, extra_media_type_deserializers=_EXTRA_MEDIA_TYPE_DESERIALIZERS
        )
        for exc in validator.iter_errors(request):
            problems.extend(_describe(exc))
    return problems


def _check(request: WireRequest, operation_id: str | None, *, allow_list: bool) -> list[str]:
    wire = _OpenAPIRequest(request)
    all_ops = operations(allow_list=allow_list)
    auth_problems = wire.transport_problems + _basic_auth_problems(wire)

    if operation_id is not None:
        by_id = {op.operation_id: op for op in all_ops}
        if operation_id not in by_id:
            raise KeyError(f"unknown operationId {operation_id!r}; known: {sorted(by_id)}")
        operation = by_id[operation_id]
        if not _url_matches(operation, wire):
            return [f"URL {request.url} does not route to {operation.label}"]
        if operation.method != wire.method:
            return [f"method {request.method.upper()} is not {operation.label}"]
        return auth_problems + _validate(operation, wire)

    routed = [op for op in all_ops if _url_matches(op, wire)]
    if not routed:
        raise NoMatchingOperationError(
            f"no operation in {', '.join(SPEC_FILES)} matches {request.method.upper()} "
            f"{request.url} (server URL and path)"
        )
    candidates = [op for op in routed if op.method == wire.method]
    if not candidates:
        allowed = ", ".join(sorted({op.method.upper() for op in routed}))
        return [
            f"method {request.method.upper()} not allowed for {wire.path}; spec allows {allowed}"
        ]

    results = [(op, _validate(op, wire)) for op in candidates]
    if any(not problems for _, problems in results):
        return auth_problems
    if len(results) == 1:
        return auth_problems + results[0][1]
    results.sort(key=lambda item: len(item[1]))
    return auth_problems + [
        f"[{op.operation_id}] {problem}" for op, problems in results for problem in problems
    ]


def check_wire_request(request: WireRequest, operation_id: str | None = None) -> list[str]:
    """Validate a wire request against Mixpanel's OpenAPI specs (plus the allow-list).

    Args:
        request: The request as sent: method, full URL with query string, headers, body.
        operation_id: The spec's operationId to validate against. Without it, every operation
            whose server, path (fragment removed) and method match is tried; the request is
            valid if any of them accepts it.

    Returns:
        Human-readable problems; an empty list means the request is valid.

    Raises:
        NoMatchingOperationError: No operation matches the request's server URL and path.
        KeyError: ``operation_id`` names no operation of the vendored specs.
    """
    return _check(request, operation_id, allow_list=True)
