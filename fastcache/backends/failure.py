"""Failure handling shared by the network backends: circuit breaker, raise-or-degrade guard.

``on_failure="raise"`` (the default): an operation that cannot reach the server raises
``BackendUnavailable`` chained to the client's error.  ``on_failure="degrade"``: reads
return a miss and writes are skipped, each logged on the ``fastcache.backends`` logger
(counters, ``incr``/``decr``, still raise: there is no safe stand-in for a number).

Either way a ``CircuitBreaker`` counts consecutive failures; after ``failure_threshold`` of
them it opens and operations fail at once (no connection attempt, no timeout to wait for);
after ``reset_timeout`` seconds one probe is let through (half-open): success closes it,
failure opens it again for another ``reset_timeout``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

from .. import _validate
from .base import BackendUnavailable

__all__ = ["RAISE", "CircuitBreaker", "FailureGuard", "OnFailure"]

log = logging.getLogger("fastcache.backends")

OnFailure = Literal["raise", "degrade"]

RAISE: Final = object()
"""Fallback meaning "raise even when degrading" (counters)."""


class CircuitBreaker:
    """Closed -> open after ``failure_threshold`` consecutive failures -> half-open probe.

    Thread-safe.  ``clock`` is injectable for tests.
    """

    CLOSED: Final = "closed"
    OPEN: Final = "open"
    HALF_OPEN: Final = "half-open"

    def __init__(self, failure_threshold: int = 5, reset_timeout: float = 5.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if type(failure_threshold) is not int or failure_threshold < 1:
            raise ValueError("failure_threshold must be an int >= 1")
        _validate.ttl(reset_timeout, "reset_timeout")
        self.failure_threshold = failure_threshold
        self.reset_timeout = float(reset_timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self.state: str = self.CLOSED
        self.failures = 0
        self.last_error: BaseException | None = None
        self._opened_at = 0.0

    def allow(self) -> bool:
        """May a call go to the server now?  (Open: no, except one probe per reset_timeout.)"""
        if self.state == self.CLOSED:
            return True
        with self._lock:
            now = self._clock()
            if now - self._opened_at >= self.reset_timeout:
                # open -> half-open, or a probe that never reported: let one call through
                self.state = self.HALF_OPEN
                self._opened_at = now
                return True
            return False

    def record_success(self) -> None:
        """The server answered: close the breaker."""
        with self._lock:
            if self.state != self.CLOSED:
                log.warning("fastcache: server answers again, circuit closed")
            self.state = self.CLOSED
            self.failures = 0
            self.last_error = None

    def record_failure(self, error: BaseException | None = None) -> None:
        """The server failed: count it, open the breaker at the threshold (or after a probe)."""
        with self._lock:
            self.failures += 1
            self.last_error = error
            if self.state == self.HALF_OPEN or self.failures >= self.failure_threshold:
                if self.state == self.CLOSED:
                    log.warning("fastcache: %d consecutive failures, circuit open for %.1f s: %s",
                                self.failures, self.reset_timeout, error)
                self.state = self.OPEN
                self._opened_at = self._clock()

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state} failures={self.failures}>"


class FailureGuard:
    """Runs client calls: maps ``errors`` to BackendUnavailable or degraded results.

    ``errors``: the client exceptions meaning "server unavailable".  ``breaker_errors``: the
    subset that count against the breaker (memcached: only "every server is down", since
    the backend fails over single servers itself).  ``fault``: recognises, among other
    exceptions, a client library's own failure on a lost connection (treated as ``errors``).
    """

    def __init__(self, name: str, errors: tuple[type[BaseException], ...],
                 on_failure: OnFailure = "raise", breaker: CircuitBreaker | None = None,
                 breaker_errors: tuple[type[BaseException], ...] | None = None,
                 fault: Callable[[BaseException], bool] | None = None) -> None:
        if on_failure not in ("raise", "degrade"):
            raise ValueError(f"on_failure must be 'raise' or 'degrade', not {on_failure!r}")
        self.name = name
        self.errors = errors
        self.breaker_errors = errors if breaker_errors is None else breaker_errors
        self.degrade = on_failure == "degrade"
        self.fault = fault
        self.breaker = breaker if breaker is not None else CircuitBreaker()

    def failed(self, op: str, fallback: object, error: BaseException | None) -> Any:
        """Handle a failure of ``op``: count it, then raise or return ``fallback``."""
        if error is not None and isinstance(error, self.breaker_errors):
            self.breaker.record_failure(error)
        if error is None:
            error = self.breaker.last_error
            message = f"{self.name}: circuit open, {op} not sent"
        else:
            message = f"{self.name}: {op} failed: {error}"
        if self.degrade and fallback is not RAISE:
            log.warning("fastcache: %s (degraded: %s)", message,
                        "miss" if op in _READS else "write skipped")
            return fallback
        raise BackendUnavailable(message) from error

    def run(self, op: str, fallback: object, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` with failure handling; ``fallback`` is the degraded result."""
        breaker = self.breaker
        if breaker.state != CircuitBreaker.CLOSED and not breaker.allow():
            return self.failed(op, fallback, None)
        try:
            result = fn(*args)
        except self.errors as e:
            return self.failed(op, fallback, e)
        except Exception as e:
            if self.fault is None or not self.fault(e):
                raise
            return self.failed(op, fallback, e)
        if breaker.failures:
            breaker.record_success()
        return result

    async def arun(self, op: str, fallback: object, fn: Callable[..., Awaitable[Any]],
                   *args: Any) -> Any:
        """``await fn(*args)`` with failure handling; ``fallback`` is the degraded result."""
        breaker = self.breaker
        if breaker.state != CircuitBreaker.CLOSED and not breaker.allow():
            return self.failed(op, fallback, None)
        try:
            result = await fn(*args)
        except self.errors as e:
            return self.failed(op, fallback, e)
        except Exception as e:
            if self.fault is None or not self.fault(e):
                raise
            return self.failed(op, fallback, e)
        if breaker.failures:
            breaker.record_success()
        return result


_READS = frozenset({"get", "get_many", "exists", "ttl"})
