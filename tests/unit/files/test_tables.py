"""CSV, TSV and Parquet input files: typed by declared columns, streamed, gzip, URLs, resumable."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import InputError, load_component
from connector.cli.main import main
from connector.files.checkpoint import file_checkpoint
from connector.files.input_files import _Counting, input_files, read_records
from connector.sandbox import Sandbox

OP = load_component().spec.actions["importEvents"]
COLUMNS = {
    "properties.time": "integer",
    "properties.price": "number",
    "properties.paid": "boolean",
    "properties.tags": "json",
}
EVENTS = [
    {
        "event": f"e{n % 3}",
        "properties": {
            "time": 1_700_000_000 + n,
            "distinct_id": f"u{n}",
            "$insert_id": f"i{n:06d}",
            "price": n + 0.5,
            "paid": n % 2 == 0,
            "tags": ["a", {"b": n}],
            "city": 'Paris, "Left" bank',
        },
    }
    for n in range(6)
]
HEADER = [
    "event",
    "properties.time",
    "properties.distinct_id",
    "properties.$insert_id",
    "properties.price",
    "properties.paid",
    "properties.tags",
    "properties.city",
]


def _table(events: list[dict[str, Any]], delimiter: str) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(HEADER)
    for e in events:
        p = e["properties"]
        writer.writerow(
            [
                e["event"],
                p["time"],
                p["distinct_id"],
                p["$insert_id"],
                p["price"],
                str(p["paid"]).lower(),
                json.dumps(p["tags"]),
                p["city"],
            ]
        )
    return out.getvalue().encode()


def _parquet(events: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"event": e["event"], **{f"properties.{k}": v for k, v in e["properties"].items()}}
        for e in events
    ]
    for row in rows:
        row["properties.tags"] = json.dumps(row["properties.tags"])
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink, row_group_size=4)
    return sink.getvalue()


def _read(data: bytes, fmt: str, columns: dict[str, str] | None = None) -> list[Any]:
    return list(
        read_records(_Counting(io.BytesIO(data)), "events", "test", fmt=fmt, columns=columns)
    )


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_a_table_is_typed_by_its_declared_columns(fmt: str, delimiter: str, packed: bool) -> None:
    data = _table(EVENTS, delimiter)
    assert _read(gzip.compress(data) if packed else data, fmt, COLUMNS) == EVENTS


def test_undeclared_columns_stay_text_never_guessed() -> None:
    records = _read(_table(EVENTS[:1], ","), "csv", {})
    assert records[0]["properties"]["time"] == "1700000000"
    assert records[0]["properties"]["paid"] == "true"


def test_an_empty_typed_cell_is_left_out_and_an_empty_text_cell_kept() -> None:
    data = b"event,properties.time,properties.note\ne,,\n"
    assert _read(data, "csv", {"properties.time": "integer"}) == [
        {"event": "e", "properties": {"note": ""}}
    ]


@pytest.mark.parametrize(
    ("data", "columns", "words"),
    [
        pytest.param(
            b"event,properties.time\na,1\nb,soon\n",
            {"properties.time": "integer"},
            r"events\[1\]\.properties\.time.*test, line 3, column properties\.time: expected a "
            r"whole number",
            id="bad-integer",
        ),
        pytest.param(
            b"event,time\na,1\n",
            {"properties.time": "integer"},
            r"declared column\(s\) properties\.time not in the header line \(event, time\)",
            id="declared-not-in-header",
        ),
        pytest.param(
            b"event,t\na,1,2\n",
            {},
            r"events\[0\].*line 2: 3 cells where the header has 2",
            id="ragged-row",
        ),
        pytest.param(
            b"event,p\na,{x\n",
            {"p": "json"},
            r"column p: not valid JSON",
            id="bad-json",
        ),
    ],
)
def test_a_bad_cell_names_its_record_line_and_column(
    data: bytes, columns: dict[str, str], words: str
) -> None:
    with pytest.raises(InputError, match=words):
        _read(data, "csv", columns)


def test_an_unknown_column_type_is_refused_before_reading() -> None:
    with pytest.raises(InputError, match=r"type 'date' is not one of string, integer"):
        with input_files(
            OP,
            ["events=-"],
            quiet=True,
            input_format="csv",
            columns={"time": "date"},
            stdin=io.BytesIO(b""),
        ):
            pass


def test_a_line_past_the_cap_is_refused_with_its_index() -> None:
    data = b"event\na\n" + b"x" * 5000 + b"\n"
    records = read_records(
        _Counting(io.BytesIO(data)), "events", "t", fmt="csv", max_record_bytes=1000
    )
    with pytest.raises(InputError, match=r"record 1 of t is larger than 1000 bytes"):
        list(records)


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_parquet_reads_the_same_records(packed: bool) -> None:
    data = _parquet(EVENTS)
    records = _read(gzip.compress(data) if packed else data, "parquet")
    for record in records:
        record["properties"]["tags"] = json.loads(record["properties"]["tags"])
    assert records == EVENTS


def test_parquet_timestamps_become_iso_text_and_nulls_absent_keys() -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    when = dt.datetime(2024, 5, 1, 12, 0, 1, 500000, tzinfo=dt.UTC)
    table = pa.Table.from_pylist([{"at": when, "day": when.date(), "n": None, "k": 1}])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    assert _read(sink.getvalue(), "parquet") == [
        {"at": "2024-05-01T12:00:01.500000Z", "day": "2024-05-01", "k": 1}
    ]


def test_not_parquet_is_said_without_quoting_the_file() -> None:
    with pytest.raises(InputError, match=r"test: not a Parquet file") as caught:
        _read(b"secret-token-123" * 10, "parquet")
    assert "secret-token" not in str(caught.value)


def _sent(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sorted(
        (e for e, _ in sandbox.store.raw_events(0, 2**31)),
        key=lambda e: e["properties"]["$insert_id"],
    )


@pytest.fixture
def as_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with Sandbox() as sandbox:
        monkeypatch.setenv("MIXPANEL_USERNAME", sandbox.username)
        monkeypatch.setenv("MIXPANEL_PASSWORD", sandbox.password)
        monkeypatch.setenv("MIXPANEL_PROJECT_TOKEN", sandbox.project_token)
        yield sandbox


def _import(sandbox: Sandbox, path: str, *extra: str) -> int:
    return main(
        [
            "run",
            "importEvents",
            "--base-url",
            sandbox.base_url,
            "--budgets",
            "memory",
            "-q",
            "-i",
            f"project_id={sandbox.project_id}",
            "--input-file",
            f"events={path}",
            *extra,
        ]
    )


def test_csv_and_parquet_import_as_their_json_lines_twin(
    as_user: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    many = [
        {
            "event": "e",
            "properties": {
                **EVENTS[0]["properties"],
                "$insert_id": f"i{n:06d}",
                "time": 1_700_000_000 + n,
                "tags": [],
            },
        }
        for n in range(3000)
    ]
    twin = tmp_path / "events.jsonl"
    twin.write_text("".join(json.dumps(e) + "\n" for e in many))
    assert _import(as_user, str(twin)) == 0
    expected = _sent(as_user)
    assert len(expected) == 3000
    columns = tmp_path / "columns.yaml"
    columns.write_text("".join(f"{k}: {v}\n" for k, v in COLUMNS.items()))
    table = tmp_path / "events.csv.gz"
    table.write_bytes(gzip.compress(_table(many, ",")))
    parquet = tmp_path / "events.parquet"
    parquet.write_bytes(_parquet(many))
    for path, extra in ((table, ["--columns", str(columns)]), (parquet, [])):
        as_user.store.reset()
        assert _import(as_user, str(path), *extra) == 0
        got = _sent(as_user)
        if path == parquet:
            for e in got:
                e["properties"]["tags"] = json.loads(e["properties"]["tags"])
        assert got == expected, path


def test_a_url_is_read_through_fsspec_and_resumed_by_its_identity(
    as_user: Sandbox, tmp_path: Path
) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    url = "memory://bucket/events.tsv"
    with fs.open("/bucket/events.tsv", "wb") as out:
        out.write(_table(EVENTS, "\t"))
    columns = tmp_path / "columns.json"
    columns.write_text(json.dumps(COLUMNS))
    assert _import(as_user, url, "--columns", str(columns)) == 0
    assert _sent(as_user) == sorted(EVENTS, key=lambda e: e["properties"]["$insert_id"])
    first = file_checkpoint(url, "importEvents", {}, "mixpanel-connector")
    assert first is not None
    with fs.open("/bucket/events.tsv", "wb") as out:
        out.write(_table(EVENTS[:2], "\t"))
    second = file_checkpoint(url, "importEvents", {}, "mixpanel-connector")
    assert second is not None and second.key != first.key  # a changed object starts over
    fs.rm("/bucket/events.tsv")


def test_a_missing_url_names_it_without_credentials() -> None:
    with pytest.raises(InputError, match=r"cannot read memory://nowhere/x\.csv: no such file") as e:
        with input_files(OP, ["events=memory://user:pw@nowhere/x.csv?sig=abc"], quiet=True):
            pass
    assert "pw" not in str(e.value) and "sig" not in str(e.value)
