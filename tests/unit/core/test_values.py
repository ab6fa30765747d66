"""One true/false parser, one whole-number parser, one "empty", one "did you mean"."""

from __future__ import annotations

from typing import Any

import pytest

from connector.core.templates import as_bool
from connector.core.values import closest, is_empty, is_missing, parse_bool, parse_int


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        (True, True),
        ("yes", True),
        (" ON ", True),
        (1, True),
        ("0", False),
        ("off", False),
        (False, False),
        (0, False),
        (None, None),
        ("", None),
    ],
)
def test_parse_bool_reads_every_form_of_true_and_false(value: Any, flag: bool | None) -> None:
    assert parse_bool(value) is flag


@pytest.mark.parametrize("bad", ["maybe", "2", 2, 0.5, [True]])
def test_bad_text_is_an_error_for_inputs_flags_and_retry_settings_alike(bad: Any) -> None:
    with pytest.raises(ValueError, match="expected true or false"):
        parse_bool(bad)
    if isinstance(bad, str):  # a rendered flag says the same, instead of reading it as false
        with pytest.raises(ValueError, match="expected true or false"):
            as_bool(bad)


def test_as_bool_reads_expression_results_by_truthiness() -> None:
    assert as_bool([1]) is True and as_bool({}) is False and as_bool(None) is False
    assert as_bool("false") is False and as_bool("1") is True


@pytest.mark.parametrize(
    ("value", "number"),
    [(7, 7), ("7", 7), (" 12 ", 12), (7.0, 7), ("7.0", 7), ("1e3", 1000), (None, None), ("", None)],
)
def test_parse_int_reads_whole_numbers(value: Any, number: int | None) -> None:
    assert parse_int(value) == number


@pytest.mark.parametrize("bad", ["many", "7.5", 7.5, True, [7], "nan"])
def test_parse_int_refuses_anything_else(bad: Any) -> None:
    with pytest.raises(ValueError, match="expected a whole number"):
        parse_int(bad)


def test_missing_and_empty() -> None:
    assert [is_missing(v) for v in (None, "", " ", [], 0, False)] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [is_empty(v) for v in (None, "", " ", [], {}, 0, False, [None])] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_closest_suggests_near_misses_best_first() -> None:
    options = ["createAlias", "createIdentity", "createProfile"]
    assert closest("createAlais", options) == ["createAlias"]
    assert closest("nothing-like", options, n=3) == []
    assert closest("createProfle", options, n=3)[0] == "createProfile"
