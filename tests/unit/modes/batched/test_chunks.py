"""Batching: exact request limits, bounded streaming, merged partial failures, short errors."""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from connector import InputError, load_component
from connector.core.jsonenc import json_bytes as encode
from connector.core.redact import Redactor
from connector.modes.batched.chunks import batches
from connector.modes.batched.lanes import QUEUED
from connector.modes.batched.pool import BUILDERS
from connector.modes.batched.records import RecordPlan
from connector.send.attempts import NO_RETRY
from connector.send.response import RawResponse
from connector.send.retry import RetryPolicy
from tests.http.helpers import FakeClock

CONNECTION = {"username": "u", "password": "p-secret", "projectToken": "tok-123456"}
IMPORT = {"project_id": "1"}


def event(n: int, **extra: Any) -> dict[str, Any]:
    props = {"time": 1618716477 + n, "distinct_id": f"user-{n}", "$insert_id": f"id-{n}", **extra}
    return {"event": "Played", "properties": props}


class Recorder:
    """A transport that answers like /import and keeps every body it got, decompressed."""

    def __init__(self, answer: Any = None, status: int = 200) -> None:
        self.bodies: list[list[dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.answer = answer
        self.status = status

    def send(self, request: Any, authorization: str | None) -> RawResponse:
        raw = request.content
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw)
        with self.lock:
            self.bodies.append(body)
        answer = self.answer(body) if callable(self.answer) else self.answer
        answer = answer or {"code": 200, "num_records_imported": len(body), "status": "OK"}
        status = 400 if "failed_records" in answer else self.status
        return RawResponse(
            status, {"content-type": "application/json"}, json.dumps(answer).encode()
        )


def component(transport: Any, **options: Any) -> Any:
    made = load_component(retry=NO_RETRY, **options)
    made.transport = transport
    return made


@pytest.mark.parametrize(
    ("count", "sizes"), [(2000, [2000]), (2001, [2000, 1]), (4000, [2000, 2000])]
)
def test_requests_hold_at_most_2000_records(count: int, sizes: list[int]) -> None:
    recorder = Recorder()
    data = component(recorder).run(
        "importEvents", {**IMPORT, "events": [event(n) for n in range(count)]}, CONNECTION
    )["data"]
    assert sorted(len(body) for body in recorder.bodies) == sorted(sizes)
    ids = [e["properties"]["$insert_id"] for body in recorder.bodies for e in body]
    assert sorted(ids) == sorted(f"id-{n}" for n in range(count))  # each exactly once
    assert data["records_sent"] == data["records_imported"] == data["num_records_imported"] == count
    assert data["requests"] == len(sizes) and data["requests_retried"] == 0


def _padded(n: int, size: int) -> dict[str, Any]:
    """An event whose compact JSON is exactly `size` bytes."""
    base = event(n, pad="")
    missing = size - len(encode(base))
    return event(n, pad="x" * missing)


@pytest.mark.parametrize(
    ("size", "sizes"),
    [
        pytest.param(999_998, [10], id="just-under-10MB"),  # 1 + 10 * 999,999 = 9,999,991 bytes
        pytest.param(999_999, [9, 1], id="just-over-10MB"),  # 10,000,001 bytes: split
    ],
)
def test_a_request_stays_within_10_mb_of_json(size: int, sizes: list[int]) -> None:
    op = load_component().spec.actions["importEvents"]
    plan = RecordPlan(op, {}, CONNECTION)
    events = [_padded(n, size) for n in range(10)]
    assert {len(encode(e)) for e in events} == {size}
    made = list(batches(iter(events), plan, [], max_items=2000, max_bytes=op.batch["max_bytes"]))
    assert [len(b.records) for b in made] == sizes
    for batch in made:
        assert batch.size == len(encode(batch.records)) <= 10_000_000


def test_the_byte_limit_holds_on_the_wire() -> None:
    recorder = Recorder()
    events = [_padded(n, 999_999) for n in range(10)]
    component(recorder).run(
        "importEvents", {**IMPORT, "events": events, "gzip": "false"}, CONNECTION
    )
    assert sorted(len(b) for b in recorder.bodies) == [1, 9]


def test_an_event_over_1_mb_is_refused_by_index_and_the_rest_go() -> None:
    recorder = Recorder()
    events = [event(0), _padded(1, 1_000_001), event(2)]
    data = component(recorder).run("importEvents", {**IMPORT, "events": events}, CONNECTION)["data"]
    assert [e["properties"]["$insert_id"] for e in recorder.bodies[0]] == ["id-0", "id-2"]
    # One request went: Mixpanel's answer as sent, the refusal under the connector's own key.
    assert "failed_records" not in data and data["code"] == 200
    [failed] = data["records_refused"]
    assert failed["index"] == 1 and failed["$insert_id"] == "id-1"
    assert "1,000,001 bytes of JSON" in failed["message"]
    assert (data["records_sent"], data["records_failed"]) == (2, 1)


def test_a_generator_is_streamed_with_bounded_batches_in_flight() -> None:
    consumed = itertools.count()
    high_water: list[int] = []
    recorder = Recorder()

    def generate() -> Iterator[dict[str, Any]]:
        for n in range(30_000):
            next(consumed)
            yield event(n)

    class Watching(Recorder):
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            answer = super().send(request, authorization)
            high_water.append(next(consumed) - 2000 * len(self.bodies))
            return answer

    watcher = Watching()
    data = component(watcher).run(
        "importEvents", {**IMPORT, "events": generate()}, CONNECTION, workers=2
    )["data"]
    assert data["records_imported"] == 30_000 and len(watcher.bodies) == 15
    # Read ahead of what was sent, at most: a batch per worker, the queue, the requests being
    # built and the one being read (the input is never read whole: 30,000 events here).
    ahead = 2 + QUEUED + BUILDERS + 1 + 1
    assert max(high_water) <= ahead * 2000 + len(watcher.bodies) < 30_000
    del recorder


def test_partial_failures_map_back_to_the_callers_index() -> None:
    def answer(body: list[dict[str, Any]]) -> dict[str, Any]:
        # Mixpanel refuses the second event of every request (its index within the request)
        if len(body) < 2:
            return {"code": 200, "num_records_imported": len(body), "status": "OK"}
        second = body[1]["properties"]["$insert_id"]
        failed = [{"index": 1, "$insert_id": second, "field": "f", "message": "too old"}]
        imported = len(body) - 1
        return {"code": 400, "num_records_imported": imported, "failed_records": failed}

    events = [event(n) for n in range(4002)]
    events[5] = {
        "event": "bad",
        "properties": {"time": 5, "distinct_id": "d", "$insert_id": "id-5"},
    }
    recorder = Recorder(answer)
    data = component(recorder).run(
        "importEvents", {**IMPORT, "events": events}, CONNECTION, workers=3
    )["data"]
    # Local refusal: index 5. Records are taken 2000 at a time, so the requests hold callers'
    # 0-1999 (without 5), 2000-3999 and 4000-4001; Mixpanel refuses the 2nd of each request,
    # which is callers' 1, 2001 and 4001.
    sent_second = sorted(
        body[1]["properties"]["$insert_id"] for body in recorder.bodies if len(body) > 1
    )
    failed = data["failed_records"]
    assert sorted(len(body) for body in recorder.bodies) == [2, 1999, 2000]
    assert [f["index"] for f in failed] == [1, 5, 2001, 4001]
    assert [f["$insert_id"] for f in failed] == ["id-1", "id-5", "id-2001", "id-4001"]
    assert sent_second == ["id-1", "id-2001", "id-4001"]
    assert failed[1]["field"] == "properties.time" and "before 1971" in failed[1]["message"]
    assert data["records_failed"] == 4
    assert data["records_sent"] == 4001
    assert data["num_records_imported"] == data["records_imported"] == 4001 - 3


def test_retries_are_counted_and_repeat_the_same_body() -> None:
    calls: list[bytes] = []

    class FlakyOnce:
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            calls.append(request.content)
            if len(calls) == 1:
                return RawResponse(503, {}, b"busy")
            return RawResponse(
                200,
                {"content-type": "application/json"},
                b'{"code":200,"num_records_imported":3,"status":"OK"}',
            )

    made = load_component(clock=FakeClock(), retry=RetryPolicy(max_attempts=3))
    made.transport = FlakyOnce()
    data = made.run("importEvents", {**IMPORT, "events": [event(n) for n in range(3)]}, CONNECTION)[
        "data"
    ]
    assert (data["requests"], data["requests_retried"], data["records_imported"]) == (2, 1, 3)
    assert calls[0] == calls[1]


def test_track_answers_as_before_for_one_request_and_merges_for_more() -> None:
    class Track:
        def __init__(self) -> None:
            self.sizes: list[int] = []

        def send(self, request: Any, authorization: str | None) -> RawResponse:
            from urllib.parse import parse_qsl

            self.sizes.append(len(json.loads(dict(parse_qsl(request.content.decode()))["data"])))
            return RawResponse(200, {"content-type": "text/plain"}, b"1")

    small = component(Track()).run("trackEvents", {"events": [event(1)]}, CONNECTION)
    assert small == {"data": 1}
    track = Track()
    big = component(track).run(
        "trackEvents", {"events": [event(n) for n in range(2500)]}, CONNECTION
    )["data"]
    assert sorted(track.sizes) == [500, 2000]
    assert (big["code"], big["num_records_imported"], big["requests"]) == (200, 2500, 2)


def test_an_error_stops_the_run_and_says_what_was_sent() -> None:
    class FailsSecond(Recorder):
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            if self.bodies:
                return RawResponse(401, {"content-type": "application/json"}, b'{"error":"bad"}')
            return super().send(request, authorization)

    with pytest.raises(Exception) as caught:
        component(FailsSecond()).run(
            "importEvents",
            {**IMPORT, "events": [event(n) for n in range(4500)]},
            CONNECTION,
            workers=1,
        )
    assert "2000 record(s) had been sent in 1 request(s), 2000 imported" in str(caught.value)


def test_a_20000_event_error_stays_short_and_points_by_index() -> None:
    events = [
        {"event": "e", "properties": {"time": 1, "distinct_id": "x" * 5000}} for _ in range(20_000)
    ]
    with pytest.raises(InputError) as caught:
        component(Recorder()).run("importEvents", {**IMPORT, "events": events}, CONNECTION)
    text = str(caught.value)
    assert len(text) < 1000
    assert "Events[0].properties" in text and "19,997 more event(s)" in text


@pytest.mark.parametrize(
    ("events", "words"),
    [
        pytest.param({"event": "x"}, "is not of type 'array'", id="mapping"),
        pytest.param(iter(()), "is required", id="empty-generator"),
        pytest.param(7, "is not of type 'array'", id="number"),
    ],
)
def test_inputs_that_are_not_records_are_input_errors(events: Any, words: str) -> None:
    recorder = Recorder()
    with pytest.raises(InputError, match=words):
        component(recorder).run("importEvents", {**IMPORT, "events": events}, CONNECTION)
    assert recorder.bodies == []


def test_import_is_gzipped_by_default_and_the_switch_still_works() -> None:
    seen: list[str | None] = []

    class Headers(Recorder):
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            seen.append(request.headers.get("Content-Encoding"))
            return super().send(request, authorization)

    component(Headers()).run("importEvents", {**IMPORT, "events": [event(1)]}, CONNECTION)
    component(Headers()).run(
        "importEvents", {**IMPORT, "events": [event(1)], "gzip": "false"}, CONNECTION
    )
    assert seen == ["gzip", None]


# --- ordered lanes ------------------------------------------------------------------------------


def _updates(count: int, profiles: int) -> list[dict[str, Any]]:
    return [{"$distinct_id": f"p{n % profiles}", "$set": {"seq": n}} for n in range(count)]


def _laned(records: list[dict[str, Any]], lanes: int) -> list[tuple[int, Any]]:
    from connector.modes.batched.chunks import laned_batches
    from connector.modes.batched.run import batch_plan

    made = load_component()
    op = made.spec.actions["updateMultipleProfiles"]
    plan, _, _, _ = batch_plan(made.bind(op, {"propertiesToUpdate": [records[0]]}, CONNECTION))
    refused: list[Any] = []
    return list(
        laned_batches(
            iter(records), plan, refused, order_by="$distinct_id", lanes=lanes, max_items=100
        )
    )


def test_lanes_keep_each_profile_in_one_lane_in_input_order() -> None:
    updates = _updates(2_000, 37)
    laned = _laned(updates, 4)
    lanes_of: dict[str, set[int]] = {}
    order: dict[str, list[int]] = {}
    for lane, batch in laned:
        for index, record in zip(batch.indexes, batch.records, strict=True):
            lanes_of.setdefault(record["$distinct_id"], set()).add(lane)
            order.setdefault(record["$distinct_id"], []).append(index)
    assert all(len(lanes) == 1 for lanes in lanes_of.values())  # one lane per profile
    assert {lane for lane, _ in laned} == {0, 1, 2, 3}  # and the lanes are all used
    for lane in range(4):  # a lane's batches, in the order it sends them, keep input order
        indexes = [i for ln, b in laned if ln == lane for i in b.indexes]
        assert indexes == sorted(indexes)
    assert sorted(i for _, b in laned for i in b.indexes) == list(range(2_000))
    assert [b.number for _, b in laned] == list(range(len(laned)))
    assert max(len(b.indexes) for _, b in laned) == 100


def test_lanes_are_the_same_in_every_run_and_a_small_input_stays_one_request() -> None:
    updates = _updates(1_000, 50)
    first = [(lane, b.number, b.indexes) for lane, b in _laned(updates, 8)]
    assert first == [(lane, b.number, b.indexes) for lane, b in _laned(updates, 8)]
    [(lane, single)] = _laned(_updates(100, 50), 8)
    assert (lane, single.indexes) == (0, list(range(100)))


def test_profile_updates_go_in_parallel_by_default_and_each_profile_in_order() -> None:
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most

    class Engage:
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
            body = json.loads(request.content)
            time.sleep(0.01)
            with lock:
                seen.extend((u["$distinct_id"], u["$set"]["seq"]) for u in body)
                in_flight[0] -= 1
            return RawResponse(200, {"content-type": "text/plain"}, b"1")

    updates = _updates(40_000, 3_000)
    data = component(Engage()).run(
        "updateMultipleProfiles", {"propertiesToUpdate": iter(updates)}, CONNECTION
    )["data"]
    assert (
        data["records_imported"] == 40_000 and 1 < data["concurrency"] <= 16
    )  # latency may move it
    assert in_flight[1] > 1  # lanes overlapped
    last: dict[str, int] = {}
    for profile, seq in seen:  # every profile's updates arrived in the order given
        assert seq > last.get(profile, -1)
        last[profile] = seq


@pytest.mark.parametrize("one_by_one", [False, True], ids=["at-once", "one-by-one"])
def test_sent_batches_hold_only_their_json(one_by_one: bool) -> None:
    # orjson gives JSON in a buffer it never shrinks: at least 4 KB a record, and twice the
    # bytes of a whole array at worst. Batches kept as those buffers until answered held 4 KB a
    # record on the one-by-one path (250 MB for 16 batches in flight).
    op = load_component().spec.actions["importEvents"]
    plan = RecordPlan(op, {}, CONNECTION)
    events = [event(n, items=[{"sku": f"S{n}", "qty": 1}]) for n in range(4000)]
    if one_by_one:  # a record too deep in each chunk: every record is checked on its own
        events[7] = events[2007] = event(7, a={"b": {"c": {"d": {"e": 1}}}})
    refused: list[Any] = []
    tracemalloc.start()
    try:
        made = list(batches(iter(events), plan, refused, max_items=2000, max_bytes=10_000_000))
        for batch in made:
            batch.sent()  # as rendering does: the records kept only as the JSON sent
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sent = sum(batch.size for batch in made)
    assert [len(batch.records) for batch in made] == [1999, 1999] if one_by_one else [2000] * 2
    assert [r.index for r in refused] == ([7, 2007] if one_by_one else [])
    assert [batch.records[5] for batch in made] == [events[5], events[2005]]
    assert held < 1.5 * sent, f"{held:,} bytes held for {sent:,} bytes of JSON"


def test_one_record_with_a_secret_field_in_a_chunk_sent_at_once_is_masked() -> None:
    # The chunk passes its checks and is encoded in one go: its records' `secret_fields` are
    # still noted for masking, and the token stays no part of the derived $insert_id.
    op = load_component().spec.actions["importEvents"]

    def sent(events: list[Any], secrets: Redactor) -> list[Any]:
        plan = RecordPlan(op, IMPORT, CONNECTION, secrets)
        made = list(batches(iter(events), plan, [], max_items=2000, max_bytes=10_000_000))
        assert len(made) == 1
        return list(made[0].records)

    def unnamed(n: int) -> dict[str, Any]:
        props = {"time": 1618716477 + n, "distinct_id": f"user-{n}"}
        return {"event": "Played", "properties": props}

    events = [unnamed(n) for n in range(2000)]
    events[1234]["properties"]["token"] = "record-secret-1234"
    secrets = Redactor()
    records = sent(events, secrets)
    assert "record-secret-1234" in secrets
    assert secrets.text(json.dumps(records[1234])).count("record-secret") == 0
    same = sent([unnamed(n) for n in range(2000)], Redactor())
    ids = [[e["properties"]["$insert_id"] for e in r] for r in (records, same)]
    assert ids[0] == ids[1]
