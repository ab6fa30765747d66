"""Answers and parsed requests shared by the sandbox's routes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One parsed request: query and form values merged into `params`, the decoded body."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    sandbox: Any  # the running Sandbox (store, credentials)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def json_reply(status: int, value: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    body = json.dumps(value, separators=(",", ":")).encode()
    return Reply(status, body, "application/json", headers or {})


def text_reply(status: int, text: str, content_type: str = "text/plain") -> Reply:
    """A text answer."""
    return Reply(status, text.encode(), f"{content_type}; charset=utf-8")


def error(status: int, message: str, *, style: str = "status", path: str = "") -> Reply:
    """An error in the shape Mixpanel uses on that API.

    style "status": `{"error", "status": "error"}` (ingestion, pipelines, export);
    "code": `{"code", "error", "status": reason}` (/import); "query": `{"request", "error"}`.
    """
    if style == "code":
        reasons = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            413: "Request Entity Too Large",
            429: "Too Many Requests",
        }
        return json_reply(
            status, {"code": status, "error": message, "status": reasons.get(status, "Error")}
        )
    if style == "query":
        return json_reply(status, {"request": path, "error": message})
    return json_reply(status, {"error": message, "status": "error"})


class Problem(Exception):
    """Raised by a route to answer an error; `reply` is the answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply
