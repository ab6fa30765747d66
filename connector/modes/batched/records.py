"""Prepares each record of a batch as its spec declares: fill values, check it, encode it."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ...catalog.spec import OperationSpec
from ...core.jsonenc import Part
from ...core.paths import Path, dotted, lookup
from ...core.redact import Redactor
from ...core.values import is_missing, show
from ...errors import InputError, InputProblem
from ...prepare.inputs import short_message
from ...prepare.schemacheck import SchemaCheck
from .depth import count_brackets, count_part_brackets, too_deep
from .fills import NOW_FILLS, accepts, fill_ids, fill_record, filled_check, parse_fills
from .secret_values import strings_at

__all__ = ["RecordPlan", "Refusal", "input_error"]

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
#: Distinct values of a call's records' `secret_fields` noted for masking everywhere (a job
#: carries one project token or a few; beyond this, each is still masked in its own refusal).
MAX_NOTED_SECRETS = 1000


@dataclass(frozen=True)
class Refusal:
    """A record that was not sent: its index in the caller's input, its id, field and reason."""

    index: int
    record_id: Any
    field: str
    message: str

    def to_dict(self, id_key: str) -> dict[str, Any]:
        """The failed-record entry of a batch result."""
        entry: dict[str, Any] = {"index": self.index}
        if id_key and not is_missing(self.record_id):
            entry[id_key] = self.record_id
        entry.update(field=self.field, message=self.message)
        return entry


def input_error(plan: RecordPlan, message: str) -> InputError:
    """The error of the batch input as a whole (no record is meant)."""
    return InputError(plan.action, [InputProblem(plan.key, plan.label, message)])


class RecordPlan:
    """What the spec's `batch:` says to do with each record, resolved for one call."""

    def __init__(
        self,
        op: OperationSpec,
        values: Mapping[str, Any],
        connection: Mapping[str, Any],
        secrets: Redactor | None = None,
    ) -> None:
        batch = op.batch
        spec = op.input(batch["input"])
        self.action = op.key
        self.key = spec.key
        self.label = spec.label
        self.item = str(batch["item"])
        self.check = _checks(op, spec.key)
        self.max_item_bytes: int = batch.get("max_item_bytes") or sys.maxsize
        depth = batch.get("max_depth")
        self.depth: tuple[Path, int] | None = (
            (dotted(depth["path"]), int(depth["depth"])) if depth else None
        )
        # Brackets a record may hold without any nesting below depth.path: one per level on the way
        self.brackets = len(self.depth[0]) + 1 if self.depth else 0
        self.fast = self.check.fast
        self.fills, self.id_keys = parse_fills(op, values, connection)
        self.id_key = self.id_keys[-1] if self.id_keys else ""
        self.filled = filled_check(tuple(fill.keys for fill in self.fills))
        #: In a bulk job, the paths a time fill would fill: each record must carry them.
        self.needed: tuple[Path, ...] = ()
        self.needed_check: Any = None
        #: The call's masking (shared with its requests, errors and logs), and the record
        #: fields whose values it must learn: the spec's `batch.secret_fields`.
        self.secrets = secrets if secrets is not None else Redactor()
        self.secret_paths = tuple(dotted(path) for path in batch.get("secret_fields") or ())
        #: The last chunk `fill_ids` filled and the indexes of its records that may hold a
        #: `secret_fields` value (the others' parents were seen to lack every such key).
        self._unsure: tuple[list[Any], list[int]] | None = None

    def for_bulk(self) -> None:
        """Make this plan a bulk job's: a time is never filled in, each record must carry it.

        A job that may send a record again (several requests, a file, a checkpoint to resume
        from) must send it as the same record: a time taken when it is sent would make every
        re-run a new record, with a new content id. Such records are refused instead.
        """
        self.needed = tuple(f.keys for f in self.fills if f.kind in NOW_FILLS)
        if self.needed:
            self.fills = [f for f in self.fills if f.kind not in NOW_FILLS]
            self.filled = filled_check(tuple(fill.keys for fill in self.fills))
            self.needed_check = filled_check(self.needed)

    def note_secrets(self, records: list[Any]) -> None:
        """Teach the call's masking the values at `secret_fields` in `records` (a chunk).

        Runs on every chunk before it is refused, rendered or sent, so a refusal, a dry run, a
        log line, an error or a result quoting a record (or an answer quoting one) masks them.
        One set comprehension per path: 0.2 us a record (a byte search of the chunk's JSON for
        the key's name, to skip it, costs 0.6 us). On the chunk `fill_all` just filled with ids,
        only the records `fill_ids` did not fill itself: it saw each other one's parent lack
        every key it leaves out of the id, `secret_fields` among them.
        """
        unsure, self._unsure = self._unsure, None
        if unsure is not None and unsure[0] is records:
            records = [records[index] for index in unsure[1]]
        if not self.secret_paths or not records:
            return
        room = MAX_NOTED_SECRETS - len(self.secrets)
        if room <= 0:
            return
        found: set[str] = set()
        for keys in self.secret_paths:
            found |= strings_at(records, keys)
        new = [value for value in found if value not in self.secrets]
        if new:
            self.secrets.add_all(sorted(new)[:room])

    def refusal(self, index: int, record: Any, field: str, message: str) -> Refusal:
        """The Refusal of `record`, its message masked (the record's own secrets included)."""
        mask = self._mask_for(record)
        record_id = self.record_id(record) if record is not None else None
        return Refusal(index, mask.data(record_id), field, mask.text(message))

    def _mask_for(self, record: Any) -> Redactor:
        """The call's masking, or (past MAX_NOTED_SECRETS) one that also knows this record's."""
        own = [v for v in strings_at([record], *self.secret_paths) if v not in self.secrets]
        if not own:
            return self.secrets
        return self.secrets.extended(own)

    def record_id(self, record: Any) -> Any:
        """The record's id (such as `$insert_id`), when the plan fills one."""
        return lookup(record, self.id_keys) if self.id_keys else None

    def fill_all(self, records: list[Any]) -> list[Any]:
        """`fill` for each record; one compiled check first, as usually nothing is missing."""
        if not self.fills or (self.filled is not None and accepts(self.filled, records)):
            return records
        if len(self.fills) == 1 and (chunked := self.fills[0].chunked) is not None:
            others: list[int] = []
            filled = fill_ids(records, self.fills[0], self.fill, others)
            parent, lacked = self.fills[0].keys[0], chunked[1]
            if all(len(p) == 2 and p[0] == parent and p[1] in lacked for p in self.secret_paths):
                self._unsure = (filled, others)  # note_secrets reads only these
            return filled
        return [self.fill(record) for record in records]

    def fill(self, record: Any) -> Any:
        """The record with the declared values filled in (a copy when anything was filled)."""
        if self.fills and (type(record) is dict or isinstance(record, Mapping)):
            try:
                return fill_record(record, self.fills)
            except (TypeError, orjson.JSONEncodeError):
                return record  # prepare() refuses it, saying why
        return record

    def encode_all(self, records: list[Any]) -> list[Part] | None:
        """The JSON of filled `records` when all of them pass at once, else None.

        Returned as parts to join with commas, each within the per-record byte limit (so no
        record can exceed it); None means "check and encode them one by one".
        """
        if not self.check.all_valid(records):
            return None
        if self.needed_check is not None and not accepts(self.needed_check, records):
            return None
        try:
            parts = self._parts(records)
        except (TypeError, orjson.JSONEncodeError):
            return None
        if parts is None:
            return None
        if self.depth is not None:
            if sum(count_part_brackets(p) for p in parts) > len(records) * self.brackets:
                # Arrays or objects in values (or brackets in strings): check each record's
                # depth, 1 us a record against 5 us more for checking and encoding it alone.
                keys, allowed = self.depth
                for record in records:
                    container = lookup(record, keys)
                    if type(container) in (dict, list) and too_deep(container, allowed):
                        return None  # prepare() refuses it, saying how deep
        return parts

    def _parts(self, records: list[Any]) -> list[Part] | None:
        try:  # str keys only: the same bytes as with _JSON_OPTIONS, in 60% of its CPU
            whole = orjson.dumps(records)
        except orjson.JSONEncodeError:
            whole = orjson.dumps(records, option=_JSON_OPTIONS)
        if len(whole) - 2 <= self.max_item_bytes:
            # orjson grows its buffer by doubling and never shrinks it: a batch kept until
            # answered would hold up to twice its bytes. One copy, exact size (0.05 us a record).
            return [memoryview(bytes(memoryview(whole)))[1:-1]]  # the array's inside
        if len(records) == 1:
            return None  # this one is too big: prepare() says so
        half = len(records) // 2
        left, right = self._parts(records[:half]), self._parts(records[half:])
        return None if left is None or right is None else left + right

    def prepare(self, record: Any, index: int) -> tuple[Any, bytes] | Refusal:
        """The record as it will be sent and its JSON, or why it is refused."""
        # The happy path is written for speed: it runs once per record of every batch.
        if self.fills and (type(record) is dict or isinstance(record, Mapping)):
            try:
                record = fill_record(record, self.fills)
            except (TypeError, orjson.JSONEncodeError) as exc:
                return self.refusal(index, None, "", f"cannot be written as JSON: {exc}")
        try:
            valid = self.fast is not None and self.fast.is_valid(record)
        except (ValueError, TypeError, OverflowError):
            valid = False  # a value the compiled check cannot read: jsonschema decides
        if not valid and not self.check.is_valid(record):
            error = next(iter(self.check.errors(record)))
            field = ".".join(str(p) for p in error.absolute_path)
            # Masked before the value is quoted and cut short, so no cut leaves half a secret.
            mask = self._mask_for(record)
            error.message, error.instance = mask.text(error.message), mask.data(error.instance)
            described = None
            if error.validator in ("not", "pattern", "minimum") and isinstance(error.schema, dict):
                described = error.schema.get("description")  # the spec's words for the rule
            message = f"{show(error.instance)} {described}" if described else short_message(error)
            return self.refusal(index, record, field, message)
        for keys in self.needed:
            if is_missing(lookup(record, keys)):
                return self.refusal(index, record, ".".join(keys), self._needed_message(keys))
        try:
            data = orjson.dumps(record, option=_JSON_OPTIONS)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return self.refusal(index, record, "", f"cannot be written as JSON: {exc}")
        # Too deep needs more brackets than the record's own levels allow: count them in C first.
        if self.depth is not None and count_brackets(data) > self.brackets:
            keys, allowed = self.depth
            container = lookup(record, keys)
            if type(container) in (dict, list) and too_deep(container, allowed):
                where = ".".join(keys)
                message = f"nests objects or arrays more than {allowed} levels deep below {where}"
                return self.refusal(index, record, where, message)
        if len(data) > self.max_item_bytes:
            message = (
                f"is {len(data):,} bytes of JSON; at most {self.max_item_bytes:,} bytes are "
                f"allowed per {self.item}"
            )
            return self.refusal(index, record, "", message)
        return record, data

    def _needed_message(self, keys: Path) -> str:
        path = ".".join(keys)
        return (
            f"has no {path}: a job of several requests, or from a file or a checkpoint, needs "
            f"each {self.item}'s own {path}, so that sending it again sends the same {self.item} "
            f"(a {path} taken now would make each run a new one)"
        )

    def where(self, index: int, field: str) -> str:
        """Point into the input by path, as messages do: `Events[12047].properties.time`."""
        return f"{self.label}[{index}]" + (f".{field}" if field else "")


_CHECKS: dict[tuple[int, str], tuple[OperationSpec, SchemaCheck]] = {}


def _checks(op: OperationSpec, key: str) -> SchemaCheck:
    """The compiled check of one batch input's records, built once per loaded spec."""
    cached = _CHECKS.get((id(op), key))
    if cached is None or cached[0] is not op:
        cached = (op, SchemaCheck(op.input(key).schema.get("items") or {}))
        _CHECKS[(id(op), key)] = cached
    return cached[1]
