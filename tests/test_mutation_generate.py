"""tools/mutation generates, from the specs' keys, the wire mutants the issue's table names."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from connector.catalog.load import specs_root
from tools.mutation.generate import Mutant, changed, mutants

MUTANTS = {m.id: m for m in mutants(specs_root())}


def _applied(mutant: Mutant) -> dict[str, Any]:
    doc = yaml.safe_load((specs_root() / mutant.file).read_text(encoding="utf-8"))
    before = copy.deepcopy(doc)
    mutant.apply(doc)
    assert doc != before, mutant.id
    return dict(doc["request"])


def test_the_issues_table_is_generated() -> None:
    assert _applied(MUTANTS["queryProfiles: auth project_token"])["auth"] == "project_token"
    assert _applied(MUTANTS["importEvents: gzip false"])["body"]["gzip"] == "false"
    assert _applied(MUTANTS["importEvents: body format ndjson"])["body"]["format"] == "ndjson"
    strict = _applied(MUTANTS["importEvents: query.strict value"])["query"]["strict"]
    assert strict.endswith("~ 'X' }}")
    event = _applied(MUTANTS["createAlias: body.data.event value"])["body"]["content"]["data"]
    assert event["event"] == "$create_aliasX"
    assert _applied(MUTANTS["queryProfiles: path"])["url"].endswith("/engageX")


def test_every_operation_gets_the_generic_mutants() -> None:
    operations = {m.operation for m in MUTANTS.values()}
    assert len(operations) >= 23
    for op in operations:
        kinds = {
            m.id.split(": ", 1)[1].split(" ")[0] for m in MUTANTS.values() if m.operation == op
        }
        assert {"method", "auth"} <= kinds, op


def test_each_region_choice_is_sent_to_another_host() -> None:
    url = _applied(MUTANTS["importEvents: host when region=api-eu"])["url"]
    assert url.startswith("{% set region = 'api-in' if region == 'api-eu' else region %}")


def test_changed_values_differ_and_keep_empty_values_empty() -> None:
    assert changed(True) is False and changed(1) == 2 and changed("json") == "jsonX"
    template = changed("{{ project_id }}")
    assert "is none" in template and "~ 'X'" in template
