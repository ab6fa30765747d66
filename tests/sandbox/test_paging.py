"""Paging of the live view's tables: bounded sizes, clamped pages, links that keep the others."""

from __future__ import annotations

import pytest

from connector.sandbox import paging


def test_defaults_and_headings() -> None:
    shown = paging.windows("", {"events": 120, "profiles": 0})
    assert (shown["events"].page, shown["events"].size, shown["events"].start) == (1, 50, 0)
    assert shown["events"].heading("Events") == "Events: 120, showing 1-50"
    assert shown["profiles"].heading("Profiles") == "Profiles: 0"
    assert paging.nav(shown, "profiles") == ""


def test_pages_are_clamped_and_sizes_bounded() -> None:
    shown = paging.windows("profiles_page=9&size=1000", {"profiles": 2500, "events": 1})
    assert (shown["profiles"].page, shown["profiles"].size) == (5, paging.MAX_SIZE)
    assert shown["profiles"].heading("P") == "P: 2,500, showing 2,001-2,500"
    assert paging.windows("size=0", {"events": 3})["events"].size == 1


@pytest.mark.parametrize("query", ["size=ten", "events_page=-1", "profiles_page=1.5"])
def test_a_parameter_that_is_not_a_whole_number_is_refused(query: str) -> None:
    with pytest.raises(paging.PagingError, match="must be a whole number"):
        paging.windows(query, {"events": 10, "profiles": 10})


def test_links_keep_the_other_tables_page_and_the_size() -> None:
    shown = paging.windows("events_page=2&profiles_page=3&size=10", {"events": 40, "profiles": 40})
    html = paging.nav(shown, "profiles")
    assert 'rel="prev" href="?events_page=2&amp;profiles_page=2&amp;size=10"' in html
    assert 'rel="next" href="?events_page=2&amp;profiles_page=4&amp;size=10"' in html
    assert 'rel="first" href="?events_page=2&amp;size=10"' in html
    assert "page 3 of 4" in html
