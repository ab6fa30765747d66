"""The requests-per-second chart counts each second's answers by status class."""

from __future__ import annotations

import re

from connector.sandbox import chart

NOW = 1_764_878_400_500  # 2025-12-04 20:00:00.500 UTC


def _request(ago_ms: int, status: int) -> dict[str, int]:
    return {"started": NOW - ago_ms, "status": status}


def test_counts_fall_into_their_second_and_class() -> None:
    log = [
        _request(0, 200),
        _request(400, 200),
        _request(450, 401),
        _request(600, 503),  # the second before
        _request(1_600, 0),
        _request(61_000, 200),  # older than the chart
    ]
    counts = chart.per_second(log, NOW)
    assert len(counts) == chart.SECONDS
    assert counts[-1] == [2, 0, 1, 0, 0]
    assert counts[-2] == [0, 0, 0, 1, 0]
    assert counts[-3] == [0, 0, 0, 0, 1]
    assert sum(map(sum, counts)) == 5


def test_the_svg_is_inline_with_a_tooltip_per_bar() -> None:
    svg = chart.render([_request(0, 200), _request(10, 200), _request(20, 429)], NOW)
    assert svg.startswith("<svg ") and "xlink" not in svg and "href" not in svg
    assert re.findall(r"<title>([^<]*)</title>", svg) == ["20:00:00 UTC: 2 2xx, 1 4xx"]
    assert svg.count("<rect ") == 2
    assert "3/s" in svg  # the scale
    empty = chart.render([], NOW)
    assert "<rect " not in empty and "<title>" not in empty
