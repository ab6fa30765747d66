"""Declared limits: checked before sending, each message naming the input and the limit."""

from __future__ import annotations

from typing import Any

import pytest

from connector import InputError, load_component
from connector.catalog.spec import InputSpec, OperationSpec
from connector.prepare.limits import limit_problems
from tests.conftest import TEST_CONNECTION

COMPONENT = load_component()


def _op(*limits: dict[str, Any]) -> OperationSpec:
    inputs = (
        InputSpec(key="from_date", label="From Date", type="string"),
        InputSpec(key="to_date", label="To Date", type="string"),
        InputSpec(key="ids", label="IDs", type="list"),
        InputSpec(key="interval", label="Interval", type="integer"),
    )
    return OperationSpec(
        key="op",
        kind="action",
        label="Op",
        description="",
        inputs=inputs,
        request={},
        sample=None,
        limits=limits,
    )


def _messages(op: OperationSpec, **values: Any) -> list[str]:
    return [str(p) for p in limit_problems(op, values)]


def test_a_date_range_runs_forward_and_spans_at_most_max_days() -> None:
    op = _op({"input": "from_date", "to": "to_date", "max_days": 31, "source": "The Query API"})
    assert _messages(op, from_date="2024-01-01", to_date="2024-01-31") == []  # 31 days inclusive
    assert _messages(op, from_date="2024-01-01", to_date="2024-02-01") == [
        "From Date (`from_date`): the range to To Date (`to_date`) spans 32 days; The Query API "
        "accepts at most 31 days in one request. Shorten the range or split it."
    ]
    assert _messages(op, from_date="2024-01-02", to_date="2024-01-01") == [
        "From Date (`from_date`): 2024-01-02 is after To Date (`to_date`) 2024-01-01; the date "
        "range must run forward."
    ]
    assert _messages(op, from_date="2024-01-02", to_date=None) == []


def test_a_list_holds_at_most_max_items() -> None:
    op = _op({"input": "ids", "max_items": 3})
    assert _messages(op, ids=["a", "b", "c"]) == []
    assert _messages(op, ids=["a", "b", "c", "d"]) == [
        "IDs (`ids`): has 4 items; the API accepts at most 3 in one request. Split them over "
        "several runs."
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1, None),
        (36, None),
        (0, "Interval (`interval`): is 0; Mixpanel accepts 1 at least."),
        (37, "Interval (`interval`): is 37; Mixpanel accepts at most 36."),
    ],
)
def test_a_number_stays_within_min_and_max(value: int, message: str | None) -> None:
    op = _op({"input": "interval", "min": 1, "max": 36, "source": "Mixpanel"})
    assert _messages(op, interval=value) == ([message] if message else [])


def test_gdpr_distinct_ids_are_capped_at_2000_before_sending() -> None:
    ids = [f"user-{n}" for n in range(2001)]
    with pytest.raises(InputError) as caught:
        COMPONENT.prepare("createDataDeletion", {"distinct_ids": ids}, TEST_CONNECTION)
    assert str(caught.value) == (
        "Invalid input for createDataDeletion: Distinct IDs (`distinct_ids`): has 2,001 items; "
        "Mixpanel's GDPR API accepts at most 2,000 in one request. Split them over several runs."
    )
    request, _ = COMPONENT.prepare(
        "createDataDeletion", {"distinct_ids": ids[:2000]}, TEST_CONNECTION
    )
    assert len(request.body["distinct_ids"]) == 2000


def test_an_export_range_that_runs_backwards_names_both_dates() -> None:
    inputs = {"project_id": "2891273", "from_date": "2024-03-02", "to_date": "2024-03-01"}
    with pytest.raises(InputError, match=r"From Date \(`from_date`\): 2024-03-02 is after To Date"):
        COMPONENT.prepare("downloadData", inputs, TEST_CONNECTION)
