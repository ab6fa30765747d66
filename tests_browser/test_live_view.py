"""The live view as a browser shows it: chart and log first, paged tables, wrapped JSON.

Also: natural order and counts, times with their unit, nothing hostile run, nothing leaked.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import re
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.sandbox import Sandbox
from connector.sandbox.models.base import Context
from connector.sandbox.models.families import PROFILES

from .conftest import HEIGHT, WIDTH

PROFILE_COUNT = 2500
NOW_S = int(time.time())
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
LONG = {f"property_{n}": f"value-{n}-of-a-long-list" for n in range(40)}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """2,500 profiles stored out of order, events in seconds and milliseconds, a few requests."""
    with Sandbox() as sb:
        ids = [f"user-{n}" for n in range(1, PROFILE_COUNT + 1)]
        random.Random(28).shuffle(ids)
        for did in ids:
            body = {"$distinct_id": did, "$properties": {"$name": did.title(), "n": did[5:]}}
            sb.store.resources.put(PROFILES, Context(), did, body)
        events = [
            {"event": "Seconds", "properties": {"distinct_id": "s", "time": NOW_S - 60}},
            {"event": "Millis", "properties": {"distinct_id": "m", "time": NOW_S * 1000 + 123}},
            {"event": "Wide", "properties": {"distinct_id": "w", "time": NOW_S, **LONG}},
            {
                "event": HOSTILE,
                "properties": {
                    "distinct_id": HOSTILE,
                    "time": NOW_S,
                    "token": sb.project_token,
                    "auth": "Basic "
                    + base64.b64encode(f"{sb.username}:{sb.password}".encode()).decode(),
                    "note": f"secret {sb.project_secret} inside",
                },
            },
        ]
        sb.store.add_events(events)
        auth = (sb.username, sb.password)
        for path in ("/api/query/funnels/list", "/nope", "/api/query/funnels/list"):
            params = {"project_id": sb.project_id}
            requests.get(sb.base_url + path, params=params, auth=auth, timeout=5)
        yield sb


def _load(browser: Any, sandbox: Sandbox, query: str = "") -> dict[str, Any]:
    """Open the page and read what the tests check in one script run (no refresh in between)."""
    browser.get(f"{sandbox.base_url}/{query}")
    return browser.execute_script(SNAPSHOT)  # type: ignore[no-any-return]


SNAPSHOT = """
const top = (sel) => { const e = document.querySelector(sel);
  return e ? e.getBoundingClientRect().top + window.scrollY : null; };
const cells = (id) => [...document.querySelectorAll(`#${id} tr td:first-child`)]
  .map((td) => td.textContent);
const heading = (id) => document.getElementById(`${id}-title`).textContent;
return {
  title: document.title, url: location.href, images: document.images.length,
  scripts: document.scripts.length, html: document.documentElement.outerHTML,
  viewport: [window.innerWidth, window.innerHeight],
  pageWidth: document.documentElement.scrollWidth,
  tops: {chart: top('svg.chart'), requests: top('#requests'), names: top('#event-names'),
         events: top('#events'), profiles: top('#profiles')},
  profiles: cells('profiles'), profilesHeading: heading('profiles'),
  eventsHeading: heading('events'), requestRows: cells('requests').length,
  brokenHeaders: [...document.querySelectorAll('th')].filter((th) => {
    const range = document.createRange(); range.selectNodeContents(th);
    return range.getClientRects().length !== 1; }).map((th) => th.textContent),
  times: [...document.querySelectorAll('#events time')].map((t) =>
    ({text: t.textContent, title: t.title, datetime: t.dateTime})),
};
"""

WRAPPING = """
const row = [...document.querySelectorAll('#events tr')]
  .find((tr) => tr.cells[1] && tr.cells[1].textContent === 'Wide');
const code = row.cells[2].querySelector('code.json');
const lineHeight = parseFloat(getComputedStyle(code).lineHeight) || 16;
const split = [...code.querySelectorAll('span')]
  .filter((s) => s.getClientRects().length !== 1).map((s) => s.textContent);
const lines = new Set([...code.querySelectorAll('span')]
  .map((s) => Math.round(s.getClientRects()[0].top)));
return {lines: lines.size, split, height: code.getBoundingClientRect().height, lineHeight,
        cell: row.cells[2].clientWidth,
        overflow: row.cells[2].scrollWidth - row.cells[2].clientWidth,
        tokens: code.querySelectorAll('span').length};
"""


def test_a_screenshot_at_a_fixed_size(browser: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    seen = _load(browser, sandbox)
    assert seen["viewport"] == [WIDTH, HEIGHT]
    shot = tmp_path / "live-view.png"
    assert browser.save_screenshot(str(shot))
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (WIDTH, HEIGHT)  # the IHDR's width and height
    assert len(png) > 20_000  # a page with a chart and tables, not a blank frame


def test_the_chart_and_the_request_log_are_on_the_first_screen(
    browser: Any, sandbox: Sandbox
) -> None:
    seen = _load(browser, sandbox)
    tops = seen["tops"]
    assert tops["chart"] < tops["requests"] < HEIGHT / 2, tops
    assert tops["requests"] < tops["names"] < tops["events"] < tops["profiles"], tops
    assert seen["requestRows"] == 3
    assert seen["brokenHeaders"] == []  # every column header on one line
    assert seen["pageWidth"] <= WIDTH  # nothing wider than the window, long JSON included


def test_profiles_page_in_natural_order_with_counts(browser: Any, sandbox: Sandbox) -> None:
    seen = _load(browser, sandbox)
    assert seen["profilesHeading"] == "Profiles: 2,500, showing 1-100 (by distinct id)"
    assert seen["profiles"] == [f"user-{n}" for n in range(1, 101)]

    browser.find_element("css selector", 'nav[data-table="profiles"] a[rel="next"]').click()
    seen = browser.execute_script(SNAPSHOT)
    assert seen["url"].endswith("/?profiles_page=2")
    assert seen["profilesHeading"] == "Profiles: 2,500, showing 101-200 (by distinct id)"
    assert seen["profiles"] == [f"user-{n}" for n in range(101, 201)]

    seen = _load(browser, sandbox, "?profiles_page=25&size=100")
    assert seen["profiles"][-1] == "user-2500" and len(seen["profiles"]) == 100
    seen = _load(browser, sandbox, "?size=100000")
    assert seen["profilesHeading"] == "Profiles: 2,500, showing 1-500 (by distinct id)"
    assert seen["eventsHeading"] == "Events: 4, showing 1-4 (newest first)"


def test_times_are_iso_utc_with_their_own_unit(browser: Any, sandbox: Sandbox) -> None:
    times = {t["title"]: t for t in _load(browser, sandbox)["times"]}
    millis = times[f"{NOW_S * 1000 + 123} (epoch ms)"]
    seconds = times[f"{NOW_S - 60} (epoch s)"]
    iso = dt.datetime.fromtimestamp(NOW_S, dt.UTC).isoformat(timespec="milliseconds")
    assert millis["text"] == iso.replace(".000+00:00", ".123Z")
    iso = dt.datetime.fromtimestamp(NOW_S - 60, dt.UTC).isoformat(timespec="seconds")
    assert seconds["text"] == iso.replace("+00:00", "Z")
    assert all(t["datetime"] == t["text"] for t in times.values())
    assert all(re.fullmatch(r"\d+ \(epoch m?s\)", title) for title in times)


def test_json_wraps_between_tokens_only(browser: Any, sandbox: Sandbox) -> None:
    _load(browser, sandbox)
    found = browser.execute_script(WRAPPING)
    assert found["tokens"] == 2 * (len(LONG) + 2)  # key and value of each property
    assert found["lines"] >= 4 and found["height"] >= 4 * found["lineHeight"] * 0.9, found
    assert found["split"] == [], found  # no token is broken across two lines
    assert found["overflow"] <= 0, found


def test_nothing_hostile_runs_and_no_secret_is_shown(browser: Any, sandbox: Sandbox) -> None:
    seen = _load(browser, sandbox)
    assert seen["title"] == "Mixpanel sandbox"
    assert seen["images"] == 0 and seen["scripts"] == 0
    assert HOSTILE in browser.find_element("id", "events").text  # shown as text
    basic = base64.b64encode(f"{sandbox.username}:{sandbox.password}".encode()).decode()
    for secret in (sandbox.password, sandbox.project_token, sandbox.project_secret, basic):
        assert secret not in seen["html"]
