"""Credentials as Mixpanel checks them: one policy per API name (the `api` of urls.py's routes).

A policy lists the credentials its API accepts, tried in order; a refusal is a `Problem`
carrying the API's own 401/403 (or 400) answer. The kinds:

- `records`: none in the headers; each record carries the project token (/track, /engage).
- `project_token`, `project_secret`: the project's token or secret as the Basic username with an
  empty password; a `project_id` given beside it must be this project's (else 403).
- `service_account`: the service account's Basic username and secret plus `project_id`
  (400 without it, 403 for another project).
- `service_account_path`: the service account, with the project, organization or workspace
  named by the path (`projectId`, `organizationId`, `workspace_id`, ...) checked (403).
- `oauth`: `Authorization: Bearer <OAuth token>` plus the project token as the `token` query
  parameter.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from .reply import Call, Problem, Served, api_error

#: The path parameters that name the project, organization or workspace of an app API call.
PATH_OWNERS = (
    (("projectId", "project_id"), "project", "project_id"),
    (("organizationId", "organization_id"), "organization", "organization_id"),
    (("workspace_id", "workspaceId"), "workspace", "workspace_id"),
)


@dataclass(frozen=True)
class Policy:
    """The credentials one API accepts, tried in order (see the module docstring for each)."""

    api: str
    accepts: tuple[str, ...]

    def check(self, call: Call) -> None:
        """Return when `call` carries an accepted credential; else raise the API's refusal."""
        if self.accepts == ("records",):
            return
        if self.accepts == ("oauth",):
            _oauth(call, self.api)
            return
        user, secret = _basic(call, self.api)
        for kind in self.accepts:
            if CHECKS[kind](call, self.api, user, secret):
                return
        if user == call.sandbox.project_token and not secret:
            message = (
                "the project token authenticates only ingestion; use a service account"
                " (with project_id) or the project secret"
            )
            raise _refuse(call, self.api, 401, message)
        raise _refuse(call, self.api, 401, "Invalid credentials")


def _refuse(call: Call, api: str, status: int, message: str) -> Problem:
    return Problem(api_error(api, status, message, call.path))


def basic_credentials(header: str) -> tuple[str, str] | None:
    """The (username, password) of a Basic `Authorization` header; None when it is not one."""
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, secret


def _basic(call: Call, api: str) -> tuple[str, str]:
    header = call.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        raise _refuse(call, api, 401, "Unable to authenticate request")
    pair = basic_credentials(header)
    if pair is None:
        raise _refuse(call, api, 401, "Invalid credentials")
    return pair


def _project_key(key: str, call: Call, api: str, user: str, secret: str) -> bool:
    if not key or user != key or secret:
        return False
    given = call.params.get("project_id")
    if given and given != call.sandbox.project_id:
        raise _refuse(call, api, 403, f"Permission denied for project {given}")
    return True


def _project_token(call: Call, api: str, user: str, secret: str) -> bool:
    return _project_key(call.sandbox.project_token, call, api, user, secret)


def _project_secret(call: Call, api: str, user: str, secret: str) -> bool:
    return _project_key(call.sandbox.project_secret, call, api, user, secret)


def _is_service_account(sb: Served, user: str, secret: str) -> bool:
    return user == sb.username and secret == sb.password


def _service_account(call: Call, api: str, user: str, secret: str) -> bool:
    if not _is_service_account(call.sandbox, user, secret):
        return False
    given = call.params.get("project_id")
    if not given:
        message = "project_id is required when authenticating with a service account"
        raise _refuse(call, api, 400, message)
    if given != call.sandbox.project_id:
        raise _refuse(call, api, 403, f"service account has no access to project {given}")
    return True


def _service_account_path(call: Call, api: str, user: str, secret: str) -> bool:
    sb = call.sandbox
    if not _is_service_account(sb, user, secret):
        return False
    for names, what, attribute in PATH_OWNERS:
        for name in names:
            given = call.path_params.get(name)
            if given is not None and given != getattr(sb, attribute):
                raise _refuse(call, api, 403, f"service account has no access to {what} {given}")
    return True


def _oauth(call: Call, api: str) -> None:
    header = call.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise _refuse(call, api, 401, "Unable to authenticate request")
    if header[7:].strip() != call.sandbox.oauth_token:
        raise _refuse(call, api, 401, "Invalid credentials")
    token = call.params.get("token")
    if not token:
        raise _refuse(call, api, 400, "token is required: the project token, as a query parameter")
    if token != call.sandbox.project_token:
        raise _refuse(call, api, 403, "token does not match this project")


CHECKS: dict[str, Callable[[Call, str, str, str], bool]] = {
    "project_token": _project_token,
    "project_secret": _project_secret,
    "service_account": _service_account,
    "service_account_path": _service_account_path,
}
#: Every API's policy, by the API name that urls.py's routes carry. As Mixpanel: the project
#: token only for ingestion; a service account or the project secret for the Query API, the raw
#: export and the pipelines (the secret until Mixpanel retires it); a service account for the rest.
POLICIES: dict[str, Policy] = {
    policy.api: policy
    for policy in (
        Policy("ingestion-token", ("records",)),
        Policy("import", ("project_token", "project_secret", "service_account")),
        Policy("query", ("project_secret", "service_account")),
        Policy("export", ("project_secret", "service_account")),
        Policy("pipelines", ("project_secret", "service_account")),
        Policy("app", ("service_account_path",)),
        Policy("gdpr", ("oauth",)),
        Policy("flags", ("service_account", "project_secret", "project_token")),
        Policy("lookup-tables", ("service_account",)),
    )
}
