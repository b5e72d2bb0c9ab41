"""Read-through, cache-aside, write-around and write-through, asyncio face (the source of
the threaded face; ``fastcache/patterns/readwrite.py`` describes them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .. import _validate
from ..backends import MISSING
from ._common import (
    AsyncGenerations,
    AsyncSingleFlight,
    AsyncWriteLocks,
    ReadBase,
    check_key,
    check_source,
    is_not_found,
)

__all__ = ["AsyncCacheAside", "AsyncReadThrough", "AsyncWriteAround", "AsyncWriteThrough"]


class AsyncReadThrough(ReadBase):
    """A cache that loads its misses through ``loader(key)`` (a coroutine function for
    the ``Async`` classes).

    ``loader`` returns the value, or ``fastcache.backends.MISSING`` when there is none.
    ``ttl`` applies to loaded values (``None``: the backend's default), ``negative_ttl``
    enables negative caching. Concurrent misses of one key (threads, or tasks of one
    loop) run ``loader`` once.
    """

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
        self._gens = AsyncGenerations()
        self._flight = AsyncSingleFlight()

    async def get(self, key: str, default: Any = None) -> Any:
        """The cached value, else the loaded one (cached on the way), else ``default``."""
        value = await self.backend.get(check_key(key), MISSING)
        if value is MISSING:
            value = await self._flight.do(key, lambda: self._load(key))
        if value is MISSING or is_not_found(value):
            return default
        return value

    async def _load(self, key: str) -> object:
        value = await self.backend.get(key, MISSING)  # filled while we waited for the flight
        if value is not MISSING:
            return value
        gen = self._gens.read(key)
        value = await self._loader(key)
        fill = self._fill_args(value)
        if fill is not None:
            async with self._gens.lock(key):
                if self._gens.read(key) == gen:
                    await self.backend.add(key, fill[0], ttl=fill[1])
        return value

    async def invalidate(self, key: str) -> None:
        """Drop ``key`` from the cache (the next read loads it again)."""
        async with self._gens.lock(check_key(key)):
            self._gens.bump(key)
            await self.backend.delete(key)


class AsyncCacheAside(AsyncReadThrough):
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

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source, then invalidate the cache."""
        await self.source.set(check_key(key), value)
        await self.invalidate(key)

    async def delete(self, key: str) -> None:
        """Delete ``key`` from the source, then invalidate the cache."""
        await self.source.delete(check_key(key))
        await self.invalidate(key)


class AsyncWriteAround(AsyncCacheAside):
    """Write-around: writes go to the source only and invalidate the cache; reads fill it.

    The contract is cache-aside's; the name documents the intent (data written often and
    read rarely, or written by bulk jobs) so that writes do not fill the cache.
    """


class AsyncWriteThrough(AsyncReadThrough):
    """Write-through: ``set`` writes the source first, then the cache (with ``ttl``).

    If the source write fails the exception propagates and the cache is untouched, so the
    cache never holds a value the source does not have. If the cache write fails after the
    source succeeded, the entry is invalidated (so no stale value stays) and the error
    propagates. Writes of one key are serialised in this process (over ``lock_stripes``
    locks) so that source and cache see them in the same order.
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
        self._locks = AsyncWriteLocks(lock_stripes)

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source, then to the cache."""
        async with self._locks.hold(check_key(key)):
            await self.source.set(key, value)
            async with self._gens.lock(key):
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
