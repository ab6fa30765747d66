"""A raw-socket export server on 127.0.0.1 whose answers misbehave as scripted.

Each request for a day takes the next `Answer` scripted for that day (a whole, well-framed
answer once none is left): its framing (Content-Length, chunked, closing the connection), gzip
or not, where it is cut, a line nested deep or very long, a drip of one byte at a time (of the
body, or of the status line and headers).
"""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tests.loopback import RawServer


@dataclass(frozen=True)
class Answer:
    """How one answer goes wrong (the defaults: a whole answer framed by Content-Length)."""

    framing: str = "length"  # length | chunked | close
    gzip: bool = False
    cut: str = "none"  # none | line (after a whole line) | mid (inside a line) | trailer (gzip)
    deep: int = 0  # a line nested this deep, when > 0
    long: int = 0  # a line of this many bytes, when > 0
    drip_s: float = 0.0  # `drip_bytes` of the body every drip_s seconds, when > 0
    drip_bytes: int = 1
    head_drip_s: float = 0.0  # the status line and headers one byte every head_drip_s, when > 0
    raw: bytes = b""  # when set, sent as it is (head and body)


def day_lines(day: str, count: int) -> list[bytes]:
    """The export lines of `day`: `count` events with distinct `$insert_id`s."""
    return [
        json.dumps(
            {
                "event": "Purchase",
                "properties": {
                    "time": 1704067200 + n,
                    "distinct_id": f"user-{n}",
                    "$insert_id": f"{day}-{n:05d}",
                    "items": [{"sku": f"S{n}", "qty": n % 4}],
                },
            }
        ).encode()
        for n in range(count)
    ]


def _nested(depth: int) -> bytes:
    inner = b"[" * depth + b"]" * depth
    return b'{"event":"Deep","properties":{"$insert_id":"deep","x":' + inner + b"}}"


class HostileServer(RawServer):
    """Serves `/api/2.0/export` per the scripts in `plans[day]`; `served[day]` counts requests."""

    def __init__(self, per_day: int = 40) -> None:
        self.per_day = per_day
        self.plans: dict[str, deque[Answer]] = defaultdict(deque)
        self.served: dict[str, int] = defaultdict(int)
        super().__init__()

    def answer(self, conn: socket.socket, head: bytes) -> None:
        query = parse_qs(urlsplit(head.split(b" ", 2)[1].decode()).query)
        day = query.get("from_date", ["?"])[0]
        self.served[day] += 1
        plan = self.plans[day].popleft() if self.plans[day] else Answer()
        self._send(conn, plan, day)

    def _send(self, conn: socket.socket, plan: Answer, day: str) -> None:
        if plan.raw:
            conn.sendall(plan.raw)
            return
        lines = day_lines(day, self.per_day)
        if plan.deep:
            lines.insert(len(lines) // 2, _nested(plan.deep))
        if plan.long:
            lines.insert(
                1,
                b'{"event":"Long","properties":{"$insert_id":"long","x":"'
                + b"x" * plan.long
                + b'"}}',
            )
        body = b"".join(line + b"\n" for line in lines)
        if plan.gzip:
            body = gzip.compress(body, mtime=0)
        # the cut happens on the wire: what was sent is a prefix of the whole answer
        if plan.cut == "line" and not plan.gzip:
            body = b"".join(line + b"\n" for line in lines[: len(lines) // 2])
        elif plan.cut in ("line", "mid"):
            body = body[: len(body) // 2 + 3]
        elif plan.cut == "trailer" and plan.gzip:
            body = body[:-8]
        headers = [b"HTTP/1.1 200 OK", b"Content-Type: application/json"]
        if plan.gzip:
            headers.append(b"Content-Encoding: gzip")
        if plan.framing == "length":
            # a cut body promises more than it sends: the client sees it end early
            length = len(body) if plan.cut == "none" else len(body) + 100
            headers.append(b"Content-Length: %d" % length)
        elif plan.framing == "chunked":
            headers.append(b"Transfer-Encoding: chunked")
        headers.append(b"Connection: close")
        head = b"\r\n".join(headers) + b"\r\n\r\n"
        if plan.head_drip_s:
            for at in range(len(head)):
                conn.sendall(head[at : at + 1])
                time.sleep(plan.head_drip_s)
        else:
            conn.sendall(head)
        if plan.framing == "chunked":
            pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
            framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
            body = framed + (b"0\r\n\r\n" if plan.cut == "none" else b"")
        if plan.drip_s:
            step = plan.drip_bytes
            for at in range(0, len(body), step):
                conn.sendall(body[at : at + step])
                time.sleep(plan.drip_s)
            return
        conn.sendall(body)
