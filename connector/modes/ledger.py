"""A compact record of the keys a stream yielded (8 bytes each), matched as a multiset on resume."""

from __future__ import annotations

from array import array
from bisect import bisect_left

__all__ = ["Ledger", "Multiset"]


class Multiset:
    """The keys yielded before a cut; `take` consumes one copy of a key if one is left."""

    def __init__(self, keys: array[int]) -> None:
        self._keys = array("q", sorted(keys))
        self._taken = bytearray(len(self._keys))

    def __len__(self) -> int:
        return len(self._keys) - sum(self._taken)

    def take(self, key: int) -> bool:
        """True (and one copy fewer) if `key` is still in the multiset."""
        keys, taken = self._keys, self._taken
        index = bisect_left(keys, key)
        while index < len(keys) and keys[index] == key:
            if not taken[index]:
                taken[index] = 1
                return True
            index += 1
        return False


class Ledger:
    """The 64-bit keys of every record yielded for one request range, in an array."""

    def __init__(self) -> None:
        self._keys: array[int] = array("q")
        self.add = self._keys.append

    def __len__(self) -> int:
        return len(self._keys)

    def multiset(self) -> Multiset:
        """A snapshot to skip, on a resumed request, the records already yielded."""
        return Multiset(self._keys)
