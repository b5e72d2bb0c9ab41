"""Read-through, cache-aside, write-through and write-around, sync and async.

All four share one read path: look in the backend; on a miss, load once per key at a time
(single flight across threads, or across tasks for the ``Async*`` classes), then fill the
backend with ``add`` (never ``set``) and only if no write of that key happened in this
process while loading, so that a slow reader never puts back a value older than a write
it raced with. With ``negative_ttl`` a key the source does not have is remembered as
"not found" for that long, so repeated lookups of missing rows do not reach the source.

They differ in what a write does:

==============  =====================================================================
ReadThrough     reads only; ``invalidate(key)`` drops a cached entry
CacheAside      write the source, then invalidate the cached entry
WriteAround     the same contract as CacheAside, named for code that writes around
                the cache (bulk loads, other services) and relies on invalidation
WriteThrough    write the source, then the cache; a source failure propagates and
                leaves the cache as it was
==============  =====================================================================
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

from .. import _validate
from ..backends import MISSING
from ._common import (
    NOT_FOUND,
    AsyncSingleFlight,
    Generations,
    KeyLocks,
    SingleFlight,
    check_backend,
    check_key,
    check_source,
    check_ttl,
    is_not_found,
)

__all__ = [
    "AsyncCacheAside",
    "AsyncReadThrough",
    "AsyncWriteAround",
    "AsyncWriteThrough",
    "CacheAside",
    "ReadThrough",
    "WriteAround",
    "WriteThrough",
]


class _Base:
    def __init__(self, backend: Any, ttl: float | None, negative_ttl: float | None) -> None:
        check_backend(backend)
        self.backend = backend
        self.ttl = check_ttl(ttl)
        self.negative_ttl = check_ttl(negative_ttl, "negative_ttl")
        self._gens = Generations()

    def _fill_args(self, value: object) -> tuple[object, float | None] | None:
        """What to store for a loaded value: ``(value, ttl)``, or None to store nothing."""
        if value is MISSING:
            return None if self.negative_ttl is None else (NOT_FOUND, self.negative_ttl)
        return value, self.ttl


class ReadThrough(_Base):
    """A cache that loads its misses through ``loader(key)``.

    ``loader`` returns the value, or ``fastcache.backends.MISSING`` when there is none.
    ``ttl`` applies to loaded values (``None``: the backend's default), ``negative_ttl``
    enables negative caching. Concurrent misses of one key run ``loader`` once.
    """

    def __init__(
        self,
        backend: Any,
        loader: Callable[[str], object],
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
    ) -> None:
        _validate.callable_(loader, "loader")
        super().__init__(backend, ttl, negative_ttl)
        self._loader = loader
        self._flight = SingleFlight()

    def get(self, key: str, default: Any = None) -> Any:
        """The cached value, else the loaded one (cached on the way), else ``default``."""
        value = self.backend.get(check_key(key), MISSING)
        if value is MISSING:
            value = self._flight.do(key, lambda: self._load(key))
        if value is MISSING or is_not_found(value):
            return default
        return value

    def _load(self, key: str) -> object:
        value = self.backend.get(key, MISSING)  # filled while we waited for the flight
        if value is not MISSING:
            return value
        gen = self._gens.read(key)
        value = self._loader(key)
        fill = self._fill_args(value)
        if fill is not None:
            with self._gens.lock(key):
                if self._gens.read(key) == gen:
                    self.backend.add(key, fill[0], ttl=fill[1])
        return value

    def invalidate(self, key: str) -> None:
        """Drop ``key`` from the cache (the next read loads it again)."""
        with self._gens.lock(check_key(key)):
            self._gens.bump(key)
            self.backend.delete(key)


class CacheAside(ReadThrough):
    """Cache-aside over a data source: reads fill the cache, ``set``/``delete`` write the
    source and then invalidate the cached entry (the next read loads the new value)."""

    def __init__(
        self,
        backend: Any,
        source: Any,
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
    ) -> None:
        check_source(source)
        super().__init__(backend, source.get, ttl=ttl, negative_ttl=negative_ttl)
        self.source = source

    def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source, then invalidate the cache."""
        self.source.set(check_key(key), value)
        self.invalidate(key)

    def delete(self, key: str) -> None:
        """Delete ``key`` from the source, then invalidate the cache."""
        self.source.delete(check_key(key))
        self.invalidate(key)


class WriteAround(CacheAside):
    """Write-around: writes go to the source only and invalidate the cache; reads fill it.

    The contract is :class:`CacheAside`'s; the name documents the intent (data written
    often and read rarely, or written by bulk jobs) so that writes do not fill the cache.
    """


class WriteThrough(ReadThrough):
    """Write-through: ``set`` writes the source first, then the cache (with ``ttl``).

    If the source write fails the exception propagates and the cache is untouched, so the
    cache never holds a value the source does not have. If the cache write fails after the
    source succeeded, the entry is invalidated (so no stale value stays) and the error
    propagates. Writes of one key are serialised in this process so that source and cache
    see them in the same order.
    """

    def __init__(
        self,
        backend: Any,
        source: Any,
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
        lock_stripes: int = 64,
    ) -> None:
        check_source(source)
        super().__init__(backend, source.get, ttl=ttl, negative_ttl=negative_ttl)
        self.source = source
        self._locks = [threading.Lock() for _ in range(lock_stripes)]

    def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source, then to the cache."""
        with self._locks[hash(check_key(key)) % len(self._locks)]:
            self.source.set(key, value)
            with self._gens.lock(key):
                self._gens.bump(key)
                try:
                    self.backend.set(key, value, ttl=self.ttl)
                except BaseException:
                    self.backend.delete(key)
                    raise

    def delete(self, key: str) -> None:
        """Delete ``key`` from the source, then from the cache."""
        with self._locks[hash(check_key(key)) % len(self._locks)]:
            self.source.delete(key)
            self.invalidate(key)


# -- asyncio ------------------------------------------------------------------------------


class AsyncReadThrough(_Base):
    """:class:`ReadThrough` over an ``AsyncBackend`` and an ``async`` loader; concurrent
    misses of one key (across tasks) await one load."""

    def __init__(
        self,
        backend: Any,
        loader: Callable[[str], Awaitable[object]],
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
    ) -> None:
        _validate.callable_(loader, "loader")
        super().__init__(backend, ttl, negative_ttl)
        self._loader = loader
        self._flight = AsyncSingleFlight()
        self._fill_locks = KeyLocks()

    async def get(self, key: str, default: Any = None) -> Any:
        """The cached value, else the loaded one (cached on the way), else ``default``."""
        value = await self.backend.get(check_key(key), MISSING)
        if value is MISSING:
            value = await self._flight.do(key, lambda: self._load(key))
        if value is MISSING or is_not_found(value):
            return default
        return value

    async def _load(self, key: str) -> object:
        value = await self.backend.get(key, MISSING)
        if value is not MISSING:
            return value
        gen = self._gens.read(key)
        value = await self._loader(key)
        fill = self._fill_args(value)
        if fill is not None:
            async with self._fill_locks.hold(key):
                if self._gens.read(key) == gen:
                    await self.backend.add(key, fill[0], ttl=fill[1])
        return value

    async def invalidate(self, key: str) -> None:
        """Drop ``key`` from the cache."""
        async with self._fill_locks.hold(check_key(key)):
            self._gens.bump(key)
            await self.backend.delete(key)


class AsyncCacheAside(AsyncReadThrough):
    """:class:`CacheAside` for asyncio (an ``AsyncBackend`` and an ``AsyncDataSource``)."""

    def __init__(
        self,
        backend: Any,
        source: Any,
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
    ) -> None:
        check_source(source)
        super().__init__(backend, source.get, ttl=ttl, negative_ttl=negative_ttl)
        self.source = source

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source, then invalidate the cache."""
        await self.source.set(check_key(key), value)
        await self.invalidate(key)

    async def delete(self, key: str) -> None:
        """Delete ``key`` from the source, then invalidate the cache."""
        await self.source.delete(check_key(key))
        await self.invalidate(key)


class AsyncWriteAround(AsyncCacheAside):
    """:class:`WriteAround` for asyncio."""


class AsyncWriteThrough(AsyncReadThrough):
    """:class:`WriteThrough` for asyncio: same guarantees, writes of one key serialised
    across the tasks of this process."""

    def __init__(
        self,
        backend: Any,
        source: Any,
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
    ) -> None:
        check_source(source)
        super().__init__(backend, source.get, ttl=ttl, negative_ttl=negative_ttl)
        self.source = source
        self._locks = KeyLocks()

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source, then to the cache."""
        async with self._locks.hold(check_key(key)):
            await self.source.set(key, value)
            async with self._fill_locks.hold(key):
                self._gens.bump(key)
                try:
                    await self.backend.set(key, value, ttl=self.ttl)
                except BaseException:
                    await self.backend.delete(key)
                    raise

    async def delete(self, key: str) -> None:
        """Delete ``key`` from the source, then from the cache."""
        async with self._locks.hold(check_key(key)):
            await self.source.delete(key)
            await self.invalidate(key)
