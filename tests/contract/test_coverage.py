"""Every operation in Mixpanel's OpenAPI files is mapped by exactly one action or option."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import load_component
from connector.catalog.spec import OperationSpec
from tests.contract.coverage import OPENAPI_DIR, coverage, vendored_operations

ACTIONS = load_component().spec.actions
DATA_SOURCES = load_component().spec.data_sources


# Not yet mapped: while a family is being declared its operations wait here; the list only
# shrinks, and is empty now that every operation is mapped.
NOT_YET_MAPPED: set[tuple[str, str]] = set()


def test_the_vendored_files_are_all_thirteen() -> None:
    assert len(list(OPENAPI_DIR.glob("*.openapi.yaml"))) == 13
    assert len(vendored_operations()) == 105


def test_every_operation_is_mapped_exactly_once() -> None:
    found = coverage(vendored_operations(), ACTIONS.values())
    assert found.mapped_twice == {}
    assert found.unknown == []
    assert found.orphan_variants == []
    assert found.options_without_input == []
    assert found.unmapped == NOT_YET_MAPPED == set()


def test_the_waiting_lists_name_only_real_unmapped_operations() -> None:
    """A mapped operation must leave the lists, so they only shrink."""
    assert NOT_YET_MAPPED <= vendored_operations()


def test_every_data_source_names_a_real_operation() -> None:
    ops = vendored_operations()
    for source in DATA_SOURCES.values():
        assert (source.openapi["file"], source.openapi["operation_id"]) in ops, source.key


def _copy_with_new_operation(tmp_path: Path) -> Path:
    text = (OPENAPI_DIR / "annotations.openapi.yaml").read_text(encoding="utf-8")
    marker = "paths:\n"
    added = (
        "paths:\n  /projects/{projectId}/annotations/bulk:\n    post:\n"
        "      operationId: bulk-annotations\n      responses: {}\n"
    )
    (tmp_path / "annotations.openapi.yaml").write_text(text.replace(marker, added, 1), "utf-8")
    return tmp_path


def test_a_new_operation_in_a_future_copy_fails_until_mapped(tmp_path: Path) -> None:
    folder = _copy_with_new_operation(tmp_path)
    found = coverage(vendored_operations(folder), ACTIONS.values())
    assert ("annotations.openapi.yaml", "bulk-annotations") in found.unmapped


def _action(key: str, openapi: dict[str, object]) -> OperationSpec:
    return OperationSpec(
        key=key,
        kind="action",
        label=key,
        description="",
        inputs=(),
        request={},
        sample=None,
        openapi=openapi,
    )


def test_an_option_maps_an_operation_and_a_second_owner_is_refused() -> None:
    ops = {("a.openapi.yaml", "one"), ("a.openapi.yaml", "two")}
    option = {"operation_id": "two", "input": "kind", "value": "second"}
    owner = _action("first", {"file": "a.openapi.yaml", "operation_id": "one", "options": [option]})
    assert coverage(ops, [owner]).unmapped == set()
    assert coverage(ops, [owner]).options_without_input == ["first.kind"]
    twice = _action("again", {"file": "a.openapi.yaml", "operation_id": "two"})
    found = coverage(ops, [owner, twice])
    assert list(found.mapped_twice) == [("a.openapi.yaml", "two")]


def test_a_variant_counts_for_its_owner_only() -> None:
    ops = {("a.openapi.yaml", "one")}
    variant = _action(
        "generic", {"file": "a.openapi.yaml", "operation_id": "one", "variant_of": "typed"}
    )
    assert coverage(ops, [variant]).unmapped == ops
    assert coverage(ops, [variant]).orphan_variants == ["generic"]
    typed = _action("typed", {"file": "a.openapi.yaml", "operation_id": "one"})
    assert coverage(ops, [typed, variant]) == coverage(ops, [typed])


@pytest.mark.parametrize("key", sorted(ACTIONS))
def test_every_action_but_the_raw_request_names_its_operation(key: str) -> None:
    assert ACTIONS[key].openapi or key == "rawRequest"
