"""Pieces shared by the patterns: single-flight loading, write generations, the
"not found" marker of negative caching, argument checks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .. import _validate
from ..backends import check_key

__all__ = [
    "NOT_FOUND",
    "AsyncSingleFlight",
    "Generations",
    "KeyLocks",
    "SingleFlight",
    "check_backend",
    "check_key",
    "check_positive_int",
    "check_source",
    "check_ttl",
    "is_not_found",
]

T = TypeVar("T")

#: What negative caching stores in a backend for "the source has no such key". A plain
#: ``str`` so that every serialiser (JSON, msgpack, pickle) carries it unchanged; the NULs
#: make a collision with real data implausible.
NOT_FOUND = "\x00fastcache:not-found\x00"


def is_not_found(value: object) -> bool:
    """True when ``value`` is the negative-caching marker."""
    return value.__class__ is str and value == NOT_FOUND


def check_ttl(ttl: float | None, name: str = "ttl", *, allow_none: bool = True) -> float | None:
    """Validate a TTL in seconds: ``None`` (when allowed) or a real number > 0."""
    return _validate.ttl(ttl, name, optional=allow_none)


def check_positive_int(value: int, name: str) -> int:
    """Validate an ``int`` >= 1 (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return value


def check_backend(backend: object, name: str = "backend") -> None:
    """Refuse something without the backend methods the patterns call."""
    for method in ("get", "set", "add", "delete"):
        if not callable(getattr(backend, method, None)):
            raise TypeError(f"{name} must implement the Backend protocol (no {method}())")


def check_source(source: object, name: str = "source") -> None:
    """Refuse something without the data-source methods."""
    for method in ("get", "set", "delete"):
        if not callable(getattr(source, method, None)):
            raise TypeError(f"{name} must implement the DataSource protocol (no {method}())")


class Generations:
    """Per-key write counters, striped over a fixed table (memory does not grow with keys).

    A loader reads the counter of its key before reading the source and fills the cache
    only if it has not moved since: a write (or an invalidation) that happened in between
    would otherwise be overwritten by the older value it raced with. Two keys sharing a
    stripe only cost a skipped fill, never a stale one.
    """

    __slots__ = ("_counts", "_locks", "_mask")

    def __init__(self, stripes: int = 1024) -> None:
        self._mask = stripes - 1
        self._counts = [0] * stripes
        self._locks = [threading.Lock() for _ in range(64)]

    def lock(self, key: str) -> threading.Lock:
        """The lock that a fill (check then store) and an invalidation (bump then delete)
        of ``key`` hold, so that no invalidation slips between a fill's check and store."""
        return self._locks[hash(key) & 63]

    def read(self, key: str) -> int:
        """The current counter of ``key``'s stripe."""
        return self._counts[hash(key) & self._mask]

    def bump(self, key: str) -> None:
        """Record a write of ``key`` (a lost concurrent increment still moves the counter)."""
        self._counts[hash(key) & self._mask] += 1

    def bump_all(self) -> None:
        """Record a write of every key (after a clear)."""
        for i in range(len(self._counts)):
            self._counts[i] += 1


class _Call:
    __slots__ = ("error", "event", "value")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class SingleFlight:
    """At most one call per key at a time across threads; the others wait for its result
    (or its exception). No lock is held while the function runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}

    def do(self, key: str, fn: Callable[[], T]) -> T:
        """Run ``fn()`` for ``key`` unless a call for ``key`` is running: then wait for it."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
        if not leader:
            call.event.wait()
            if call.error is not None:
                raise call.error
            return call.value  # type: ignore[no-any-return]
        try:
            call.value = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.event.set()
        return call.value  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return len(self._calls)


class AsyncSingleFlight:
    """:class:`SingleFlight` for asyncio tasks of one event loop. A waiter that is
    cancelled does not cancel the shared load; the leader being cancelled hands the
    ``CancelledError`` to nobody else: waiters retry."""

    def __init__(self) -> None:
        self._calls: dict[str, asyncio.Future[Any]] = {}

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` for ``key`` unless a call for ``key`` is running: then share it."""
        while True:
            fut = self._calls.get(key)
            if fut is None:
                break
            try:
                return await asyncio.shield(fut)
            except asyncio.CancelledError:
                if not fut.cancelled():
                    raise  # we were cancelled ourselves
        fut = asyncio.get_running_loop().create_future()
        self._calls[key] = fut
        try:
            value = await fn()
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: no "never retrieved" warning without waiters
            raise
        else:
            fut.set_result(value)
            return value
        finally:
            del self._calls[key]

    def __len__(self) -> int:
        return len(self._calls)


class KeyLocks:
    """An ``asyncio.Lock`` per key, created on demand and dropped when nobody holds or
    waits for it: ``async with locks.hold(key): ...``."""

    def __init__(self) -> None:
        self._table: dict[str, list[Any]] = {}  # key -> [lock, users]

    def hold(self, key: str) -> _Held:
        """An async context manager holding ``key``'s lock."""
        return _Held(self._table, key)

    def __len__(self) -> int:
        return len(self._table)


class _Held:
    __slots__ = ("entry", "key", "table")

    def __init__(self, table: dict[str, list[Any]], key: str) -> None:
        self.table = table
        self.key = key
        entry = table.get(key)
        if entry is None:
            entry = table[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        self.entry = entry

    async def __aenter__(self) -> None:
        try:
            await self.entry[0].acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.entry[0].release()
        self._leave()

    def _leave(self) -> None:
        self.entry[1] -= 1
        if self.entry[1] == 0:
            del self.table[self.key]
