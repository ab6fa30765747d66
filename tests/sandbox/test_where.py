"""Segmentation expressions as the sandbox evaluates them."""

from __future__ import annotations

import pytest

from connector.sandbox.where import WhereError, parse_where

PROPS = {"plan": "pro", "n": 5, "quote": 'say "hi"', "flag": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('properties["plan"] == "pro"', True),
        ("properties['plan'] != 'pro'", False),
        ('properties["n"] > 4 and properties["n"] < 6', True),
        ('properties["n"] >= 6 or properties["plan"] == "pro"', True),
        ('properties["n"] > 1 and properties["n"] > 9 or properties["flag"] == true', True),
        ('properties["n"] > 1 and (properties["n"] > 9 or properties["flag"] == false)', False),
        ('defined(properties["plan"])', True),
        ('defined(properties["missing"])', False),
        ('not defined(properties["missing"])', True),
        ('properties["missing"] > 1', False),
        ('properties["missing"] != "x"', True),
        ('properties["plan"] > 3', False),  # a string and a number: no match, no error
        ('properties["quote"] == "say \\"hi\\""', True),
        ('user["plan"] == "pro"', True),
    ],
)
def test_expressions(text: str, expected: bool) -> None:
    assert parse_where(text)(PROPS) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('properties["plan"] ==', "ends too early"),
        ('properties[plan] == "x"', "needs a quoted property name"),
        ('regex(properties["plan"])', "unsupported 'regex'"),
        ('properties["plan"] == "pro" )', "unexpected ')'"),
        ('properties["plan"] == "pro" @', "cannot read where expression at character 28: '@'"),
    ],
)
def test_errors_say_what_is_supported(text: str, message: str) -> None:
    with pytest.raises(WhereError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_where(text)


@pytest.mark.parametrize("count", [2, 1_000, 20_000])
def test_long_chains_of_or_and_not_evaluate_without_recursion(count: int) -> None:
    assert parse_where(" or ".join(['properties["n"] == 1'] * count + ["true"]))(PROPS) is True
    assert parse_where(" and ".join(['properties["n"] == 5'] * count + ["false"]))(PROPS) is False
    assert parse_where("not " * count + "true")(PROPS) is (count % 2 == 0)


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_parentheses_nested_too_deep_are_refused(depth: int) -> None:
    with pytest.raises(WhereError, match="deeper than 32 levels"):
        parse_where("(" * depth + "true" + ")" * depth)
    with pytest.raises(WhereError, match="deeper than 32 levels"):
        parse_where("defined(" * depth + 'properties["n"]' + ")" * depth)


def test_parentheses_at_the_limit_are_read() -> None:
    assert parse_where("(" * 32 + 'properties["n"] == 5' + ")" * 32)(PROPS) is True
