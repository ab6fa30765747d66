"""The second pass that finds where a JSON array file stops being valid."""

from __future__ import annotations

import io

import pytest

from connector.files.json_position import error_position


@pytest.mark.parametrize(
    ("data", "index", "expected"),
    [
        pytest.param(b"[1, 2, x]", 2, (1, 8), id="bad-value"),
        pytest.param(b'[{"a": "],{\\"["},\n  {"b": tru}]', 1, (2, 9), id="strings-hide-brackets"),
        pytest.param(b'[{"a": 1}\n {"b": 2}]', 0, (2, 2), id="missing-comma-after-the-item"),
        pytest.param(b'[\n\n  {"a": [1, 2,\n  ', 0, (4, 3), id="cut-inside-the-item"),
        pytest.param(b"[1, 2]", 5, None, id="no-such-item"),
    ],
)
def test_error_position(data: bytes, index: int, expected: tuple[int, int] | None) -> None:
    assert error_position(io.BytesIO(data), index) == expected
