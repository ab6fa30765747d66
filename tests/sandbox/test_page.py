"""The live view shows what was just sent, and never a secret."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import requests

from connector import Component
from connector.sandbox import Sandbox


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
    assert "1 requests logged" in html


def test_times_are_utc_dates_with_the_epoch_on_hover(
    sandbox: Sandbox, component: Component
) -> None:
    moment = int(time.time()) - 3600
    event = {"event": "Paid", "properties": {"distinct_id": "u1", "time": moment}}
    component.run(
        "importEvents", {"events": [event], "project_id": sandbox.project_id}, sandbox.connection
    )
    html = requests.get(sandbox.base_url + "/", timeout=5).text
    day = dt.datetime.fromtimestamp(moment, dt.UTC)
    shown = day.strftime("%Y-%m-%d %H:%M:%S") + ".000"
    iso = day.strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"
    assert f'<time datetime="{iso}" title="{moment} (epoch s)">{shown}</time>' in html
    started = sandbox.store.requests()[0]["started"]
    assert f'title="{started} (epoch ms)">' in html
    assert "<td>Paid</td>" in html


def test_the_page_loads_nothing_from_elsewhere_and_charts_requests(
    sandbox: Sandbox, component: Component
) -> None:
    component.run("listSavedFunnels", {"project_id": sandbox.project_id}, sandbox.connection)
    requests.get(sandbox.base_url + "/nope", timeout=5)
    html = requests.get(sandbox.base_url + "/", timeout=5).text
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith("data:") for link in links)
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
