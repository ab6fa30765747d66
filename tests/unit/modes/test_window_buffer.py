from __future__ import annotations

from connector.modes.window_buffer import SPOOL_BYTES, WindowBuffer


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
