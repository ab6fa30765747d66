"""Vegas-style verdicts from latency: grow while more in flight buys throughput, else back off.

The rule is TCP Vegas (Brakmo and Peterson, "TCP Vegas: End to End Congestion Avoidance on a
Global Internet", IEEE JSAC 13(8), 1995) as Netflix's concurrency-limits library applies it to
requests in flight (`VegasLimit`, https://github.com/Netflix/concurrency-limits). With `limit`
requests in flight, a round trip of `rtt` and the round trip without load `rtt_noload`, the
expected throughput is `limit / rtt_noload` and the actual one `limit / rtt`; their gap times
`rtt_noload` is the number of requests that wait rather than being served:

    queue = limit * (1 - rtt_noload / rtt)

Below `alpha` more in flight still buys throughput: grow. Above `beta` latency rose without
throughput (the server, the network or this machine's CPU is saturated): back off by one.
Between them: hold. `alpha` and `beta` grow with log10(limit), as in `VegasLimit`. The verdict
is taken once per window of `limit` answers (one round trip's worth), from the window's mean
round trip; `rtt_noload` is the least round trip of the call (the batched modes send their
first request alone, which measures it). It is not forgotten after a while as `VegasLimit`'s
probe does: measured again at a settled, loaded level, it would read that level's queue as
no queue and the limit would climb back (the drift Vegas is known for). A server whose latency
rose for good reads as a queue: the limit settles lower, where the queue is below `beta`, and
429s still halve it. Latency within TOLERANCE_S of `rtt_noload` counts as no
queue (timer and scheduling noise on a busy machine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Round trips this close to `rtt_noload` are no queue.
TOLERANCE_S = 0.002


@dataclass(frozen=True)
class Verdict:
    """A window's decision: +1 grow, 0 hold, -1 back off, and what it was read from."""

    step: int
    queue: float
    rtt_s: float
    noload_s: float

    def describe(self) -> str:
        """How the decision was reached, for `-v`."""
        return (
            f"queue {self.queue:.1f} (round trip {self.rtt_s * 1000:.0f} ms, "
            f"without load {self.noload_s * 1000:.0f} ms)"
        )


def thresholds(limit: int) -> tuple[float, float]:
    """(alpha, beta) at `limit`: grow below alpha, back off above beta."""
    scale = math.log10(max(limit, 10))
    return 3 * scale, 6 * scale


class LatencyWindow:
    """Collects round trips of good answers and gives a `Verdict` once per window."""

    def __init__(self) -> None:
        self._noload = math.inf
        self._count = 0
        self._total = 0.0
        self._least = math.inf

    def add(self, rtt_s: float, limit: int) -> Verdict | None:
        """Count one round trip; the verdict when `limit` of them have come, else None."""
        self._count += 1
        self._total += rtt_s
        self._least = min(self._least, rtt_s)
        if self._count < limit:
            return None
        self._noload = noload = min(self._noload, self._least)
        mean = self._total / self._count
        self.reset()
        queued = max(0.0, mean - noload - TOLERANCE_S)
        queue = limit * queued / mean if mean > 0 else 0.0
        alpha, beta = thresholds(limit)
        step = 1 if queue < alpha else -1 if queue > beta else 0
        return Verdict(step, queue, mean, noload)

    def reset(self) -> None:
        """Start a new window (after the limit moved for another reason)."""
        self._count, self._total, self._least = 0, 0.0, math.inf
