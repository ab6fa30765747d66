from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.modes.window_buffer import SPOOL_BYTES, WRITE_BYTES, WindowBuffer


def test_a_buffer_gives_back_its_records_in_order_and_counts_them() -> None:
    buffer = WindowBuffer()
    records = [{"event": "a", "properties": {"n": n, "nested": [n, {"x": None}]}} for n in range(5)]
    for record in records:
        buffer.add(record)
    assert buffer.count == 5
    assert list(buffer.records()) == records
    assert list(buffer.records(limit=2)) == records[:2]
    assert buffer.size == len(b"".join(_lines(buffer)))
    buffer.close()


def test_a_large_window_moves_to_disk() -> None:
    buffer = WindowBuffer()
    big = {"event": "e", "properties": {"pad": "x" * 1000}}
    for _ in range(SPOOL_BYTES // 1000 + 10):
        buffer.add(big)
    assert getattr(buffer.file, "_rolled", True)  # spooled to a real file
    assert sum(1 for _ in buffer.records()) == buffer.count
    buffer.close()


def _lines(buffer: WindowBuffer) -> list[bytes]:
    buffer.file.seek(0)
    return list(buffer.file)


def test_fill_writes_every_record_in_blocks_and_counts_them() -> None:
    buffer = WindowBuffer()
    records = [{"n": n, "pad": "x" * (n % 700)} for n in range(3 * WRITE_BYTES // 300)]
    buffer.fill(iter(records))
    assert buffer.count == len(records)
    assert list(buffer.records()) == records
    assert buffer.size == len(b"".join(_lines(buffer)))
    buffer.close()


def test_fill_keeps_what_came_before_a_failure() -> None:
    def failing() -> Iterator[dict[str, int]]:
        yield {"n": 1}
        yield {"n": 2}
        raise ValueError("cut")

    buffer = WindowBuffer()
    with pytest.raises(ValueError, match="cut"):
        buffer.fill(failing())
    assert buffer.count == 2 and list(buffer.records()) == [{"n": 1}, {"n": 2}]
    buffer.close()


def test_fill_with_a_limit_stops_without_asking_for_more() -> None:
    pulled = []

    def numbered() -> Iterator[dict[str, int]]:
        for n in range(10):
            pulled.append(n)
            yield {"n": n}

    buffer = WindowBuffer(limit=3)
    buffer.fill(numbered())
    assert buffer.full and buffer.count == 3 and pulled == [0, 1, 2]
    assert list(buffer.records()) == [{"n": 0}, {"n": 1}, {"n": 2}]
    buffer.close()
