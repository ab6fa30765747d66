"""Decompresses request bodies (gzip, deflate) piece by piece, never past a cap."""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class TooLarge(Exception):
    """The decompressed body would exceed the cap."""


class NotCompressed(Exception):
    """The body does not decode with the encoding it declares."""


def decode_body(raw: bytes, encoding: str, limit: int) -> bytes:
    """`raw` decoded per its Content-Encoding (gzip also by its magic bytes), at most `limit` bytes.

    Raises TooLarge beyond `limit` (having decompressed no more than `limit` + 1 bytes) and
    NotCompressed when the data is truncated or corrupt.
    """
    name = encoding.strip().lower()
    if name not in _WBITS:
        if raw[:2] != GZIP_MAGIC:
            return raw
        name = "gzip"
    return _inflate(raw, _WBITS[name], limit, members=name != "deflate")


def _inflate(raw: bytes, wbits: int, limit: int, *, members: bool) -> bytes:
    out = bytearray()
    data = raw
    while True:
        stream = zlib.decompressobj(wbits)
        pending = data
        try:
            while not stream.eof:
                piece = stream.decompress(pending, limit + 1 - len(out))
                out += piece
                if len(out) > limit:
                    raise TooLarge(limit)
                pending = stream.unconsumed_tail
                if not piece and not pending:
                    raise NotCompressed("the compressed data ends too early")
        except zlib.error as exc:
            raise NotCompressed(str(exc)) from None
        data = stream.unused_data
        if not members or not data.strip(b"\0"):  # gzip allows members back to back
            if data.strip(b"\0"):
                raise NotCompressed("data after the end of the compressed stream")
            return bytes(out)
