"""A loopback raw-export server for stream tests: JSON lines per day, scripted cuts, gzip.

A request for `from_date`..`to_date` gets the lines of every day of the range, in order.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import RawServer


@dataclass
class Plan:
    """How one answer goes: cut after `cut_after` lines (how: close, reset, marker, stall),
    in reverse order or not, gzip-compressed when the client asks and `gzip` is set."""

    cut_after: int | None = None
    how: str = "close"
    reverse: bool = False
    gzip: bool = True
    status: int = 200
    reprocessed: bool = False  # a field outside the de-dup key differs from the last answer


def event(day: str, n: int, **extra: Any) -> dict[str, Any]:
    """A realistic export event of `day` with nested values."""
    return {
        "event": "Purchase" if n % 3 else "Page View",
        "properties": {
            "time": 1704067200 + n,
            "distinct_id": f"user-{n % 97}",
            "$insert_id": f"{day}-{n:08d}",
            "mp_processing_time_ms": 1704067200000 + n,
            "price": n * 1.5,
            "items": [{"sku": f"S{n}", "qty": n % 4}],
            "flags": {"new": n % 2 == 0, "coupon": None},
            **extra,
        },
    }


class ExportServer(RawServer):
    """Serves `/api/2.0/export` on 127.0.0.1 with chunked encoding, one connection a request.

    `lines(day)` gives that day's JSON lines; `plans[day]` is consumed one Plan per request
    whose range starts on that day (a full answer when none is left). `requests` records
    (path, query, headers).
    """

    def __init__(self, lines: Callable[[str], Iterable[bytes]]) -> None:
        self.lines = lines
        self.plans: dict[str, list[Plan]] = {}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        super().__init__(threaded=False)

    def __enter__(self) -> ExportServer:
        return self

    def answer(self, conn: socket.socket, head: bytes) -> None:
        lines = head.decode().split("\r\n")
        target = urlsplit(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        query = parse_qs(target.query)
        self.requests.append((target.path, query, headers))
        day = query.get("from_date", [""])[0]
        queue = self.plans.get(day) or []
        plan = queue.pop(0) if queue else Plan()
        zipped = plan.gzip and "gzip" in headers.get("accept-encoding", "")
        conn.sendall(
            f"HTTP/1.1 {plan.status} X\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n".encode()
            + (b"Content-Encoding: gzip\r\n" if zipped else b"")
            + b"\r\n"
        )
        compressor = gzip.GzipFile(fileobj=_Sink(conn), mode="wb") if zipped else None
        out: Callable[[bytes], None] = compressor.write if compressor else _Sink(conn).write
        source: Iterable[bytes] = _range_lines(self.lines, day, query.get("to_date", [day])[0])
        if plan.reverse:
            source = list(reversed(list(source)))
        for line in _limited(source, plan.cut_after):
            if plan.reprocessed:
                line = line.replace(b'"mp_processing_time_ms":1', b'"mp_processing_time_ms":2')
            out(line + b"\n")
        if plan.cut_after is None:
            if compressor:
                compressor.close()
            conn.sendall(b"0\r\n\r\n")
            return
        if plan.how == "marker":
            out(b"terminated early\n")
            if compressor:
                compressor.close()
            conn.sendall(b"0\r\n\r\n")
        elif plan.how == "reset":
            if compressor:
                compressor.flush()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif plan.how == "stall":
            if compressor:
                compressor.flush()
            time.sleep(1.0)
        elif compressor:
            compressor.flush()  # then close without the last chunk: a cut mid-answer


def _range_lines(lines: Callable[[str], Iterable[bytes]], first: str, last: str) -> Iterator[bytes]:
    if not first:
        yield from lines(first)
        return
    day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)
    while day <= end:
        yield from lines(day.isoformat())
        day += dt.timedelta(days=1)


def _limited(source: Iterable[bytes], count: int | None) -> Iterator[bytes]:
    for n, line in enumerate(source):
        if count is not None and n >= count:
            return
        yield line


class _Sink:
    """Writes each piece as one HTTP chunk."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn

    def write(self, data: bytes) -> int:
        if data:
            self.conn.sendall(f"{len(data):x}\r\n".encode() + bytes(data) + b"\r\n")
        return len(data)

    def flush(self) -> None:
        pass


def day_lines(events: dict[str, list[dict[str, Any]]]) -> Callable[[str], list[bytes]]:
    """A `lines` source from events by day (compact JSON, as Mixpanel sends)."""
    encoded = {
        d: [json.dumps(e, separators=(",", ":")).encode() for e in v] for d, v in events.items()
    }
    return lambda day: encoded.get(day, [])
