"""The live view at `/`: what the sandbox received, as plain HTML that refreshes itself.

It loads nothing from elsewhere (inline style, icon and chart), and its own loads are not
listed among the requests.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from connector.core.redact import Redactor

from . import chart, jsonview, paging, requestlog
from .addresses import names_this_machine
from .models.base import now_ms
from .reply import Reply, Served, error
from .timelabel import event_time, label

REFRESH_S = 2
LOG_ROWS = 20  # requests listed; the rest are in the JSON log
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#5028c0"/>'
    '<path d="M3 12V4l5 5 5-5v8" stroke="#fff" stroke-width="2" fill="none"/></svg>'
)
STYLE = (
    """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em}h2{font-size:1.05em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%;table-layout:fixed}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}th{background:#f0f0f0;overflow-wrap:normal}code{font-size:12px}
.s2{color:#17702b}.s4{color:#a15c00}.s5,.s0{color:#b00020}.note{color:#666}
time{white-space:nowrap}.chart{background:#fff;border:1px solid #ddd}
.pager{margin:.4em 0}.pager a,.pager span{margin-right:.8em}
"""
    + jsonview.STYLE
)


def _table(name: str, columns: list[tuple[str, str]], rows: list[list[str]], empty: str) -> str:
    """A table with `id=name`; columns are (header, width) with "" for the rest of the width."""
    if not rows:
        return f'<p class="note" id="{name}">{escape(empty)}</p>'
    cols = "".join(f'<col style="width:{w}">' if w else "<col>" for _, w in columns)
    head = "".join(f"<th>{escape(h)}</th>" for h, _ in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{name}"><colgroup>{cols}</colgroup><tr>{head}</tr>{body}</table>'


def _text(value: Any, masks: Redactor) -> str:
    return escape(masks.text(str(value)))


PAGE_PATHS = ("/", "/favicon.ico", requestlog.LOG_PATH)
REQUEST_COLUMNS = [
    ("time (UTC)", "15em"),
    ("method", "7em"),
    ("path", ""),
    ("status", "6em"),
    ("credential", "14em"),
    ("took", "6em"),
]
NAME_COLUMNS = [("event", ""), ("raw", "8em"), ("de-duplicated", "10em")]
EVENT_COLUMNS = [("time (UTC)", "15em"), ("event", "14em"), ("properties", "")]
PROFILE_COLUMNS = [("distinct id", "14em"), ("properties", "")]
PIPELINE_COLUMNS = [("name", "16em"), ("state", "8em"), ("parameters", "")]


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
    return render(sandbox, urlsplit(target).query)


def _requests(log: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            label(r["started"]),
            escape(r["method"]),
            escape(r["path"]),
            f'<span class="s{str(r["status"])[0]}">{r["status"] or "reset"}</span>',
            escape(str(r.get("auth", ""))),
            f"{r['finished'] - r['started']} ms",
        ]
        for r in reversed(log[-LOG_ROWS:])
    ]


def render(sandbox: Served, query: str = "") -> Reply:
    """The whole page (the pages of its tables as `query` asks); every secret is masked."""
    store = sandbox.store
    secrets = (sandbox.password, sandbox.project_token, sandbox.project_secret, sandbox.oauth_token)
    masks = jsonview.redactor(secrets, sandbox.username)
    totals = {"events": store.raw_event_count(), "profiles": store.profile_count()}
    try:
        shown = paging.windows(query, totals)
    except paging.PagingError as problem:
        return error(400, str(problem))
    counts = [[_text(n, masks), f"{raw:,}", f"{dedup:,}"] for n, raw, dedup in store.event_counts()]
    at = shown["events"]
    events = [
        [
            event_time(e.get("properties")),
            _text(e.get("event"), masks),
            jsonview.render(e.get("properties"), masks),
        ]
        for e in store.recent_events(at.size, at.start)
    ]
    at = shown["profiles"]
    profiles = [
        [_text(d, masks), jsonview.render(p, masks)]
        for d, p in store.profile_page(at.start, at.size)
    ]
    pipes = [
        [_text(p["name"], masks), _text(p["state"], masks), jsonview.render(p["params"], masks)]
        for p in store.pipelines(sandbox.project_id)
    ]
    log = store.requests()
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
<h2 id="chart-title">Requests per second, last minute</h2>
<div id="chart">{chart.render(log, now_ms())}</div>
<h2 id="requests-title">Requests: {len(log):,}, showing the last {min(len(log), LOG_ROWS)}</h2>
<p class="note">Newest first; this page's own loads are not listed. All of them as JSON:
<code>{requestlog.LOG_PATH}</code>.</p>
{_table("requests", REQUEST_COLUMNS, _requests(log), "No requests yet.")}
<h2>Events per name (raw, de-duplicated)</h2>
{_table("event-names", NAME_COLUMNS, counts, "No events yet.")}
<h2 id="events-title">{shown["events"].heading("Events")} (newest first)</h2>
{paging.nav(shown, "events")}
{_table("events", EVENT_COLUMNS, events, "No events yet.")}
<h2 id="profiles-title">{shown["profiles"].heading("Profiles")} (by distinct id)</h2>
{paging.nav(shown, "profiles")}
{_table("profiles", PROFILE_COLUMNS, profiles, "No profiles yet.")}
<h2>Pipelines</h2>
{_table("pipelines", PIPELINE_COLUMNS, pipes, "No pipelines yet.")}
</body></html>"""
    return Reply(200, html.encode(), "text/html; charset=utf-8")
