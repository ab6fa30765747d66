"""What a batched call did: the totals, each answer counted as the spec says, and its result.

One request: the API's answer unchanged, and the connector's totals beside it under keys of
their own (`records_sent`, `records_imported`, `records_failed`, `requests`,
`requests_retried`, `batches_skipped`, `started_over`), with records refused before sending under
`records_refused`. Several requests: the totals, every failed record (indexes into the
caller's input) under `failed_records`, and each distinct error the API gave under `errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.templates import render_value
from ...errors import InputError, InputProblem
from .chunks import Batch
from .records import RecordPlan, Refusal, input_error

__all__ = [
    "DEFAULT_WORKERS",
    "MAX_ERRORS",
    "MAX_LISTED",
    "Totals",
    "counter",
    "distinct_error",
    "merged",
    "nothing_sent_error",
    "result_of",
    "totals_of",
]

DEFAULT_WORKERS = 4
#: Problems an InputError lists before it says "and N more", so huge inputs keep short errors.
MAX_LISTED = 3
#: Distinct error texts a result lists; the API tends to repeat one text per request.
MAX_ERRORS = 20


@dataclass
class Totals:
    """What a batched call did so far."""

    sent: int = 0
    imported: int = 0
    batches: int = 0
    requests: int = 0
    retried: int = 0
    concurrency: int = 0  # requests allowed in flight (the adaptive limit, as it ended)
    throttled: int = 0  # answers that asked to slow down (429, 503)
    failed: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    skipped: int = 0  # batches a resumed import did not send again (its checkpoint had them)
    skipped_records: int = 0
    started_over: str = ""  # why a checkpoint of an earlier run was not used
    errors: list[str] = field(default_factory=list)  # each distinct error text of the answers


def counter(op_key: str, plan: RecordPlan, result: Mapping[str, Any]) -> Callable[..., None]:
    """How one answer counts, as the spec's `batch.result` declares it."""

    def count(batch: Batch, answer: Any, totals: Totals) -> None:
        context = {"body": answer}
        imported = len(batch.indexes)
        if result.get("imported"):
            value = render_value(result["imported"], context, action=op_key, field="batch.result")
            imported = int(value or 0)
        totals.imported += imported
        failed = (
            render_value(result["failed"], context, action=op_key, field="batch.result")
            if result.get("failed")
            else None
        )
        for entry in failed or ():
            entry = dict(entry) if isinstance(entry, Mapping) else {"message": str(entry)}
            position = entry.get("index")
            if isinstance(position, int) and 0 <= position < len(batch.indexes):
                entry["index"] = batch.indexes[position]
                if plan.id_key and not entry.get(plan.id_key):
                    entry[plan.id_key] = plan.record_id(batch.records[position])
            totals.failed.append(entry)
        if len(totals.answers) < 2:
            totals.answers.append(answer)

    return count


def merged(totals: Totals, refused: list[Refusal], plan: RecordPlan) -> dict[str, Any]:
    """The import answer's shape over all requests (`result_of` adds the totals)."""
    failed = sorted(
        [r.to_dict(plan.id_key) for r in refused] + totals.failed,
        key=lambda entry: entry.get("index", -1) if isinstance(entry.get("index"), int) else -1,
    )
    result: dict[str, Any] = {
        "code": 200 if not failed else 400,
        "num_records_imported": totals.imported,
        "status": "OK" if not failed else "Bad Request",
    }
    if failed:
        result["failed_records"] = failed
    return result


def nothing_sent_error(refused: list[Refusal], plan: RecordPlan) -> InputError:
    """Every record was refused: list the first few by path, then how many more."""
    if not refused:
        return input_error(plan, f"is required: give at least one {plan.item}")
    problems = [
        InputProblem(plan.key, plan.label, f"at {plan.where(r.index, r.field)}: {r.message}")
        for r in refused[:MAX_LISTED]
    ]
    if len(refused) > MAX_LISTED:
        more = len(refused) - MAX_LISTED
        problems.append(
            InputProblem(plan.key, plan.label, f"and {more:,} more {plan.item}(s) were refused")
        )
    return InputError(plan.action, problems)


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
        "requests_throttled": totals.throttled,
        "concurrency": totals.concurrency,
    }
    if totals.skipped:
        figures["batches_skipped"] = totals.skipped
        figures["records_skipped"] = totals.skipped_records
    if totals.started_over:
        figures["started_over"] = totals.started_over
    return figures


def result_of(
    totals: Totals, refused: list[Refusal], plan: RecordPlan, *, single_answer: bool
) -> Any:
    """The call's result (see the module's docstring for the two shapes), masked.

    An action whose spec says `single_answer` (it answered one request before it took any
    number of records) returns that answer alone when nothing was refused or failed. What the
    API said about the records (`failed_records`, `errors`, the answer itself) may quote them:
    the result is masked with the call's secrets, the records' `secret_fields` included.
    """
    return plan.secrets.data(_result(totals, refused, plan, single_answer=single_answer))


def _result(
    totals: Totals, refused: list[Refusal], plan: RecordPlan, *, single_answer: bool
) -> Any:
    one = (
        totals.batches == 1
        and not totals.skipped
        and not totals.started_over
        and len(totals.answers) == 1
    )
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
