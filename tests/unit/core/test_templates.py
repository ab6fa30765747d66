"""Unit tests for connector.templates: the sandbox, typed single expressions and filters."""

from __future__ import annotations

import pytest

from connector.core.templates import render_url, render_value, undeclared_names
from connector.errors import RenderError


def test_single_expression_keeps_native_type() -> None:
    ctx = {"n": 5, "items": [1, {"x": True}]}
    assert render_value("{{ n }}", ctx, action="t", field="f") == 5
    assert render_value("{{ items }}", ctx, action="t", field="f") == [1, {"x": True}]
    assert render_value("n={{ n }}", ctx, action="t", field="f") == "n=5"


def test_inputs_are_data_never_templates() -> None:
    probe = "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}"
    assert render_value("{{ a }}", {"a": probe}, action="t", field="f") == probe
    assert render_value("pre {{ a }}", {"a": probe}, action="t", field="f") == f"pre {probe}"


def test_undefined_names_fail_loudly() -> None:
    with pytest.raises(RenderError, match="undefined"):
        render_value("{{ missing }}", {}, action="t", field="request.query.x")
    with pytest.raises(RenderError):
        render_value("x {{ missing }}", {}, action="t", field="f")


def test_sandbox_blocks_attribute_escape() -> None:
    with pytest.raises(RenderError):
        render_value("{{ ''.__class__.__mro__ }}", {}, action="t", field="f")


def test_empty_mapping_entries_are_dropped() -> None:
    tree = {"keep": "{{ a }}", "none": "{{ b }}", "empty": "", "nested": {"z": "{{ b }}"}}
    assert render_value(tree, {"a": 0, "b": None}, action="t", field="f") == {
        "keep": 0,
        "nested": {},
    }


def test_url_values_are_percent_encoded() -> None:
    url = render_url("https://x.mixpanel.com/p/{{ a }}", {"a": "../evil?x=1#f"}, action="t")
    assert url == "https://x.mixpanel.com/p/..%2Fevil%3Fx%3D1%23f"


def test_join_url_filter_joins_trusted_base_and_path() -> None:
    ctx = {"a": "https://api.mixpanel.com/", "b": "/import"}
    assert render_url("{{ a | join_url(b) }}", ctx, action="t") == "https://api.mixpanel.com/import"


def test_fingerprint_filter_is_short_stable_and_hides_the_value() -> None:
    def fingerprint(value: object) -> object:
        return render_value("{{ v | fingerprint }}", {"v": value}, action="t", field="f")

    secret = "725a93138a7d12e00f16912848590ae7"
    assert fingerprint(secret) == fingerprint(secret)
    assert fingerprint(secret) != fingerprint(secret[:-1] + "8")
    assert fingerprint(secret).startswith("sha256:") and len(fingerprint(secret)) == 19
    assert secret not in fingerprint(secret) and secret[:12] not in fingerprint(secret)
    assert fingerprint(None) is None and fingerprint("") is None


def test_json_filter_keeps_empty_values_empty() -> None:
    assert render_value("{{ a | json }}", {"a": ["x", "y"]}, action="t", field="f") == '["x","y"]'
    assert render_value("{{ a | json }}", {"a": None}, action="t", field="f") is None


def test_undeclared_names_found_statically() -> None:
    assert undeclared_names("{{ a }} {% for i in b %}{{ i }}{% endfor %}") == {"a", "b"}


def test_fill_missing_sets_nested_values_only_where_absent() -> None:
    items = [{"properties": {"token": "own"}}, {"properties": {}}, {"event": "x"}, "not a mapping"]
    ctx = {"items": items, "t": "conn"}
    filled = render_value(
        "{{ items | fill_missing('properties.token', t) }}", ctx, action="t", field="f"
    )
    assert filled == [
        {"properties": {"token": "own"}},
        {"properties": {"token": "conn"}},
        {"event": "x", "properties": {"token": "conn"}},
        "not a mapping",
    ]
    assert items[1] == {"properties": {}}, "the input is not changed in place"
    same = render_value("{{ items | fill_missing('$token', none) }}", ctx, action="t", field="f")
    assert same == items


def test_merge_filter() -> None:
    ctx = {"a": {"x": 1, "name": "old"}, "n": "new"}
    assert render_value("{{ a | merge({'name': n}) }}", ctx, action="t", field="f") == {
        "x": 1,
        "name": "new",
    }
    assert render_value("{{ none | merge({'name': n}) }}", ctx, action="t", field="f") == {
        "name": "new"
    }
