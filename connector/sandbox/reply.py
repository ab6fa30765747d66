"""Parsed requests, answers, and the error shape of each of Mixpanel's APIs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .faults import Faults
from .models.base import Context
from .store import Store

#: Each API's error shape, by API name (the names of urls.py's routes and auth.py's policies).
#: "status": `{"error", "status": "error"}`; "code": `{"code", "error", "status": reason}`;
#: "query": `{"request", "error"}`.
STYLES = {
    "ingestion-token": "status",
    "import": "code",
    "query": "query",
    "export": "status",
    "pipelines": "status",
    "app": "status",
    "gdpr": "status",
    "flags": "status",
    "lookup-tables": "status",
}
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
}


class Served(Protocol):
    """What answering a request may read of the running sandbox (`server.Sandbox` is one)."""

    store: Store
    faults: Faults
    workers: int
    db: str
    host: str
    username: str
    password: str
    project_token: str
    project_secret: str
    oauth_token: str
    project_id: str
    organization_id: str
    workspace_id: str
    engage_page_size: int
    sessions: dict[str, list[str]]
    lock: threading.Lock
    errors: list[str]
    clock: Callable[[], float]


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One parsed request: query and form values merged into `params`, the decoded body.

    `path_params` holds the values of the matched route's `{name}` segments.
    """

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    sandbox: Served
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def context(self, **scope: str) -> Context:
        """The models' context: the sandbox's clock and identity, the path's values and `scope`."""
        sb = self.sandbox
        return Context(
            scope={**self.path_params, **scope},
            clock=sb.clock,
            project_id=sb.project_id,
            organization_id=sb.organization_id,
            workspace_id=sb.workspace_id,
        )


def json_reply(status: int, value: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    body = json.dumps(value, separators=(",", ":")).encode()
    return Reply(status, body, "application/json", headers or {})


def text_reply(status: int, text: str, content_type: str = "text/plain") -> Reply:
    """A text answer."""
    return Reply(status, text.encode(), f"{content_type}; charset=utf-8")


def error(status: int, message: str, *, style: str = "status", path: str = "") -> Reply:
    """An error in one of the shapes Mixpanel uses (see STYLES)."""
    if style == "code":
        reason = REASONS.get(status, "Error")
        return json_reply(status, {"code": status, "error": message, "status": reason})
    if style == "query":
        return json_reply(status, {"request": path, "error": message})
    return json_reply(status, {"error": message, "status": "error"})


def api_error(api: str, status: int, message: str, path: str = "") -> Reply:
    """An error in the shape of the API named `api`."""
    return error(status, message, style=STYLES[api], path=path)


class Problem(Exception):
    """Raised by a route to answer an error; `reply` is the answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


Handler = Callable[[Call], Reply]
