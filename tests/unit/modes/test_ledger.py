from __future__ import annotations

from connector.modes.ledger import Ledger


def test_the_multiset_takes_each_copy_once() -> None:
    ledger = Ledger()
    for key in (5, -3, 5, 9, 2**62):
        ledger.add(key)
    assert len(ledger) == 5
    seen = ledger.multiset()
    assert [seen.take(k) for k in (5, 5, 5, -3, -3, 7, 2**62)] == [
        True,
        True,
        False,
        True,
        False,
        False,
        True,
    ]
    assert len(seen) == 1  # 9 is left


def test_a_snapshot_does_not_change_with_later_keys() -> None:
    ledger = Ledger()
    ledger.add(1)
    seen = ledger.multiset()
    ledger.add(2)
    assert not seen.take(2)
    assert ledger.multiset().take(2)
