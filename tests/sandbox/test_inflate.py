"""Request bodies decompress piece by piece up to a cap; a gzip bomb is refused with 413."""

from __future__ import annotations

import gzip
import http.client
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from connector.sandbox import Sandbox
from connector.sandbox.inflate import NotCompressed, TooLarge, decode_body
from connector.sandbox.responses.ingestion import MAX_BYTES

ROOT = Path(__file__).resolve().parents[2]


def _bomb(compressed_bytes: int) -> bytes:
    """Back-to-back gzip members of zeros: about 1000 times larger once decompressed."""
    member = gzip.compress(b"\0" * (16 << 20), 9)
    return member * (compressed_bytes // len(member) + 1)


def test_gzip_and_deflate_decode_with_their_members() -> None:
    text = b"hello " * 1000
    zipped = gzip.compress(text)
    assert decode_body(zipped, "gzip", 10_000) == text
    assert decode_body(zipped, "", 10_000) == text  # recognised by its magic bytes
    assert decode_body(zipped + gzip.compress(b"!"), "GZip ", 10_000) == text + b"!"
    assert decode_body(zlib.compress(text), "deflate", 10_000) == text
    assert decode_body(b'{"a": 1}', "", 10) == b'{"a": 1}'
    assert decode_body(zipped, "gzip", len(text)) == text  # exactly the cap is allowed


@pytest.mark.parametrize(
    "raw", [gzip.compress(b"x" * 500)[:-9], b"\x1f\x8b\x08garbage", gzip.compress(b"x") + b"junk"]
)
def test_truncated_or_corrupt_data_is_refused(raw: bytes) -> None:
    with pytest.raises(NotCompressed):
        decode_body(raw, "gzip", 10_000)


def test_the_cap_stops_decompression() -> None:
    with pytest.raises(TooLarge):
        decode_body(gzip.compress(b"x" * 1001), "gzip", 1000)
    with pytest.raises(TooLarge):
        decode_body(_bomb(1 << 20), "gzip", MAX_BYTES)


def _post(base_url: str, body: bytes, path: str = "/import?project_id=1") -> tuple[int, bytes]:
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_a_gzip_bomb_gets_413_in_mixpanel_shape(sandbox: Sandbox) -> None:
    status, body = _post(sandbox.base_url, _bomb(1 << 20))
    assert status == 413
    assert body == (
        b'{"code":413,"error":"request exceeds max limit of 10485760 bytes",'
        b'"status":"Request Entity Too Large"}'
    )
    status, body = _post(sandbox.base_url, _bomb(1 << 16), "/track")
    assert (status, body) == (
        413,
        b'{"error":"request exceeds max limit of 10485760 bytes","status":"error"}',
    )
    status, body = _post(sandbox.base_url, b"\x1f\x8b\x08 not gzip", "/track")
    assert status == 400 and b"not valid gzip" in body
    assert sandbox.store.raw_event_count() == 0


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_a_4_mb_gzip_bomb_does_not_raise_the_sandbox_memory() -> None:
    code = (
        "import sys, time; from connector.sandbox import Sandbox; sb = Sandbox().start(); "
        "print(sb.base_url, flush=True); sys.stdin.read(); sb.stop()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip()
            status, _ = _post(base_url, b"[]", "/track")  # warm up: every route module loaded
            before = _peak_rss_mb(proc.pid)
            bomb = _bomb(4 << 20)
            assert len(bomb) >= 4 << 20
            status, _ = _post(base_url, bomb)
            assert status == 413
            assert _peak_rss_mb(proc.pid) - before < 64  # the 4 MB body, a 10 MB cap, no more
        finally:
            proc.kill()
