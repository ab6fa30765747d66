"""CSV bodies: rows written as CSV, files streamed, the declared size limit checked first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector import InputError, load_component
from connector.prepare.csvbody import csv_bytes, csv_file
from connector.prepare.render import render_request
from tests.conftest import TEST_CONNECTION

COMPONENT = load_component()
TABLE = "55b4fb2b-e8de-466c-930f-8b36640b9b5e"
INPUTS: dict[str, Any] = {"region": "api", "project_id": "2891273", "lookupTableId": TABLE}
EMPTY = {"rows": None, "csvFile": None}
LIMIT = 100 * 2**20


def test_mapping_rows_get_a_header_of_every_key_in_first_seen_order() -> None:
    rows = [{"id": "k1", "a": 1, "b": True}, {"id": "k,2", "c": None, "a": 'say "x"'}]
    assert csv_bytes(rows) == b'id,a,b,c\nk1,1,true,\n"k,2","say ""x""",,\n'


def test_list_rows_and_text_are_sent_as_given() -> None:
    assert csv_bytes([["id", "v"], ["k1", 2]]) == b"id,v\nk1,2\n"
    assert csv_bytes("id,v\nk1,2\n") == b"id,v\nk1,2\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "non-empty list of rows"),
        ([["id"], {"id": 1}], "all lists"),
        ([{"id": "a"}, {"id": {"nested": 1}}], "[1]: a cell holds an object"),
    ],
)
def test_rows_that_are_not_a_table_are_refused(rows: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        csv_bytes(rows)


def test_a_file_is_measured_not_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,v\nk,1\n")
    found = csv_file(str(path))
    assert found is not None and (found.path, found.size) == (str(path), 9)
    assert csv_file("") is None
    with pytest.raises(ValueError, match="cannot read the file"):
        csv_file(str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="not a readable file"):
        csv_file(str(tmp_path))


def test_rows_become_a_text_csv_body() -> None:
    request, _ = COMPONENT.prepare(
        "replaceLookupTable", {**INPUTS, "rows": [{"id": "k1", "v": "{{ 7*7 }}"}]}, TEST_CONNECTION
    )
    assert request.method == "PUT"
    assert request.url == f"https://api.mixpanel.com/lookup-tables/{TABLE}"
    assert request.headers["Content-Type"] == "text/csv"
    assert request.content == b"id,v\nk1,{{ 7*7 }}\n"
    assert request.body == {"bytes": 18, "lines": 2}


def test_a_file_is_streamed_and_shown_by_path_and_size(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"id,v\nk1,1\n")
    request, _ = COMPONENT.prepare(
        "replaceLookupTable", {**INPUTS, "csvFile": str(path)}, TEST_CONNECTION
    )
    assert request.content is None
    assert request.body_file is not None and request.body_file.size == 10
    assert request.to_dict()["body"] == {"file": str(path), "bytes": 10}


def test_a_file_over_the_limit_is_refused_before_sending(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # sparse: no 100 MB written
        handle.truncate(LIMIT + 1)
    with pytest.raises(InputError) as caught:
        COMPONENT.prepare("replaceLookupTable", {**INPUTS, "csvFile": str(path)}, TEST_CONNECTION)
    assert [p.key for p in caught.value.errors] == ["csvFile"]
    text = str(caught.value)
    assert "CSV File (`csvFile`)" in text
    assert f"{LIMIT + 1:,} bytes, more than the {LIMIT:,} bytes (100 MB)" in text


def test_a_file_at_the_limit_passes(tmp_path: Path) -> None:
    path = tmp_path / "edge.csv"
    with path.open("wb") as handle:
        handle.truncate(LIMIT)
    request, _ = COMPONENT.prepare(
        "replaceLookupTable", {**INPUTS, "csvFile": str(path)}, TEST_CONNECTION
    )
    assert request.body_file is not None and request.body_file.size == LIMIT


def test_rows_over_the_limit_are_refused_naming_rows() -> None:
    spec = COMPONENT.spec.actions["replaceLookupTable"]
    body = {**spec.request["body"], "max_bytes": 16}
    small = replace(spec, request={**spec.request, "body": body})
    render_request(
        small, {**INPUTS, **EMPTY, "rows": [["id"], ["k" * 12]]}, TEST_CONNECTION
    )  # 16 bytes
    with pytest.raises(InputError) as caught:
        render_request(small, {**INPUTS, **EMPTY, "rows": [["id"], ["k" * 13]]}, TEST_CONNECTION)
    assert [p.key for p in caught.value.errors] == ["rows"]
    assert "Rows (`rows`): the request body would be 17 bytes, more than the 16 bytes" in str(
        caught.value
    )


def test_rows_and_file_together_or_neither_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id\nk\n")
    with pytest.raises(InputError, match="give the rows or the file, not both") as caught:
        COMPONENT.prepare(
            "replaceLookupTable",
            {**INPUTS, "rows": [["id"], ["k"]], "csvFile": str(path)},
            TEST_CONNECTION,
        )
    assert sorted(p.key for p in caught.value.errors) == ["csvFile", "rows"]
    with pytest.raises(InputError, match="both empty"):
        COMPONENT.prepare("replaceLookupTable", INPUTS, TEST_CONNECTION)


def test_a_missing_file_names_the_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"CSV File \(`csvFile`\): cannot read the file"):
        COMPONENT.prepare(
            "replaceLookupTable", {**INPUTS, "csvFile": str(tmp_path / "no.csv")}, TEST_CONNECTION
        )
