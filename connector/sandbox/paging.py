"""Paging on the live view: which rows of a long table are shown, and links to the others.

The query string says which page of each table to show (`?profiles_page=3&events_page=2`) and
how many rows a page holds (`size`, at most MAX_SIZE); a page past the end shows the last one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl, urlencode

MAX_SIZE = 500
DEFAULT_SIZES = {"events": 50, "profiles": 100}


class PagingError(ValueError):
    """A paging parameter that is not a whole number (the page answers 400)."""


@dataclass(frozen=True)
class Window:
    """One page of a table: its number (from 1), its size, and how many rows there are."""

    table: str
    page: int
    size: int
    total: int

    @property
    def start(self) -> int:
        """The offset of the page's first row."""
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        """How many pages the table has (at least 1)."""
        return max(1, -(-self.total // self.size))

    def heading(self, title: str) -> str:
        """`Profiles: 2,500, showing 1-100` (escaped text)."""
        if not self.total:
            return f"{escape(title)}: 0"
        last = min(self.start + self.size, self.total)
        return f"{escape(title)}: {self.total:,}, showing {self.start + 1:,}-{last:,}"


def _number(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise PagingError(f"{name} must be a whole number, not {text[:20]!r}")
    return max(1, int(text))


def windows(query: str, totals: Mapping[str, int]) -> dict[str, Window]:
    """The page of each table in `totals` that `query` asks for (see the module docstring)."""
    params = dict(parse_qsl(query))
    sized = "size" in params and params["size"].strip()
    size = min(_number(params, "size", 1), MAX_SIZE) if sized else 0
    found = {}
    for table, total in totals.items():
        rows = size or DEFAULT_SIZES.get(table, 100)
        page = _number(params, f"{table}_page", 1)
        pages = max(1, -(-total // rows))
        found[table] = Window(table, min(page, pages), rows, total)
    return found


def _link(shown: Mapping[str, Window], table: str, page: int, text: str, rel: str) -> str:
    params = {f"{name}_page": w.page for name, w in shown.items() if w.page > 1}
    params[f"{table}_page"] = page
    if any(w.size != DEFAULT_SIZES.get(name, 100) for name, w in shown.items()):
        params["size"] = shown[table].size
    href = "?" + urlencode({k: v for k, v in params.items() if k == "size" or v > 1})
    return f'<a rel="{rel}" href="{escape(href if href != "?" else "?")}">{text}</a>'


def nav(shown: Mapping[str, Window], table: str) -> str:
    """Links to the first, previous, next and last page of `table`, keeping the others' pages."""
    window = shown[table]
    if window.pages == 1:
        return ""
    links = []
    if window.page > 1:
        links.append(_link(shown, table, 1, "&laquo; first", "first"))
        links.append(_link(shown, table, window.page - 1, "&lsaquo; previous", "prev"))
    links.append(f"<span>page {window.page:,} of {window.pages:,}</span>")
    if window.page < window.pages:
        links.append(_link(shown, table, window.page + 1, "next &rsaquo;", "next"))
        links.append(_link(shown, table, window.pages, "last &raquo;", "last"))
    return f'<nav class="pager" data-table="{escape(table)}">{" ".join(links)}</nav>'
