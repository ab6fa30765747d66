from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
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


@pytest.mark.parametrize("size", [1001, 5000, 300_000])
def test_a_line_longer_than_its_ceiling_is_refused_whether_it_ends_or_not(size: int) -> None:
    long_line = b'{"x": "' + b"x" * size + b'"}'
    for body in (long_line + b"\n", long_line, b'{"a": 1}\n' + long_line[:size]):
        stream = FakeStream(
            *[body[i : i + 997] for i in range(0, len(body), 997)], reads={"max_line_bytes": 1000}
        )
        with pytest.raises(
            ClientError, match=r"longer than 1000 bytes \(response.reads.max_line_bytes\)"
        ):
            list(read_records(stream, (), " on D"))  # type: ignore[arg-type]


def test_a_line_in_a_million_one_byte_pieces_is_assembled_once() -> None:
    """Joining each piece to what is pending would copy ~5e11 bytes; assembling once copies 1e6."""
    line = b'{"x": "' + b"y" * 1_000_000 + b'"}\n'
    pieces = [line[i : i + 1] for i in range(len(line))]
    assert _read(*pieces) == [{"x": "y" * 1_000_000}]


@pytest.mark.parametrize("depth", [101, 2_000, 200_000])
def test_a_line_nested_too_deep_is_refused_with_its_path(depth: int) -> None:
    line = b'{"event": "e", "properties": {"x": ' + b"[" * depth + b"]" * depth + b"}}\n"
    with pytest.raises(ClientError) as caught:
        _read(b'{"a": 1}\n', line)
    assert "line 2 of the answer on D nests objects and arrays deeper than 100 levels" in str(
        caught.value
    )
    assert "at properties.x[0][0]" in str(caught.value) and "response.reads.max_depth" in str(
        caught.value
    )


def test_lines_at_the_depth_limit_are_records() -> None:
    line = b'{"p": ' + b"[" * 99 + b"]" * 99 + b"}\n"
    assert len(_read(line, line)) == 2


def test_brackets_inside_strings_count_against_a_chunk_but_never_refuse_its_lines() -> None:
    """Opening brackets bound a line's depth from above; strings full of them are data."""
    noisy = b'{"s": "' + b"[{" * 150 + b'", "p": ' + b"[" * 99 + b"]" * 99 + b"}\n"
    plain = b'{"a": [1, {"b": 2}]}\n'
    body = plain + noisy + plain
    expected = [{"a": [1, {"b": 2}]}, orjson.loads(noisy), {"a": [1, {"b": 2}]}]
    assert _read(body) == expected
    for size in (7, 64, 150, 299):  # the noisy line across chunks, its brackets carried over
        assert _read(*[body[i : i + size] for i in range(0, len(body), size)]) == expected


@pytest.mark.parametrize("size", [7, 40, 90, 300, 100_000])
def test_a_deep_line_in_pieces_of_few_brackets_each_is_refused_with_its_path(size: int) -> None:
    """Each piece opens fewer brackets than the limit: the pending ones must still count."""
    deep = b'{"properties": {"x": ' + b"[" * 101 + b"]" * 101 + b"}}\n"
    body = b'{"a": 1}\n' * 3 + deep + b'{"a": 1}\n' * 3
    with pytest.raises(ClientError) as caught:
        _read(*[body[i : i + size] for i in range(0, len(body), size)])
    assert "line 4 of the answer on D nests objects and arrays deeper than 100 levels" in str(
        caught.value
    )
    assert "at properties.x[0][0]" in str(caught.value)


def test_a_deep_line_among_lines_that_parse_is_refused_before_any_later_record() -> None:
    deep = b'{"x": ' + b"{" * 60 + b'"k": ' + b"[" * 50 + b"]" * 50 + b"}" * 60 + b"}\n"
    pieces = read_records(FakeStream(b'{"a": 1}\n' + deep + b'{"b": 2}\n'), (), " on D")  # type: ignore[arg-type]
    assert next(pieces) == {"a": 1}
    with pytest.raises(ClientError, match="line 2 of the answer on D nests"):
        next(pieces)
