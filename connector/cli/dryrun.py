"""A dry run of a file: a sample of the requests and the counts, or every request when asked."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..catalog.spec import ComponentSpec
from ..catalog.widening import secret_reads

#: A sampled dry run shows this many requests, each with this many of its records.
SAMPLE_REQUESTS = 3
SAMPLE_RECORDS = 3


def _records(body: Any) -> tuple[list[Any] | None, str | None]:
    """The records a body carries: a JSON array, or a form field holding one (and its name)."""
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        for name, value in body.items():
            if isinstance(value, str) and value.startswith("["):
                try:
                    parsed = json.loads(value)
                except ValueError:
                    continue
                if isinstance(parsed, list):
                    return parsed, name
    return None, None


def _cut(request: dict[str, Any]) -> tuple[dict[str, Any], int, bool]:
    """The request with its records cut to SAMPLE_RECORDS, how many it had, and whether cut."""
    records, field = _records(request.get("body"))
    if records is None:
        return request, 0, False
    if len(records) <= SAMPLE_RECORDS:
        return request, len(records), False
    kept = records[:SAMPLE_RECORDS]
    body = kept if field is None else {**request["body"], field: json.dumps(kept)}
    return {**request, "body": body}, len(records), True


def sampled(requests: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """A sample of `requests` and a note with the counts of them all.

    The sample is the first SAMPLE_REQUESTS requests, their records cut to SAMPLE_RECORDS
    each; the note is "" when nothing was left out.
    """
    shown: list[dict[str, Any]] = []
    total = records = 0
    cut = False
    for request in requests:
        total += 1
        trimmed, count, was_cut = _cut(request)
        records += count
        if len(shown) < SAMPLE_REQUESTS:
            shown.append(trimmed)
            cut = cut or was_cut
        else:
            cut = True
    if not cut:
        return shown, ""
    note = (
        f"dry run: {total:,} request(s) carrying {records:,} record(s) would be sent; shown: the "
        f"first {len(shown)}, each with at most its first {SAMPLE_RECORDS} records "
        "(--dry-run-all prints every request in full)"
    )
    return shown, note


def fields_used(spec: ComponentSpec, key: str, shown: Iterable[Mapping[str, Any]]) -> set[str]:
    """The connection fields the shown requests use: their auth schemes' and those rendered.

    (A dry run notes placeholders only for these: a field no request of this action reads,
    such as a token only other actions send, needs no mention.)
    """
    connection, op = spec.connection, spec.operation(key)
    used: set[str] = set()
    for request in shown:
        scheme = connection.auth_schemes.get(str(request.get("auth")))
        if scheme is not None:
            used.update(connection.scheme_fields(scheme))
    secret = [field.key for field in connection.inputs if field.is_secret]
    parts = {"request": op.request, "batch": op.batch, "paging": op.paging}
    for fields in secret_reads(parts, secret).values():
        used.update(fields)
    return used
