"""Reads the seed reference page (vendored beside this file) into operations and input rows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = HERE / "seed_reference.txt"
REFERENCE = HERE / "reference_interface.json"


@dataclass
class SeedRow:
    """One input row of a seed table."""

    label: str
    notes: str
    example: str


@dataclass
class SeedOperation:
    """One action, data source or the connection, as the seed page lists it."""

    key: str
    label: str
    description: str
    rows: list[SeedRow] = field(default_factory=list)
    sample: Any = None


_HEADER = re.compile(r"^(?P<description>.*) \| key: (?P<key>\w+)(?: \| type: \w+)?$")


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]


def read_seed() -> dict[str, SeedOperation]:
    """Operations by key; the connection is under the key `connection`."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    operations: dict[str, SeedOperation] = {}
    current = SeedOperation("connection", "API Key", "")
    operations["connection"] = current
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _HEADER.match(line)
        if match and index > 0:
            current = SeedOperation(match["key"], lines[index - 1], match["description"])
            operations[current.key] = current
        elif line.startswith("| ") and not line.startswith("| Input |"):
            label, notes, example = (_split_row(line) + ["", ""])[:3]
            current.rows.append(SeedRow(label, notes, example))
        elif line == "{" and current.key != "connection":
            depth, chunk = 0, []
            while index < len(lines):
                chunk.append(lines[index])
                depth += lines[index].count("{") + lines[index].count("[")
                depth -= lines[index].count("}") + lines[index].count("]")
                if depth == 0:
                    break
                index += 1
            current.sample = json.loads("\n".join(chunk))
        index += 1
    return operations


# Input notes the component corrects, by (operation, label): the wrong phrase and its replacement.
# Each correction is also stated in the Compatibility section of the generated docs.
CORRECTED_NOTES = {
    ("importEvents", "Events"): ("2MB uncompressed", "10 MB uncompressed"),
    ("trackEvents", "Events"): (
        "Each request accepts up to 2000 events and 2MB uncompressed.",
        "Each request carries up to 2000 events of at most 1,000,000 bytes each.",
    ),
}


# Seed examples that made an invalid request, with the example the component shows instead (each
# explained under Compatibility).
CORRECTED_EXAMPLES = {
    ("createGenericPipeline", "URL"): ("/sobjects/Account", "/nessie/pipeline/create"),
    ("editGenericPipeline", "URL"): ("/sobjects/Account", "/nessie/pipeline/edit"),
}


def corrected_example(key: str, row: SeedRow) -> str:
    """The row's example, or the component's correction of it."""
    wrong, right = CORRECTED_EXAMPLES.get((key, row.label), ("", ""))
    if not wrong:
        return row.example
    assert row.example == wrong, f"{key}.{row.label}: the corrected example is gone from the source"
    return right


def corrected_notes(key: str, row: SeedRow) -> str:
    """The row's notes with the component's correction applied, if it has one."""
    wrong, right = CORRECTED_NOTES.get((key, row.label), ("", ""))
    if not wrong:
        return row.notes
    assert wrong in row.notes, f"{key}.{row.label}: the corrected phrase is gone from the source"
    return row.notes.replace(wrong, right)


def reference_keys() -> dict[str, list[str]]:
    """The existing component's input keys per operation, grouped children flattened."""
    data = json.loads(REFERENCE.read_text(encoding="utf-8"))
    keys: dict[str, list[str]] = {}
    for op in data["actions"] + data["dataSources"]:
        flat: list[str] = []
        for spec in op["inputs"]:
            if spec.get("inputs"):
                flat.extend(child["key"] for child in spec["inputs"])
            else:
                flat.append(spec["key"])
        keys[op["key"]] = flat
    keys["connection"] = [i["key"] for i in data["connection"]["inputs"]]
    return keys
