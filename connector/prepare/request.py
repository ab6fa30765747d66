"""The HTTPRequest value: everything needed to send one request, showable without sending it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..core.redact import Redactor
from ..core.urls import origin_of
from ..errors import UnsafeURL
from .csvbody import CSVFile


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
    #: A body streamed from this file when sent (instead of `content`), opened per attempt.
    body_file: CSVFile | None = None
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
    #: The origin that answers when it is not one of the API's own hosts (a base URL such as a
    #: sandbox or a proxy, a Raw Request's host), for messages; "" at the API's own host.
    server: str = ""
    #: Where the credentials go and why that is allowed (set once the trust rule approved it).
    credentials_to: str = ""
    #: Where an overlay the caller opted in to widens credential trust for this request.
    trust_widened: tuple[str, ...] = ()

    @property
    def api_name(self) -> str:
        """Who answers, as messages name it.

        The component's name at the API's own hosts ("the API" when it has none); elsewhere
        "the server at ORIGIN".
        """
        if self.server:
            return f"the server at {self.server}"
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
        """The host the request goes to, as urllib3 reads the URL ("" when it cannot be read)."""
        try:
            return origin_of(self.url).host
        except UnsafeURL:
            return ""

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
            if self.credentials_to:
                shown["credentials_to"] = self.credentials_to
        if self.trust_widened:
            shown["trust_widened"] = list(self.trust_widened)
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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle a masked copy: no secret, no encoded body or file content (they may hold one)."""
        mask = self.secrets
        masked = replace(
            self,
            url=mask.text(self.url),
            params=tuple((k, mask.text(v)) for k, v in self.params),
            headers=dict(mask.data(self.headers)),
            body=mask.data(self.body),
            content=None,
            files=tuple((f, n, b"") for f, n, _ in self.files),
            form_fields=tuple((k, mask.text(v)) for k, v in self.form_fields),
            inputs=dict(mask.data(self.inputs)),
            secrets=Redactor(),
        )
        return (HTTPRequest, tuple(getattr(masked, f.name) for f in fields(self)))

    def __copy__(self) -> HTTPRequest:
        return replace(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> HTTPRequest:
        copied = {
            f.name: copy.deepcopy(getattr(self, f.name), memo)
            for f in fields(self)
            if f.name != "secrets"
        }
        return HTTPRequest(**copied, secrets=self.secrets)

    def __repr__(self) -> str:
        return f"<HTTPRequest {self.action}: {self.method} {self.secrets.text(self.full_url)}>"
