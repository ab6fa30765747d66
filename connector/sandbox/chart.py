"""Requests per second by status class over the last minute, as an inline SVG (no assets)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

SECONDS = 60
WIDTH, HEIGHT, TOP = 600, 110, 14
CLASSES = (  # (label, colour): first digit of the status; 0 is a dropped connection
    ("2xx", "#2e9e4f"),
    ("3xx", "#4a7bd0"),
    ("4xx", "#d08a1a"),
    ("5xx", "#c0392b"),
    ("reset", "#6b1020"),
)
_INDEX = {"2": 0, "3": 1, "4": 2, "5": 3}


def per_second(requests: Iterable[Mapping[str, Any]], now_ms: int) -> list[list[int]]:
    """Counts per class for each of the last SECONDS seconds, oldest first."""
    end = now_ms // 1000
    counts = [[0] * len(CLASSES) for _ in range(SECONDS)]
    for request in requests:
        slot = SECONDS - 1 - (end - int(request["started"]) // 1000)
        if 0 <= slot < SECONDS:
            counts[slot][_INDEX.get(str(request["status"])[0], len(CLASSES) - 1)] += 1
    return counts


def render(requests: Iterable[Mapping[str, Any]], now_ms: int) -> str:
    """The chart; each bar's tooltip gives the second (UTC) and its counts."""
    counts = per_second(requests, now_ms)
    peak = max((sum(c) for c in counts), default=0) or 1
    bar = WIDTH / SECONDS
    scale = (HEIGHT - TOP) / peak
    end = now_ms // 1000
    parts = []
    for slot, classes in enumerate(counts):
        if not sum(classes):
            continue
        second = dt.datetime.fromtimestamp(end - SECONDS + 1 + slot, dt.UTC)
        tip = ", ".join(f"{n} {CLASSES[i][0]}" for i, n in enumerate(classes) if n)
        y = float(HEIGHT)
        rects = []
        for i, n in enumerate(classes):
            if n:
                h = n * scale
                y -= h
                rects.append(
                    f'<rect x="{slot * bar + 1:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                    f'height="{h:.1f}" fill="{CLASSES[i][1]}"/>'
                )
        title = f"{second:%H:%M:%S} UTC: {tip}"
        parts.append(f"<g><title>{escape(title)}</title>{''.join(rects)}</g>")
    legend = " ".join(
        f'<span style="color:{colour}">&#9632;</span> {label}' for label, colour in CLASSES
    )
    return (
        f'<svg class="chart" width="{WIDTH}" height="{HEIGHT + 16}" role="img" '
        f'aria-label="requests per second by status, last {SECONDS} s">'
        f'<line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#bbb"/>'
        f'<text x="0" y="10" font-size="10" fill="#666">{peak}/s</text>'
        f'<text x="0" y="{HEIGHT + 12}" font-size="10" fill="#666">{SECONDS} s ago</text>'
        f'<text x="{WIDTH}" y="{HEIGHT + 12}" font-size="10" fill="#666" '
        f'text-anchor="end">now</text>{"".join(parts)}</svg>'
        f'<p class="note">{legend}</p>'
    )
