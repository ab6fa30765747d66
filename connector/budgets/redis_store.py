"""Budgets in Redis, shared by every host: one Lua script checks and records on Redis's clock.

Each budget key has two sorted sets: the calls (scored by the time they count from, see
``shared.LATE_S``) and the concurrency leases (scored by expiry). The acquire script reads
Redis's own ``TIME`` and runs atomically, so grants from every host are checked and recorded
in one order on one clock; no client's clock is trusted. A lease expires ``lease_s`` after its
last renewal; a background thread renews the leases this process holds, so a process that dies
frees its slots within ``lease_s``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..core.redact import Redactor
from ..errors import BudgetStoreError
from .memory import RateLimit
from .shared import LATE_S, Verdict
from .storeurl import url_secrets

__all__ = ["DEFAULT_LEASE_S", "RedisStore"]

log = logging.getLogger("connector.budgets")

#: Seconds a concurrency slot outlives its holder's last sign of life (override: ?lease_s=).
DEFAULT_LEASE_S = 15.0

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "
_F = "local function f(x) return string.format('%.6f', x) end "

# KEYS: calls, leases. ARGV: per_hour, per_minute, per_second, max_concurrent (0: none), late_s,
# lease_s, token, take (1: record the call; 0: only report). Returns {granted, wait_s, window}.
_ACQUIRE = (
    _NOW
    + _F
    + """
local per_hour, per_minute, per_second = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_concurrent, late = tonumber(ARGV[4]), tonumber(ARGV[5])
local lease, token, take = tonumber(ARGV[6]), ARGV[7], ARGV[8] == '1'
local horizon = per_hour > 0 and 3600 or per_minute > 0 and 60 or 1
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', f(now - horizon))
-- A running call is scored grant + late and counts from now; a completed one from its score.
local from = {}
local scores = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 2, #scores, 2 do from[#from + 1] = math.min(tonumber(scores[i]), now) end
table.sort(from)
local wait, window = 0, ''
local windows = {{per_hour, 3600, 'hour'}, {per_minute, 60, 'minute'}, {per_second, 1, 'second'}}
for _, w in ipairs(windows) do
  local allowed, span = w[1], w[2]
  if allowed > 0 then
    local inside = {}
    for _, t in ipairs(from) do
      if t + span > now then inside[#inside + 1] = t end
    end
    if #inside >= allowed then
      local frees = inside[#inside - allowed + 1] + span
      if frees - now > wait then wait, window = frees - now, w[3] end
    end
  end
end
if wait > 0 then return {0, f(wait), window} end
if max_concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', f(now))
  if redis.call('ZCARD', KEYS[2]) >= max_concurrent then return {0, '0', 'concurrency'} end
end
if not take then return {1, '0', ''} end
if max_concurrent > 0 then
  redis.call('ZADD', KEYS[2], f(now + lease), token)
  redis.call('EXPIRE', KEYS[2], math.ceil(lease) + 1)
end
if per_hour > 0 or per_minute > 0 or per_second > 0 then
  redis.call('ZADD', KEYS[1], f(now + late), token)
  redis.call('EXPIRE', KEYS[1], math.ceil(horizon + late) + 1)
end
return {1, '0', ''}
"""
)
# KEYS: calls, leases. ARGV: token. The call has completed: it counts from now; its lease ends.
_RELEASE = (
    _NOW
    + _F
    + """
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) > now then redis.call('ZADD', KEYS[1], 'XX', f(now), ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""
)
# KEYS: leases. ARGV: token, lease_s. Extends a live lease; 0 if it had already expired.
_RENEW = (
    _NOW
    + _F
    + """
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) <= now then return 0 end
redis.call('ZADD', KEYS[1], 'XX', f(now + tonumber(ARGV[2])), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""
)
# KEYS: leases. Returns how many leases are still live.
_LIVE = _NOW + _F + "return redis.call('ZCOUNT', KEYS[1], '(' .. f(now), '+inf')"


class RedisStore:
    """The ``Store`` of ``redis://`` and ``rediss://`` URLs (options: lease_s, prefix)."""

    def __init__(self, url: str, masked: str) -> None:
        """Make a client for ``url``; nothing is sent until the first call.

        Args:
            url: ``redis://[[user]:password@]host[:port][/db][?lease_s=15&prefix=budgets]``.
            masked: The URL with its password masked, for messages.

        Raises:
            BudgetStoreError: If the redis client is not installed or the URL is malformed.
        """
        self.url = masked
        # The client's own messages could quote what it read from the URL: mask those values.
        self._mask = Redactor(url_secrets(url))
        try:
            import redis
        except ImportError:
            raise BudgetStoreError(
                masked,
                "the redis client is not installed; install the extra: "
                "pip install 'mixpanel-connector[redis]'",
            ) from None
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        try:
            parts = urlsplit(url)
            options = dict(parse_qsl(parts.query))
            self._lease_s = float(options.pop("lease_s", DEFAULT_LEASE_S))
            if not self._lease_s > 0:
                raise ValueError("lease_s must be positive")
            self._prefix = options.pop("prefix", "budgets")
            client_url = urlunsplit(parts._replace(query=urlencode(options)))
            self._client = redis.Redis.from_url(
                client_url, socket_connect_timeout=5.0, socket_timeout=5.0, decode_responses=True
            )
        except ValueError as exc:
            raise BudgetStoreError(masked, self._mask.text(str(exc))) from None
        self._acquire = self._client.register_script(_ACQUIRE)
        self._release = self._client.register_script(_RELEASE)
        self._renew = self._client.register_script(_RENEW)
        self._live = self._client.register_script(_LIVE)
        self._held: dict[str, tuple[list[str], bool]] = {}  # token -> keys, holds a lease
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<RedisStore {self.url}>"

    def _keys(self, limit: RateLimit, key: str) -> list[str]:
        # The braces make both keys land on one Redis Cluster slot, as a script needs.
        base = f"{self._prefix}:{{{limit.name}:{key}}}"
        return [f"{base}:calls", f"{base}:leases"]

    def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except self._errors as exc:
            reason = self._mask.text(f"{type(exc).__name__}: {exc}")
            raise BudgetStoreError(self.url, reason) from None

    def _check(self, limit: RateLimit, key: str, token: str, take: bool) -> list[Any]:
        args = [
            limit.per_hour or 0,
            limit.per_minute or 0,
            limit.per_second or 0,
            limit.max_concurrent or 0,
            LATE_S,
            self._lease_s,
            token,
            1 if take else 0,
        ]
        result: list[Any] = self._run(self._acquire, self._keys(limit, key), args)
        return result

    def try_acquire(self, limit: RateLimit, key: str) -> Verdict:
        """Run the acquire script; start renewing the lease of a granted slot."""
        token = uuid.uuid4().hex
        granted, wait, window = self._check(limit, key, token, True)
        if not granted:
            return Verdict(None, float(wait), str(window))
        leased = limit.max_concurrent is not None
        with self._lock:
            self._held[token] = (self._keys(limit, key), leased)
            if leased and self._renewer is None:
                self._renewer = threading.Thread(
                    target=self._renew_forever, name="budget-lease-renewer", daemon=True
                )
                self._renewer.start()
        return Verdict(token)

    def release(self, limit: RateLimit, key: str, token: str) -> None:
        """Date the call's completion and drop its lease, in one script.

        If Redis cannot be reached the call keeps counting from LATE_S after its grant (later,
        never earlier) and its lease expires by itself within lease_s.
        """
        with self._lock:
            held = self._held.pop(token, None)
        if held is None:
            return
        try:
            self._release(keys=held[0], args=[token])
        except self._errors as exc:
            log.warning("cannot release a call at %s: %s", self.url, exc)

    def read_note(self, name: str) -> str | None:
        """The note kept under ``name``, unless it expired."""
        try:
            value = self._client.get(f"{self._prefix}:note:{name}")
        except self._errors as exc:
            raise BudgetStoreError(self.url, f"{type(exc).__name__}: {exc}") from None
        return None if value is None else str(value)

    def write_note(self, name: str, value: str, ttl_s: float) -> None:
        """Keep ``value`` under ``name`` for ``ttl_s`` seconds, for every sharing host."""
        try:
            self._client.set(f"{self._prefix}:note:{name}", value, ex=max(1, int(ttl_s)))
        except self._errors as exc:
            raise BudgetStoreError(self.url, f"{type(exc).__name__}: {exc}") from None

    def seconds_until_free(self, limit: RateLimit, key: str) -> float:
        """Seconds until the rate windows admit another call (0 if now)."""
        granted, wait, window = self._check(limit, key, "", False)
        return 0.0 if granted or window == "concurrency" else float(wait)

    def in_flight(self, limit: RateLimit, key: str) -> int:
        """Live leases for ``key`` across every host."""
        if limit.max_concurrent is None:
            return 0
        return int(self._run(self._live, [self._keys(limit, key)[1]], []))

    def _renew_forever(self) -> None:
        interval = self._lease_s / 3
        while True:
            time.sleep(interval)
            with self._lock:
                held = list(self._held.items())
            for token, (keys, leased) in held:
                if not leased:
                    continue
                try:
                    alive = self._renew(keys=[keys[1]], args=[token, self._lease_s])
                except self._errors as exc:
                    log.warning("cannot renew a slot lease at %s: %s", self.url, exc)
                    continue
                if not alive and token in self._held:
                    log.warning("a slot lease at %s expired while its call ran", self.url)
