"""Unit tests for connector.render: request encoding from rendered templates."""

from __future__ import annotations

from typing import Any

import pytest

from connector import InputError
from connector.catalog.spec import InputSpec, OperationSpec
from connector.prepare.render import encode_pairs, render_request


def _op(request: dict[str, Any], inputs: tuple[str, ...] = ("a", "b")) -> OperationSpec:
    return OperationSpec(
        key="op",
        kind="action",
        label="Op",
        description="",
        inputs=tuple(InputSpec(key=k, label=k.upper(), type="string") for k in inputs),
        request=request,
        sample={"data": None},
    )


def test_encode_pairs_repeats_lists_and_encodes_booleans() -> None:
    assert encode_pairs({"e": ["A", "B"], "t": True, "o": {"id": 1}, "n": None}) == [
        ("e", "A"),
        ("e", "B"),
        ("t", "true"),
        ("o", '{"id":1}'),
    ]


def test_render_request_form_body_and_query() -> None:
    op = _op(
        {
            "method": "post",
            "url": "https://api.mixpanel.com/track",
            "auth": "none",
            "query": {"verbose": "{{ 1 if a else none }}"},
            "body": {"format": "form", "content": {"data": {"event": "e", "p": "{{ b }}"}}},
        }
    )
    request = render_request(op, {"a": "yes", "b": "v"}, {})
    assert request.method == "POST"
    assert request.full_url == "https://api.mixpanel.com/track?verbose=1"
    assert request.content == b"data=%7B%22event%22%3A%22e%22%2C%22p%22%3A%22v%22%7D"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_render_request_rebases_to_base_url_keeping_path() -> None:
    op = _op(
        {"method": "GET", "url": "https://data-eu.mixpanel.com/api/2.0/export", "auth": "none"}
    )
    request = render_request(
        op, {"a": None, "b": None}, {}, base_url="http://127.0.0.1:8080", rebase_hosts=("*.x",)
    )
    assert request.url == "https://data-eu.mixpanel.com/api/2.0/export"
    request = render_request(
        op,
        {"a": None, "b": None},
        {},
        base_url="http://127.0.0.1:8080",
        rebase_hosts=("mixpanel.com", "*.mixpanel.com"),
    )
    assert request.url == "http://127.0.0.1:8080/api/2.0/export"


def test_render_request_gzip_and_ndjson() -> None:
    import gzip

    op = _op(
        {
            "method": "POST",
            "url": "https://api.mixpanel.com/import",
            "auth": "none",
            "body": {"format": "ndjson", "content": "{{ a }}", "gzip": "{{ b }}"},
        }
    )
    request = render_request(op, {"a": [{"x": 1}, {"y": 2}], "b": True}, {})
    assert request.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(request.content or b"") == b'{"x":1}\n{"y":2}\n'


def _path_op(method: str = "PUT") -> OperationSpec:
    return _op(
        {
            "method": method,
            "url": "https://api.mixpanel.com/lookup-tables/{{ a }}",
            "auth": "none",
            "body": {"format": "json", "content": {"name": "{{ b }}"}},
        }
    )


def test_path_parameter_is_one_percent_encoded_segment() -> None:
    request = render_request(_path_op(), {"a": "x/../y?z=1#f", "b": "{{ 7*7 }}"}, {})
    assert request.method == "PUT"
    assert request.url == "https://api.mixpanel.com/lookup-tables/x%2F..%2Fy%3Fz%3D1%23f"
    assert request.params == ()
    assert request.content == b'{"name":"{{ 7*7 }}"}'


def test_path_parameter_keeps_braces_literal() -> None:
    request = render_request(_path_op("PATCH"), {"a": "{{ 7*7 }}", "b": "n"}, {})
    assert request.url == "https://api.mixpanel.com/lookup-tables/%7B%7B%207%2A7%20%7D%7D"
    assert request.method == "PATCH"


@pytest.mark.parametrize("segment", ["..", ".", " .. "])
def test_dot_segment_path_parameter_is_refused_naming_the_input(segment: str) -> None:
    with pytest.raises(InputError) as caught:
        render_request(_path_op("DELETE"), {"a": segment, "b": "n"}, {})
    assert caught.value.errors[0].key == "a"
    assert "A (`a`): the URL would get the path segment" in str(caught.value)


def test_gzip_bytes_are_stdlib_gzip_and_the_same_each_time() -> None:
    import gzip

    from isal import igzip

    from connector.prepare.render import gzip_bytes, gzip_compress

    body = b'[{"event":"e","properties":{"time":1,"distinct_id":"d"}}]' * 500
    assert gzip_compress() is igzip.compress  # a dependency: the fast compressor is the default
    packed = gzip_bytes(body)
    assert gzip.decompress(packed) == body
    assert packed == gzip_bytes(body)  # mtime 0: the same body, the same bytes
    assert packed[4:8] == b"\0\0\0\0"
    assert len(packed) < len(body) // 10


def test_gzip_bytes_fall_back_to_zlib_without_isal(monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import sys

    from connector.prepare.render import gzip_bytes, gzip_compress

    body = b'{"event":"e","properties":{"time":1}}\n' * 300
    monkeypatch.setitem(sys.modules, "isal", None)  # `import isal` raises ImportError
    gzip_compress.cache_clear()
    try:
        assert gzip_compress() is gzip.compress
        assert gzip.decompress(gzip_bytes(body)) == body
        assert gzip_bytes(body) == gzip.compress(body, compresslevel=1, mtime=0)
    finally:
        gzip_compress.cache_clear()
