"""The memory that request bodies in flight may hold, across every connection of one server."""

from __future__ import annotations


class BodyMemory:
    """A budget of bytes for request bodies, shared by the connections of one server.

    Bytes are taken as bodies are admitted (their Content-Length) or arrive (chunked), and given
    back once the request is answered or its connection closes. Only the I/O thread uses it,
    so it needs no lock.
    """

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError(f"the memory for request bodies must be positive, not {limit}")
        self.limit, self.held = limit, 0

    def take(self, size: int) -> bool:
        """Hold `size` more bytes; False (holding nothing more) when that would pass the limit."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        """Stop holding `size` bytes."""
        self.held -= size
