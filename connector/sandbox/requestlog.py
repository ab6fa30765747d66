"""The request log for tools: what each request carried (never a secret), its answer and timing.

An entry names the method, path, query and form keys (not their values), content type and
encoding, the kind of credential (`basic-service-account`, `basic-secret`, `basic-token`,
`basic-unknown`, `basic-malformed`, `bearer`, another scheme's name, or `none`), the status,
the times, and any injected fault. Every string is masked against the sandbox's secrets and
cut short, and the log keeps the most recent entries only (`store.MAX_REQUEST_LOG`).
`GET /_sandbox/requests?since=ID&limit=N` serves it as JSON; `Sandbox.requests(since)` in
Python.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connector.core.redact import Redactor

from .auth import basic_credentials
from .reply import Reply, Served, error, json_reply

LOG_PATH = "/_sandbox/requests"
MAX_KEYS = 50  # query or form keys kept per entry
MAX_TEXT = 200  # characters kept of any string
PAGE = 1000  # entries per answer, unless `limit` says fewer (or more, up to the whole log)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9._~+-]{0,19}")
_FORM = "application/x-www-form-urlencoded"
_TEXTS = ("method", "path", "content_type", "content_encoding", "user_agent")


def credential_kind(authorization: str, sandbox: Served) -> str:
    """What kind of credential an `Authorization` header carries (never its value)."""
    scheme, space, _ = authorization.strip().partition(" ")
    if not scheme:
        return "none"
    if not space or not _SCHEME.fullmatch(scheme):
        return "unknown"  # a bare value could be the secret itself
    if scheme.lower() == "bearer":
        return "bearer"
    if scheme.lower() != "basic":
        return scheme.lower()
    pair = basic_credentials(authorization)
    if pair is None:
        return "basic-malformed"
    user, password = pair
    if password:
        return "basic-service-account"
    if user and user == sandbox.project_secret:
        return "basic-secret"
    if user and user == sandbox.project_token:
        return "basic-token"
    return "basic-unknown"


@functools.lru_cache(maxsize=8)
def _redactor(secrets: tuple[str, ...]) -> Redactor:
    return Redactor(secrets)


def _keys(pairs: list[tuple[str, str]]) -> list[str]:
    return list(dict.fromkeys(key for key, _ in pairs))[:MAX_KEYS]


def entry(
    sandbox: Served,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    status: int,
    started: int,
    finished: int,
    fault: str | None,
) -> dict[str, Any]:
    """One log entry, masked (see the module docstring)."""
    parts = urlsplit(target)
    query = parse_qsl(parts.query, keep_blank_values=True)
    content_type = headers.get("content-type", "")
    encoding = headers.get("content-encoding", "")
    form = []
    if content_type.split(";")[0].strip().lower() == _FORM and not encoding:
        form = parse_qsl(body[: 64 * 1024].decode("utf-8", "replace"), keep_blank_values=True)
    params = dict(query)
    dates = [params["from_date"], params.get("to_date", "")] if "from_date" in params else None
    raw: dict[str, Any] = {
        "method": method,
        "path": (parts.path.rstrip("/") or "/") if target else "?",
        "query": _keys(query),
        "form": _keys(form),
        "content_type": content_type,
        "content_encoding": encoding,
        "user_agent": headers.get("user-agent", ""),
        "auth": credential_kind(headers.get("authorization", ""), sandbox),
        "bytes": len(body),
        "status": status,
        "started": started,
        "finished": finished,
        "duration_ms": finished - started,
        "fault": fault,
        "range": dates,
    }
    secrets = (sandbox.password, sandbox.project_token, sandbox.project_secret, sandbox.oauth_token)
    redactor = _redactor(secrets)
    texts = "\n".join([*(raw[key] for key in _TEXTS), *raw["query"], *raw["form"], *(dates or [])])
    masked: dict[str, Any] = raw if redactor.text(texts) == texts else redactor.data(raw)
    for key in _TEXTS:
        masked[key] = masked[key][:MAX_TEXT]
    masked["query"] = [k[:MAX_TEXT] for k in masked["query"]]
    masked["form"] = [k[:MAX_TEXT] for k in masked["form"]]
    return masked


def serve(sandbox: Served, target: str) -> Reply:
    """`GET /_sandbox/requests?since=ID&limit=N`: entries after ID, oldest first."""
    params = dict(parse_qsl(urlsplit(target).query))
    since, limit = params.get("since", "0"), params.get("limit", str(PAGE))
    if not since.isdigit() or not limit.isdigit() or int(limit) < 1:
        return error(400, "since and limit must be whole numbers (limit at least 1)")
    found = sandbox.store.requests(int(since))[: int(limit)]
    last = found[-1]["id"] if found else int(since)
    return json_reply(200, {"requests": found, "last": last})
