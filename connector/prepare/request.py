"""The HTTPRequest value: everything needed to send one request, showable without sending it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..core.redact import Redactor


@dataclass(frozen=True)
class HTTPRequest:
    """One rendered request. `content` is the encoded body; `body` its readable form."""

    action: str
    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body_format: str = "none"
    body: Any = None
    content: bytes | None = None
    files: tuple[tuple[str, str, bytes], ...] = ()
    form_fields: tuple[tuple[str, str], ...] = ()
    auth_scheme: str = "none"
    allow_any_host: bool = False
    timeout_s: float | None = None
    retry: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    secrets: Redactor = field(default_factory=Redactor, repr=False, compare=False)
    api: str = ""  # the API's name for messages (the component's name)

    @property
    def api_name(self) -> str:
        """The API's name as messages use it: the component's name, else "the API"."""
        return self.api or "the API"

    @property
    def full_url(self) -> str:
        """The URL with its query string."""
        if not self.params:
            return self.url
        joiner = "&" if urlsplit(self.url).query else "?"
        return self.url + joiner + urlencode(self.params)

    @property
    def host(self) -> str:
        """The host name the request goes to."""
        return urlsplit(self.url).hostname or ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready, redacted view of the request, as dry runs print it."""
        shown: dict[str, Any] = {
            "method": self.method,
            "url": self.full_url,
            "auth": self.auth_scheme,
            "headers": dict(self.headers),
        }
        if self.auth_scheme != "none":
            shown["headers"]["Authorization"] = "Basic ***"
        if self.body_format != "none":
            shown["body_format"] = self.body_format
            shown["body"] = self.body
        if self.files:
            shown["files"] = [
                {"field": f, "file_name": n, "size": len(c)} for f, n, c in self.files
            ]
        if self.timeout_s is not None:
            shown["timeout_s"] = self.timeout_s
        return dict(self.secrets.data(shown))

    def __repr__(self) -> str:
        return f"<HTTPRequest {self.action}: {self.method} {self.secrets.text(self.full_url)}>"
