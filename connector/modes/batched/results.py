"""The result of a batched call: one request's answer as the API sent it, or the merged totals.

One request: the API's answer unchanged, and the connector's totals beside it under keys of
their own (`records_sent`, `records_imported`, `records_failed`, `requests`,
`requests_retried`, `batches_skipped`), with records refused before sending under
`records_refused`. Several requests: the totals, every failed record (indexes into the
caller's input) under `failed_records`, and each distinct error the API gave under `errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...batch import Totals, merged
from ...records import RecordPlan, Refusal

__all__ = ["MAX_ERRORS", "distinct_error", "totals_of", "result_of"]

#: Distinct error texts a result lists; the API tends to repeat one text per request.
MAX_ERRORS = 20


def distinct_error(totals: Totals, answer: Any) -> None:
    """Note the answer's `error` text (when it has one) in `totals.errors`, once each."""
    if isinstance(answer, Mapping):
        text = answer.get("error")
        if text and len(totals.errors) < MAX_ERRORS and str(text) not in totals.errors:
            totals.errors.append(str(text))


def totals_of(totals: Totals, refused: list[Refusal]) -> dict[str, Any]:
    """The connector's own figures, under keys of their own."""
    figures: dict[str, Any] = {
        "records_sent": totals.sent,
        "records_imported": totals.imported,
        "records_failed": len(totals.failed) + len(refused),
        "requests": totals.requests,
        "requests_retried": totals.retried,
    }
    if totals.skipped:
        figures["batches_skipped"] = totals.skipped
        figures["records_skipped"] = totals.skipped_records
    return figures


def result_of(
    totals: Totals, refused: list[Refusal], plan: RecordPlan, *, single_answer: bool
) -> Any:
    """The call's result (see the module's docstring for the two shapes).

    An action whose spec says `single_answer` (it answered one request before it took any
    number of records) returns that answer alone when nothing was refused or failed.
    """
    one = totals.batches == 1 and not totals.skipped and len(totals.answers) == 1
    if one and single_answer and not refused and not totals.failed:
        return totals.answers[0]
    if one and isinstance(totals.answers[0], Mapping):
        result = dict(totals.answers[0])
        if refused:
            result["records_refused"] = [r.to_dict(plan.id_key) for r in refused]
        result.update(totals_of(totals, refused))
        return result
    result = merged(totals, refused, plan)
    result.update(totals_of(totals, refused))
    if totals.errors:
        result["errors"] = list(totals.errors)
    return result
