from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from connector import AuthError, ClientError, Component, InputError, TransportError, load_component
from connector.send.retry import RetryPolicy
from connector.send.transport import Transport
from tests.conftest import TEST_CONNECTION
from tests.http.helpers import FakeClock
from tests.unit.export_server import ExportServer, Plan, day_lines, event

DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")
INPUTS = {"from_date": DAYS[0], "to_date": DAYS[-1], "project_id": "2891273"}
ONE_DAY = {"daysPerRequest": "1"}
FAST = RetryPolicy(base_delay_s=0.0, jitter=0.0)


def _events(per_day: int = 40) -> dict[str, list[dict[str, Any]]]:
    return {day: [event(day, n) for n in range(per_day)] for day in DAYS}


def _all(events: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [e for day in DAYS for e in events[day]]


def _component(server: ExportServer, **options: Any) -> Component:
    """The component on a fake clock: budget and backoff waits take no real time."""
    clock = options.setdefault("clock", FakeClock())
    options.setdefault("retry", FAST)
    options.setdefault("rate_registry", clock.registry())
    return load_component(server.url, **options)


@pytest.fixture
def events() -> dict[str, list[dict[str, Any]]]:
    return _events()


@pytest.fixture
def server(events: dict[str, list[dict[str, Any]]]) -> Iterator[ExportServer]:
    with ExportServer(day_lines(events)) as running:
        yield running


def test_iter_yields_every_event_with_nested_types_intact(
    server: ExportServer, events: dict[str, list[dict[str, Any]]]
) -> None:
    records = list(_component(server).iter("downloadData", INPUTS, TEST_CONNECTION))
    assert records == _all(events)
    first = records[1]["properties"]
    assert first["items"] == [{"sku": "S1", "qty": 1}]
    assert first["flags"] == {"new": False, "coupon": None}
    assert isinstance(first["price"], float) and isinstance(first["time"], int)


def test_the_range_goes_in_one_gzip_request_per_window(server: ExportServer) -> None:
    list(_component(server).iter("downloadData", INPUTS, TEST_CONNECTION))
    assert [(q["from_date"], q["to_date"]) for _, q, _ in server.requests] == [
        ([DAYS[0]], [DAYS[-1]])
    ]
    server.requests.clear()
    list(_component(server).iter("downloadData", {**INPUTS, **ONE_DAY}, TEST_CONNECTION))
    assert [(q["from_date"], q["to_date"]) for _, q, _ in server.requests] == [
        ([d], [d]) for d in DAYS
    ]
    for path, query, headers in server.requests:
        assert path == "/api/2.0/export"
        assert query["project_id"] == ["2891273"]
        assert "daysPerRequest" not in query  # it shapes the requests, it is not sent
        assert headers["accept-encoding"] == "gzip"
        assert headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("last", "requests"), [("2024-01-31", 2), ("2024-12-30", 13), ("2024-01-30", 1)]
)
def test_a_month_takes_two_requests_and_a_year_thirteen(last: str, requests: int) -> None:
    with ExportServer(lambda day: [json.dumps(event(day, 0)).encode()]) as server:
        inputs = {**INPUTS, "to_date": last}
        stream = _component(server).iter("downloadData", inputs, TEST_CONNECTION)
        records = list(stream)
    days = (date.fromisoformat(last) - date(2024, 1, 1)).days + 1
    assert len(server.requests) == requests == stream.stats.requests
    assert [r["properties"]["$insert_id"][:10] for r in records] == [
        (date(2024, 1, 1) + timedelta(days=n)).isoformat() for n in range(days)
    ]
    ranges = [(q["from_date"][0], q["to_date"][0]) for _, q, _ in server.requests]
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # no shared day
    assert (stream.stats.windows, stream.stats.days) == (requests, days)


@pytest.mark.parametrize("how", ["close", "reset"])
def test_a_cut_redoes_only_its_window_with_no_loss_and_no_duplicates(
    server: ExportServer, events: dict[str, list[dict[str, Any]]], how: str
) -> None:
    server.plans[DAYS[1]] = [Plan(cut_after=17, how=how)]
    stream = _component(server).iter("downloadData", {**INPUTS, **ONE_DAY}, TEST_CONNECTION)
    records = list(stream)
    assert records == _all(events)
    assert [q["from_date"][0] for _, q, _ in server.requests] == [
        DAYS[0],
        DAYS[1],
        DAYS[1],
        DAYS[2],
    ]
    assert (stream.stats.windows, stream.stats.cuts, stream.stats.requests) == (3, 1, 4)


def test_a_cut_in_the_second_30_day_window_asks_for_that_window_again() -> None:
    days = [(date(2024, 1, 1) + timedelta(days=n)).isoformat() for n in range(60)]
    by_day = {day: [event(day, n) for n in range(3)] for day in days}
    with ExportServer(day_lines(by_day)) as server:
        server.plans["2024-01-31"] = [Plan(cut_after=40)]
        inputs = {**INPUTS, "to_date": days[-1]}
        records = list(_component(server).iter("downloadData", inputs, TEST_CONNECTION))
    assert records == [e for day in days for e in by_day[day]]
    assert [(q["from_date"][0], q["to_date"][0]) for _, q, _ in server.requests] == [
        ("2024-01-01", "2024-01-30"),
        ("2024-01-31", "2024-02-29"),
        ("2024-01-31", "2024-02-29"),
    ]


@pytest.mark.parametrize(
    "fails", [[Plan(status=500), Plan(status=502)], [Plan(cut_after=3), Plan(cut_after=9)]]
)
def test_a_window_that_keeps_failing_is_split_in_halves(
    server: ExportServer, events: dict[str, list[dict[str, Any]]], fails: list[Plan]
) -> None:
    server.plans[DAYS[0]] = fails
    stream = _component(server).iter("downloadData", INPUTS, TEST_CONNECTION)
    assert list(stream) == _all(events)
    assert [(q["from_date"][0], q["to_date"][0]) for _, q, _ in server.requests] == [
        (DAYS[0], DAYS[2]),
        (DAYS[0], DAYS[2]),
        (DAYS[0], DAYS[1]),
        (DAYS[2], DAYS[2]),
    ]
    assert (stream.stats.halved, stream.stats.windows) == (1, 2)


def test_a_refused_window_is_not_halved(server: ExportServer) -> None:
    server.plans[DAYS[0]] = [Plan(status=400)]
    with pytest.raises(ClientError, match="HTTP 400"):
        list(_component(server).iter("downloadData", INPUTS, TEST_CONNECTION))
    assert len(server.requests) == 1


def test_a_window_is_kept_from_one_complete_answer_even_if_reordered_with_duplicates() -> None:
    day = [event(DAYS[0], n) for n in range(30)]
    day.insert(5, dict(day[20]))  # Mixpanel stored this one twice: it must come out twice
    day.insert(25, dict(day[3]))
    with ExportServer(day_lines({DAYS[0]: day})) as server:
        # Cut after 10 lines, then after 12 lines of a reversed answer, then a full answer.
        server.plans[DAYS[0]] = [Plan(cut_after=10), Plan(cut_after=12, reverse=True)]
        inputs = {**INPUTS, "to_date": DAYS[0]}
        records = list(_component(server).iter("downloadData", inputs, TEST_CONNECTION))
    assert records == day
    assert len(server.requests) == 3


def test_records_of_a_cut_answer_never_reach_the_caller(
    server: ExportServer, events: dict[str, list[dict[str, Any]]]
) -> None:
    # The second answer carries another mp_processing_time_ms: only its records come out.
    server.plans[DAYS[0]] = [Plan(cut_after=15), Plan(reprocessed=True)]
    inputs = {**INPUTS, "to_date": DAYS[0]}
    records = list(_component(server).iter("downloadData", inputs, TEST_CONNECTION))
    assert [r["properties"]["$insert_id"] for r in records] == [
        e["properties"]["$insert_id"] for e in events[DAYS[0]]
    ]
    assert {r["properties"]["mp_processing_time_ms"] // 10**12 for r in records} == {2}


def test_terminated_early_is_a_cut_never_a_record(
    server: ExportServer, events: dict[str, list[dict[str, Any]]]
) -> None:
    server.plans[DAYS[0]] = [Plan(cut_after=9, how="marker"), Plan(cut_after=0, how="marker")]
    records = list(_component(server).iter("downloadData", {**INPUTS, **ONE_DAY}, TEST_CONNECTION))
    assert records == _all(events)
    assert [q["from_date"][0] for _, q, _ in server.requests].count(DAYS[0]) == 3


def test_terminated_early_every_time_fails_clearly_after_the_retries(server: ExportServer) -> None:
    server.plans[DAYS[1]] = [Plan(cut_after=5, how="marker") for _ in range(3)]
    stream = _component(server, retry=RetryPolicy(max_attempts=3, base_delay_s=0.0)).iter(
        "downloadData", {**INPUTS, **ONE_DAY}, TEST_CONNECTION
    )
    got: list[Any] = []
    with pytest.raises(TransportError) as caught:
        for record in stream:
            got.append(record)
    message = str(caught.value)
    assert "terminated early" in message and DAYS[1] in message
    assert "3 attempt(s) used" in message
    assert caught.value.attempts == 3
    assert len(got) == 40  # day 1 only: day 2's partial answers never come out
    assert all(isinstance(r, dict) for r in got)


def test_a_stalled_answer_times_out_and_resumes(
    server: ExportServer, events: dict[str, list[dict[str, Any]]]
) -> None:
    server.plans[DAYS[2]] = [Plan(cut_after=3, how="stall")]
    component = _component(server, transport=Transport(timeout_s=0.3))
    assert list(component.iter("downloadData", INPUTS, TEST_CONNECTION)) == _all(events)


def test_limit_caps_the_whole_export_and_each_day_asks_for_what_is_left(
    server: ExportServer, events: dict[str, list[dict[str, Any]]]
) -> None:
    inputs = {**INPUTS, **ONE_DAY, "limit": "50"}
    records = list(_component(server).iter("downloadData", inputs, TEST_CONNECTION))
    assert records == _all(events)[:50]
    assert [q["limit"] for _, q, _ in server.requests] == [["50"], ["10"]]


def test_each_request_draws_from_the_export_budget(server: ExportServer) -> None:
    clock = FakeClock()
    inputs = {**INPUTS, **ONE_DAY, "to_date": "2024-01-04"}
    component = _component(server, clock=clock, rate_registry=clock.registry())
    assert len(list(component.iter("downloadData", inputs, TEST_CONNECTION))) == 120
    assert clock.sleeps == [pytest.approx(1.0)]  # the 4th request waits: 3 per second
    # The per-second window is always waited for, even with no wait allowed for the hour.
    again = {**INPUTS, **ONE_DAY}
    assert len(list(component.iter("downloadData", again, TEST_CONNECTION, rate_wait_s=0))) == 120
    assert len(clock.sleeps) == 2


def test_error_statuses_raise_typed_errors(server: ExportServer) -> None:
    server.plans[DAYS[0]] = [Plan(status=401)]
    with pytest.raises(AuthError, match="HTTP 401"):
        list(_component(server).iter("downloadData", INPUTS, TEST_CONNECTION))
    server.plans[DAYS[0]] = [Plan(status=503), Plan(status=503)]
    assert len(list(_component(server).iter("downloadData", INPUTS, TEST_CONNECTION))) == 120


def test_bad_input_raises_when_iter_is_called_and_sends_nothing(server: ExportServer) -> None:
    with pytest.raises(InputError, match="`from_date`"):
        _component(server).iter("downloadData", {**INPUTS, "from_date": "2024-1-1"}, {})
    calendar = "To Date .`to_date`.: '2024-02-30' is not a calendar date written YYYY-MM-DD"
    with pytest.raises(InputError, match=calendar):
        _component(server).iter(
            "downloadData", {**INPUTS, "to_date": "2024-02-30"}, TEST_CONNECTION
        )
    assert server.requests == []


def test_a_line_that_is_not_json_is_a_clear_error_quoting_at_most_200_characters() -> None:
    lines = [b'{"event": "a", "properties": {}}', b"<html>" + b"x" * 5000]
    with ExportServer(lambda day: lines) as server:
        stream = _component(server).iter("downloadData", INPUTS, TEST_CONNECTION)
        with pytest.raises(
            ClientError, match="line 2 of the answer for 2024-01-01..2024-01-03"
        ) as caught:
            list(stream)
    assert len(str(caught.value)) < 400


def test_streaming_200k_events_keeps_peak_memory_small() -> None:
    count, block = 200_000, 1_000

    chunk = b"\n".join(
        json.dumps(event(DAYS[0], n), separators=(",", ":")).encode() for n in range(block)
    )

    def lines(day: str) -> Iterator[bytes]:
        for _ in range(count // block):
            yield chunk

    with ExportServer(lines) as server:
        inputs = {**INPUTS, "to_date": DAYS[0]}
        stream = _component(server).iter("downloadData", inputs, TEST_CONNECTION)
        tracemalloc.start()
        try:
            seen = sum(1 for _ in stream)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == count
    # Holding the events would take over 150 MB; streaming keeps 8 bytes of key per event
    # (1.6 MB) and a few read chunks (measured: 3.6 MB).
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_run_retries_an_answer_cut_by_terminated_early_and_never_returns_it(
    server: ExportServer, events: dict[str, list[dict[str, Any]]]
) -> None:
    inputs = {**INPUTS, "to_date": DAYS[0]}
    server.plans[DAYS[0]] = [Plan(cut_after=4, how="marker")]
    assert _component(server).run("downloadData", inputs, TEST_CONNECTION) == {
        "data": events[DAYS[0]]
    }
    assert len(server.requests) == 2
    server.plans[DAYS[0]] = [Plan(cut_after=4, how="marker") for _ in range(2)]
    component = _component(server, retry=RetryPolicy(max_attempts=2, base_delay_s=0.0))
    with pytest.raises(TransportError, match="early .'terminated early'.") as caught:
        component.run("downloadData", inputs, TEST_CONNECTION)
    assert caught.value.attempts == 2


def test_iter_of_a_plain_action_yields_the_items_of_its_result() -> None:
    funnels = [{"funnel_id": 7509, "name": "Signup"}, {"funnel_id": 7510, "name": "Buy"}]
    http = HTTPServer(host="127.0.0.1")
    http.start()
    try:
        http.expect_request("/api/query/funnels/list").respond_with_json(funnels)
        clock = FakeClock()
        component = load_component(
            http.url_for("/"), clock=clock, rate_registry=clock.registry(), retry=FAST
        )
        stream = component.iter("listSavedFunnels", {"project_id": "2891273"}, TEST_CONNECTION)
        assert list(stream) == funnels
        assert len(http.log) == 1
    finally:
        http.clear()
        http.stop()
