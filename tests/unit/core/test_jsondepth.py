"""JSON nesting bounded before parsing: whole texts, streams in pieces, and where it is too deep."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import ConnectorError, JSONTooDeep
from connector.core.jsondepth import DepthGuard, check_depth, loads_bounded


def _nested(depth: int, kind: str = "[") -> str:
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"k":' * depth + "1" + "}" * depth


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@pytest.mark.parametrize("kind", ["[", "{"])
@pytest.mark.parametrize(("depth", "limit"), [(1, 1), (7, 7), (8, 7), (100, 100), (101, 100)])
def test_the_limit_is_exact(kind: str, depth: int, limit: int) -> None:
    text = _nested(depth, kind)
    if depth <= limit:
        check_depth(text, limit)
    else:
        with pytest.raises(JSONTooDeep, match=f"deeper than {limit} levels"):
            check_depth(text, limit)


@pytest.mark.parametrize("depth", [1_000, 100_000, 3_000_000])
def test_very_deep_text_is_a_connector_error_never_a_recursion_error(depth: int) -> None:
    with pytest.raises(JSONTooDeep) as caught:
        loads_bounded(_nested(depth), where="the answer")
    assert isinstance(caught.value, ConnectorError) and isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("the answer nests objects and arrays deeper than 100")


def test_the_error_points_at_the_first_value_too_deep() -> None:
    text = '{"a": [1, {"b\\"[": "]]]", "c": ' + _nested(5) + "}]}"
    with pytest.raises(JSONTooDeep) as caught:
        check_depth(text, 5)
    assert caught.value.path == "a[1].c[0][0]"
    assert caught.value.limit == 5


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": "[" * 500 + '\\"{' * 300, "t": ["]" * 9]})
    check_depth(text, 2)


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ax,:', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(
    value=json_values, cuts=st.lists(st.integers(min_value=0), max_size=6), limit=st.integers(1, 8)
)
def test_a_stream_in_any_pieces_is_judged_as_the_whole_text(
    value: Any, cuts: list[int], limit: int
) -> None:
    data = json.dumps(value).encode()
    guard = DepthGuard(limit)
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    too_deep = any([guard.feed(piece) for piece in pieces])
    assert too_deep == (_depth(value) > limit)
    whole_too_deep = False
    try:
        check_depth(data, limit)
    except JSONTooDeep:
        whole_too_deep = True
    assert whole_too_deep == (_depth(value) > limit)
