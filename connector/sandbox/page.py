"""The live view at `/`: what the sandbox received, as plain HTML that refreshes itself.

It loads nothing from elsewhere (inline style, icon and chart), and its own loads are not
listed among the requests.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from . import chart, requestlog
from .addresses import names_this_machine
from .models.base import now_ms
from .reply import Reply, Served, error

REFRESH_S = 2
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#5028c0"/>'
    '<path d="M3 12V4l5 5 5-5v8" stroke="#fff" stroke-width="2" fill="none"/></svg>'
)
SECRET_KEYS = {"token", "$token", "password", "secret", "api_secret"}
STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em}h2{font-size:1.05em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}code{font-size:12px;white-space:pre-wrap;word-break:break-all}
.s2{color:#17702b}.s4{color:#a15c00}.s5,.s0{color:#b00020}.note{color:#666}
time{white-space:nowrap}.chart{background:#fff;border:1px solid #ddd}
"""


def _mask(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: "***" if k in SECRET_KEYS else _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets) for v in value]
    if isinstance(value, str) and any(s and s in value for s in secrets):
        return "***"
    return value


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="note">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _when(ms: float, raw: Any = None) -> str:
    """A UTC date and time; hovering shows the epoch value (`raw` as given, else ms)."""
    try:
        moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return escape(str(raw if raw is not None else ms))
    shown = moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    epoch = f"{raw} (epoch s)" if raw is not None else f"{ms:.0f} (epoch ms)"
    iso = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f'<time datetime="{iso}" title="{escape(epoch)}">{shown}</time>'


def _event_time(properties: Any) -> str:
    """An event's `time` property (seconds, or milliseconds past 1e11) as a UTC date."""
    value = properties.get("time") if isinstance(properties, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return '<span class="note">none</span>'
    return _when(value if value > 1e11 else value * 1000, value)


def _code(value: Any, secrets: tuple[str, ...]) -> str:
    return f"<code>{escape(json.dumps(_mask(value, secrets), ensure_ascii=False))}</code>"


PAGE_PATHS = ("/", "/favicon.ico", requestlog.LOG_PATH)
REQUEST_COLUMNS = ["time (UTC)", "method", "path", "status", "credential", "took"]


def is_page(path: str) -> bool:
    """The sandbox's own paths (the page, its icon, the request log): not faulted, not logged."""
    return path in PAGE_PATHS


def serve(sandbox: Served, target: str, host: str | None = None) -> Reply:
    """The page, its icon or the request log; 403 unless the Host header names this machine."""
    if not names_this_machine(host, sandbox.host):
        shown = (host or "")[:60]
        message = f"the live view answers only to Host 127.0.0.1, localhost or [::1], not {shown!r}"
        return error(403, message)
    path = urlsplit(target).path.rstrip("/") or "/"
    if path == requestlog.LOG_PATH:
        return requestlog.serve(sandbox, target)
    if path == "/favicon.ico":
        return Reply(200, ICON.encode(), "image/svg+xml", {"Cache-Control": "max-age=86400"})
    return render(sandbox)


def render(sandbox: Served) -> Reply:
    """The whole page; every secret the sandbox knows is masked."""
    store = sandbox.store
    secrets = (sandbox.password, sandbox.project_token, sandbox.project_secret, sandbox.oauth_token)
    counts = [[escape(n), str(raw), str(dedup)] for n, raw, dedup in store.event_counts()]
    events = [
        [
            _event_time(e.get("properties")),
            escape(str(e.get("event"))),
            _code(e.get("properties"), secrets),
        ]
        for e in store.recent_events(50)
    ]
    profiles = [[escape(d), _code(p, secrets)] for d, p in store.profiles()[:100]]
    pipes = [
        [escape(str(p["name"])), escape(str(p["state"])), _code(p["params"], secrets)]
        for p in store.pipelines(sandbox.project_id)
    ]
    log = store.requests()
    requests = [
        [
            _when(r["started"]),
            escape(r["method"]),
            escape(r["path"]),
            f'<span class="s{str(r["status"])[0]}">{r["status"] or "reset"}</span>',
            escape(str(r.get("auth", ""))),
            f"{r['finished'] - r['started']} ms",
        ]
        for r in reversed(log[-50:])
    ]
    faults = sandbox.faults
    settings = (
        f"fail rate {faults.fail_rate}, rate limit {faults.rate_limit or 'none'}, "
        f"reset rate {faults.reset_rate}, latency {faults.latency_ms} ms"
    )
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_S}"><title>Mixpanel sandbox</title>
<link rel="icon" href="data:image/svg+xml,{quote(ICON)}">
<style>{STYLE}</style></head><body>
<h1>Mixpanel sandbox &mdash; project {escape(sandbox.project_id)}</h1>
<p class="note">A local stand-in for Mixpanel, not Mixpanel. Service account
<code>{escape(sandbox.username)}</code>, secret and project token ***. Faults: {escape(settings)}.
Database: <code>{escape(sandbox.db)}</code>. Refreshes every {REFRESH_S} s.</p>
<h2>Events per name (raw, de-duplicated)</h2>
{_table(["event", "raw", "de-duplicated"], counts, "No events yet.")}
<h2>Last 50 events</h2>
{_table(["time (UTC)", "event", "properties"], events, "No events yet.")}
<h2>Profiles ({store.profile_count()})</h2>
{_table(["distinct id", "properties"], profiles, "No profiles yet.")}
<h2>Pipelines</h2>
{_table(["name", "state", "parameters"], pipes, "No pipelines yet.")}
<h2>Requests per second, last minute</h2>
{chart.render(log, now_ms())}
<h2>Last 50 requests</h2>
<p class="note">{len(log)} requests logged; this page's own loads are not listed. As JSON:
<code>{requestlog.LOG_PATH}</code>.</p>
{_table(REQUEST_COLUMNS, requests, "No requests yet.")}
</body></html>"""
    return Reply(200, html.encode(), "text/html; charset=utf-8")
