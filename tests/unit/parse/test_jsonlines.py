from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connector import ClientError, HTTPRequest, TransportError
from connector.parse.jsonlines import raise_on_cut_marker, read_records
from connector.send.body import ReadLimits
from connector.send.response import RawResponse


class FakeStream:
    """A StreamedResponse stand-in that hands out fixed chunks."""

    def __init__(self, *chunks: bytes, reads: dict[str, Any] | None = None) -> None:
        self.parts = chunks
        self.limits = ReadLimits.of({"reads": reads or {}})
        self.request = HTTPRequest(action="downloadData", method="GET", url="http://x/")

    def chunks(self) -> Iterator[bytes]:
        yield from self.parts


def _read(*chunks: bytes) -> list[Any]:
    return list(read_records(FakeStream(*chunks), (b"terminated early",), " on D"))  # type: ignore[arg-type]


def test_lines_split_across_chunks_are_joined_and_blank_lines_skipped() -> None:
    assert _read(b'{"a": 1}\n{"b"', b': [1, {"c": null}]}\n\n', b'\r\n{"d": 2.5}') == [
        {"a": 1},
        {"b": [1, {"c": None}]},
        {"d": 2.5},
    ]


def test_a_marker_line_or_a_torn_last_line_is_a_cut() -> None:
    with pytest.raises(TransportError, match="stopped the answer on D early"):
        _read(b'{"a": 1}\nterminated early\n')
    with pytest.raises(TransportError, match="ended inside line 2"):
        _read(b'{"a": 1}\n{"b": ')


def test_a_whole_line_that_is_not_json_is_bad_data() -> None:
    with pytest.raises(ClientError, match="line 1 of the answer on D is not JSON"):
        _read(b"<html>\n{}\n")


def test_run_answers_ending_in_a_marker_are_cuts_but_markers_inside_events_are_data(
    component: Any,
) -> None:
    op = component.spec.actions["downloadData"]
    request = HTTPRequest(action="downloadData", method="GET", url="http://x/")
    cut = RawResponse(status=200, content=b'{"a": 1}\nterminated early\n')
    with pytest.raises(TransportError):
        raise_on_cut_marker(op, request, cut)
    inside = RawResponse(status=200, content=b'{"note": "terminated early"}\n')
    raise_on_cut_marker(op, request, inside)  # an event mentioning the words is data
    raise_on_cut_marker(op, request, RawResponse(status=500, content=b"terminated early"))
