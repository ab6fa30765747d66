"""iter over the sandbox's raw export: every stored event once, Mixpanel-stored duplicates twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from connector import Component
from connector.sandbox import Sandbox


def test_iter_exports_every_stored_event_across_days(
    sandbox: Sandbox, component: Component
) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    events = [
        {
            "event": "Purchase",
            "properties": {
                "distinct_id": f"u{n % 7}",
                "time": int((now - dt.timedelta(days=n % 3)).timestamp()) - n,
                "$insert_id": f"id-{n:05d}",
                "cart": {"items": [n, {"sku": f"S{n}"}], "coupon": None},
            },
        }
        for n in range(60)
    ]
    connection = sandbox.connection
    component.run("importEvents", {"events": events, "project_id": sandbox.project_id}, connection)
    component.run(  # the same five events again: Mixpanel stores them twice
        "importEvents", {"events": events[:5], "project_id": sandbox.project_id}, connection
    )
    assert sandbox.store.raw_event_count() == 65
    inputs = {
        "project_id": sandbox.project_id,
        "from_date": (now - dt.timedelta(days=3)).date().isoformat(),  # n seconds may cross
        "to_date": now.date().isoformat(),
    }
    stream = component.iter("downloadData", inputs, connection)
    exported = list(stream)
    assert stream.stats.days == 4
    assert len(exported) == 65
    by_id = Counter(e["properties"]["$insert_id"] for e in exported)
    assert by_id == Counter({f"id-{n:05d}": 2 if n < 5 else 1 for n in range(60)})
    first = next(e for e in exported if e["properties"]["$insert_id"] == "id-00001")
    assert first["properties"]["cart"] == {"items": [1, {"sku": "S1"}], "coupon": None}
