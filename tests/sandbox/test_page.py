"""The live view shows what was just sent, and never a secret."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import requests

from connector import Component
from connector.sandbox import Sandbox, page, paging
from connector.sandbox.models.base import Context
from connector.sandbox.models.families import PROFILES


def test_live_view_shows_events_profiles_pipelines_requests_without_secrets(
    sandbox: Sandbox, component: Component
) -> None:
    conn = sandbox.connection
    events = [
        {"event": "Checkout <Started>", "properties": {"distinct_id": "shopper-1"}},
        {"event": "Checkout <Started>", "properties": {"distinct_id": "shopper-2"}},
        {
            "event": "Viewed Cart",
            "properties": {"distinct_id": "shopper-1", "note": conn["password"]},
        },
    ]
    component.run("trackEvents", {"events": events}, conn)
    component.run(
        "createProfile",
        {"properties": [{"$distinct_id": "shopper-1", "$set": {"tier": "gold"}}]},
        conn,
    )
    component.run(
        "createGCSPipeline",
        {
            "project_id": sandbox.project_id,
            "gcs_bucket": "b",
            "gcs_region": "us-east1",
            "trial": "1",
        },
        conn,
    )
    page = requests.get(sandbox.base_url + "/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert '<meta http-equiv="refresh"' in html
    assert "Checkout &lt;Started&gt;</td><td>2</td><td>2</td>" in html  # escaped, counted
    assert "Viewed Cart" in html and "shopper-2" in html
    assert "gold" in html and "trial-events-daily-gcs-raw" in html
    assert "/nessie/pipeline/create" in html and "/track" in html
    assert "<script" not in html and "http://" not in html.replace(sandbox.base_url, "")
    basic = base64.b64encode(f"{conn['username']}:{conn['password']}".encode()).decode()
    for secret in (conn["password"], conn["projectToken"], basic):
        assert secret not in html
    assert html.count("***") >= 3  # token of each event, the secret inside a property


def test_the_live_view_does_not_list_its_own_loads(sandbox: Sandbox, component: Component) -> None:
    component.run("listSavedFunnels", {"project_id": sandbox.project_id}, sandbox.connection)
    with requests.Session() as browser:
        for _ in range(5):
            assert browser.get(sandbox.base_url + "/", timeout=5).status_code == 200
        icon = browser.get(sandbox.base_url + "/favicon.ico", timeout=5)
        html = browser.get(sandbox.base_url + "/", timeout=5).text
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/svg+xml"
    assert [r["path"] for r in sandbox.store.requests()] == ["/api/query/funnels/list"]
    rows = re.findall(r"<tr><td><time[^>]*>[^<]*</time></td><td>(\w+)</td><td>([^<]*)</td>", html)
    assert rows == [("GET", "/api/query/funnels/list")]
    assert "Requests: 1, showing the last 1" in html


def test_times_are_iso_utc_with_the_epoch_and_its_unit_on_hover(
    sandbox: Sandbox, component: Component
) -> None:
    moment = int(time.time()) - 3600
    event = {"event": "Paid", "properties": {"distinct_id": "u1", "time": moment}}
    component.run(
        "importEvents", {"events": [event], "project_id": sandbox.project_id}, sandbox.connection
    )
    html = requests.get(sandbox.base_url + "/", timeout=5).text
    iso = dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{iso}" title="{moment} (epoch s)">{iso}</time>' in html
    started = sandbox.store.requests()[0]["started"]
    iso_ms = dt.datetime.fromtimestamp(started / 1000, dt.UTC).isoformat(timespec="milliseconds")
    iso_ms = iso_ms.replace("+00:00", "Z")
    assert f'<time datetime="{iso_ms}" title="{started} (epoch ms)">{iso_ms}</time>' in html
    assert "<td>Paid</td>" in html


def test_the_page_loads_nothing_from_elsewhere_and_charts_requests(
    sandbox: Sandbox, component: Component
) -> None:
    component.run("listSavedFunnels", {"project_id": sandbox.project_id}, sandbox.connection)
    requests.get(sandbox.base_url + "/nope", timeout=5)
    html = requests.get(sandbox.base_url + "/", timeout=5).text
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith(("data:", "?")) for link in links)
    assert '<link rel="icon" href="data:image/svg+xml,' in html
    assert "<script" not in html and "url(" not in html
    chart = html[html.index('<svg class="chart"') : html.index("</svg>")]
    tips = re.findall(r"<title>[^<]* UTC: ([^<]*)</title>", chart)
    assert sum(int(n) for tip in tips for n, label in re.findall(r"(\d+) (\w+)", tip)) == 2
    assert any("4xx" in tip for tip in tips) and any("2xx" in tip for tip in tips)


def test_the_project_secret_is_masked_too(sandbox: Sandbox, component: Component) -> None:
    event = {"event": "Leak", "properties": {"distinct_id": "u1", "note": sandbox.project_secret}}
    component.run("trackEvents", {"events": [event]}, sandbox.connection)
    html = requests.get(sandbox.base_url + "/", timeout=5).text
    assert "Leak" in html and sandbox.project_secret not in html


def _profiles(sandbox: Sandbox, ids: list[str]) -> None:
    for did in ids:
        body = {"$distinct_id": did, "$properties": {"$name": did.upper()}}
        sandbox.store.resources.put(PROFILES, Context(), did, body)


def _page(sandbox: Sandbox, query: str = "") -> str:
    reply = page.render(sandbox, query)
    assert reply.status == 200
    return reply.body.decode()


def _heading(html: str, table: str) -> str:
    found = re.search(rf'<h2 id="{table}-title">([^<]*)</h2>', html)
    assert found, table
    return found.group(1)


def _first_cells(html: str, table: str) -> list[str]:
    part = html[html.index(f'<table id="{table}">') :]
    part = part[: part.index("</table>")]
    return re.findall(r"<tr><td>(.*?)</td>", part)


def test_profiles_are_paged_in_natural_order_with_counts(sandbox: Sandbox) -> None:
    _profiles(sandbox, [f"user-{n}" for n in range(250, 0, -1)])
    html = _page(sandbox)
    assert _heading(html, "profiles") == "Profiles: 250, showing 1-100 (by distinct id)"
    assert _first_cells(html, "profiles") == [f"user-{n}" for n in range(1, 101)]
    assert 'rel="next" href="?profiles_page=2"' in html and 'rel="prev"' not in html
    assert 'rel="last" href="?profiles_page=3"' in html and "page 1 of 3" in html

    last = _page(sandbox, "profiles_page=3")
    assert _heading(last, "profiles") == "Profiles: 250, showing 201-250 (by distinct id)"
    assert _first_cells(last, "profiles") == [f"user-{n}" for n in range(201, 251)]
    assert 'rel="prev" href="?profiles_page=2"' in last and 'rel="next"' not in last
    assert _first_cells(_page(sandbox, "profiles_page=99"), "profiles")[0] == "user-201"

    small = _page(sandbox, "profiles_page=2&size=7")
    assert _first_cells(small, "profiles") == [f"user-{n}" for n in range(8, 15)]
    assert 'rel="next" href="?profiles_page=3&amp;size=7"' in small


def test_page_sizes_are_bounded_and_bad_paging_answers_400(sandbox: Sandbox) -> None:
    _profiles(sandbox, [f"p{n}" for n in range(paging.MAX_SIZE + 20)])
    html = _page(sandbox, "size=100000")
    assert _heading(html, "profiles") == "Profiles: 520, showing 1-500 (by distinct id)"
    assert len(_first_cells(html, "profiles")) == paging.MAX_SIZE
    for query in ("profiles_page=two", "size=-3", "events_page=1e3"):
        reply = page.render(sandbox, query)
        assert reply.status == 400, query
        assert b"must be a whole number" in reply.body
    assert page.serve(sandbox, "/?size=x", "127.0.0.1").status == 400


def test_events_are_paged_newest_first_and_names_are_in_natural_order(sandbox: Sandbox) -> None:
    now = int(time.time())
    sandbox.store.add_events(
        {"event": f"Step {n % 12}", "properties": {"distinct_id": "u", "time": now, "n": n}}
        for n in range(120)
    )
    html = _page(sandbox, "events_page=3")
    assert _heading(html, "events") == "Events: 120, showing 101-120 (newest first)"
    shown = re.findall(r'<span class="k">&quot;n&quot;</span>:<wbr> <span class="n">(\d+)', html)
    assert [int(n) for n in shown] == list(range(19, -1, -1))
    assert 'rel="prev" href="?events_page=2"' in html
    names = _first_cells(html, "event-names")
    assert names == [f"Step {n}" for n in range(12)]  # Step 2 before Step 10


def test_the_chart_and_the_request_log_come_before_the_tables(
    sandbox: Sandbox, component: Component
) -> None:
    component.run("listSavedFunnels", {"project_id": sandbox.project_id}, sandbox.connection)
    _profiles(sandbox, ["a"])
    event = {"event": "e", "properties": {"distinct_id": "a", "time": int(time.time())}}
    sandbox.store.add_events([event])
    html = _page(sandbox)
    marks = ["<svg", "requests", "event-names", "events", "profiles"]
    order = [html.index(m if m.startswith("<") else f'<table id="{m}">') for m in marks]
    assert order == sorted(order) and html.index('id="pipelines"') > order[-1]


def test_everything_shown_is_escaped_and_no_credential_shows(sandbox: Sandbox) -> None:
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    basic = base64.b64encode(f"{sandbox.username}:{sandbox.password}".encode()).decode()
    token_basic = base64.b64encode(f"{sandbox.project_token}:".encode()).decode()
    properties = {
        "distinct_id": hostile,
        "time": int(time.time()),
        hostile: hostile,
        "token": "anything",
        "headers": {"Authorization": f"Basic {basic}", "x": f"Bearer {sandbox.oauth_token}"},
        "copied": f"see Basic {token_basic} and {sandbox.project_secret}!",
    }
    sandbox.store.add_events([{"event": hostile, "properties": properties}])
    _profiles(sandbox, [hostile])
    html = _page(sandbox)
    for raw in ("<img", "<script", "onerror=alert(1)>"):
        assert raw not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    for secret in (
        sandbox.password,
        sandbox.project_token,
        sandbox.project_secret,
        sandbox.oauth_token,
        basic,
        token_basic,
        "anything",
    ):
        assert secret not in html, secret
    assert html.count('<span class="m">&quot;***&quot;</span>') >= 2  # token, Authorization
