"""The live view shows what was just sent, and never a secret."""

from __future__ import annotations

import base64

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
