"""Every shipped spec: checks pass, the seed is carried whole, examples render, docs current."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connector import Component, check_specs, load_component
from connector.catalog.spec import InputSpec
from connector.describe.reference import render_reference
from tests.conftest import ROOT, SECRET_VALUES, TEST_CONNECTION
from tests.specs.cases import example_inputs
from tests.specs.seed import (
    CORRECTED_EXAMPLES,
    CORRECTED_NOTES,
    corrected_example,
    corrected_notes,
    read_seed,
    reference_keys,
)

COMPONENT = load_component()
SPEC = COMPONENT.spec
SEED = read_seed()
OPERATIONS = {**SPEC.actions, **SPEC.data_sources}


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text if text is not None else "")).strip()


def _inputs(key: str) -> tuple[InputSpec, ...]:
    return SPEC.connection.inputs if key == "connection" else OPERATIONS[key].inputs


def test_shipped_specs_have_no_problems() -> None:
    component, problems = check_specs()
    assert problems == []
    assert component is not None


def test_every_seed_operation_exists_with_its_label_and_description() -> None:
    assert set(SEED) - {"connection"} <= set(OPERATIONS)
    for key, seed in SEED.items():
        if key == "connection":
            assert SPEC.connection.label == seed.label
            continue
        assert OPERATIONS[key].label == seed.label, key
        assert _norm(OPERATIONS[key].description) == _norm(seed.description), key


@pytest.mark.parametrize("key", sorted(SEED))
def test_every_seed_input_keeps_label_notes_and_example(key: str) -> None:
    by_label = {spec.label: spec for spec in _inputs(key)}
    for row in SEED[key].rows:
        assert row.label in by_label, f"{key}: no input labelled {row.label!r}"
        spec = by_label[row.label]
        notes = _norm(corrected_notes(key, row))
        assert notes in _norm(spec.notes), f"{key}.{spec.key}: seed notes lost"
        if row.example:
            want = _norm(corrected_example(key, row))
            assert _norm(spec.example) == want, f"{key}.{spec.key}: example changed"


@pytest.mark.parametrize("key", sorted(SEED))
def test_existing_component_input_keys_are_kept(key: str) -> None:
    keys = {spec.key for spec in _inputs(key)}
    missing = [k for k in reference_keys().get(key, []) if k not in keys]
    assert missing == []


def _compatibility_notes() -> list[dict[str, str]]:
    notes = SPEC.compatibility
    return [*notes.get("vendor_docs", []), *notes.get("earlier_versions", [])]


@pytest.mark.parametrize("key", sorted(set(OPERATIONS) & set(SEED)))
def test_seed_sample_is_kept_or_replaced_with_a_reason(key: str) -> None:
    op, seed = OPERATIONS[key], SEED[key]
    if seed.sample is None:
        assert op.sample is not None
    elif op.sample != seed.sample:
        assert op.earlier_sample == seed.sample, f"{key}: the seed's sample must stay as earlier"
        why = [n for n in _compatibility_notes() if op.label in n["applies_to"]]
        assert any("sample" in n["text"] for n in why), f"{key}: Compatibility must say why"


@pytest.mark.parametrize(("key", "label"), sorted(CORRECTED_EXAMPLES))
def test_each_corrected_seed_example_is_explained_under_compatibility(key: str, label: str) -> None:
    wrong, right = CORRECTED_EXAMPLES[(key, label)]
    why = [n for n in _compatibility_notes() if OPERATIONS[key].label in n["applies_to"]]
    assert any(wrong in n["text"] and right in n["text"] for n in why), (key, label)


@pytest.mark.parametrize(("key", "label"), sorted(CORRECTED_NOTES))
def test_each_corrected_seed_note_is_explained_under_compatibility(key: str, label: str) -> None:
    wrong, _ = CORRECTED_NOTES[(key, label)]
    op = OPERATIONS[key]
    why = [n for n in _compatibility_notes() if op.label in n["applies_to"]]
    assert any(label in n["text"] and "2MB" in n["text"] for n in why), (key, label, wrong)


@pytest.mark.parametrize("key", sorted(OPERATIONS))
def test_sample_fits_the_declared_output_schema(key: str) -> None:
    op = OPERATIONS[key]
    assert op.output_schema, f"{key} declares no output_schema"
    Draft202012Validator.check_schema(op.output_schema)
    assert list(Draft202012Validator(op.output_schema).iter_errors(op.sample)) == []


@pytest.mark.parametrize("key", sorted(OPERATIONS))
def test_examples_render_a_request(key: str) -> None:
    [request] = COMPONENT.preview(key, example_inputs(OPERATIONS[key]), TEST_CONNECTION)
    assert request["url"].startswith("https://")
    text = json.dumps(request)
    assert TEST_CONNECTION["password"] not in text
    assert TEST_CONNECTION["projectToken"] not in text


# Lower-case words a Title Case label keeps (as the seed's labels do: "Data and Domain").
_SMALL_WORDS = {"and", "or", "of", "to", "for", "in", "by", "a", "the", "as"}


@pytest.mark.parametrize("key", sorted(set(OPERATIONS) - set(SEED)))
def test_operations_beyond_the_seed_follow_its_style(key: str) -> None:
    """camelCase verb keys, Title Case labels, a sample and an OpenAPI operation, as the seed's."""
    op = OPERATIONS[key]
    action = op.kind == "action"
    assert re.fullmatch(r"[a-z]+[A-Z][A-Za-z]*" if action else r"[a-z][A-Za-z]*", key), key
    for label in [op.label, *(i.label for i in op.inputs)]:
        words = label.split()
        assert all(w[0].isupper() or w[0].isdigit() or w in _SMALL_WORDS for w in words), label
    assert op.openapi and op.sample is not None and op.description or not action
    assert all(i.notes for i in op.value_inputs), [i.key for i in op.value_inputs if not i.notes]


def test_no_example_is_a_default() -> None:
    """The existing component sent sample lists when left unchanged; nothing here does."""
    offenders = [
        f"{op.key}.{spec.key}"
        for op in OPERATIONS.values()
        for spec in op.inputs
        if spec.type == "list" and spec.default not in (None, [], "")
    ]
    assert offenders == []


def test_generated_docs_are_current_and_carry_the_whole_seed() -> None:
    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert text == render_reference(SPEC), (
        "docs/reference.md is stale: run mixpanel-connector docs --out docs"
    )
    flat = _norm(text.replace("\\|", "|"))
    for key, seed in SEED.items():
        assert seed.label in flat and _norm(seed.description) in flat
        for row in seed.rows:
            assert _norm(corrected_notes(key, row)) in flat, (key, row.label)
            assert _norm(corrected_example(key, row)) in flat, (key, row.label)
        if seed.sample is not None:
            assert json.dumps(seed.sample, indent=2, ensure_ascii=False) in text, key


def test_component_repr_names_no_secret(component: Component, connection: dict[str, str]) -> None:
    """After handling a call with real-looking credentials, no repr shows any of them."""
    op = component.spec.actions["importEvents"]
    inputs = {
        "events": '[{"event": "e", "properties": {"time": 1618716477, "distinct_id": "d", '
        '"$insert_id": "i"}}]',
        "project_id": "1",
    }
    request, header = component.prepare(op, inputs, connection)
    shown = [repr(component), repr(component.transport), repr(request), str(request.to_dict())]
    shown.append(str(component.preview("importEvents", inputs, connection)))
    assert header and header.startswith("Basic ")
    for secret in (*SECRET_VALUES, header, header.split()[1], connection["password"]):
        assert all(secret not in text for text in shown), secret
    assert "mixpanel" in repr(component)
