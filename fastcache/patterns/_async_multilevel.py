"""``MultiLevelCache``, asyncio face (the source of the threaded face;
``fastcache/patterns/multilevel.py`` describes the pattern and its staleness bounds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backends import MISSING
from ._common import (
    NOT_FOUND,
    AsyncBridge,
    AsyncGenerations,
    AsyncSingleFlight,
    check_key,
    is_not_found,
)
from ._levels import Level, MultiBase, publish_failed
from .invalidators import Invalidator

__all__ = ["AsyncMultiLevelCache"]


async def _always_missing(key: str, default: object = MISSING) -> object:
    return default


class AsyncMultiLevelCache(MultiBase):
    """Levels of backends over an optional data source (see the module docstring); the
    ``Async`` class takes ``AsyncBackend`` levels and an ``AsyncDataSource`` and is created
    inside the running loop. Without a source, ``set`` stores into the last level and
    invalidates the others. ``close()`` stops the invalidator (whose thread hands the
    asyncio face its invalidations through the loop)."""

    _missing_get = staticmethod(_always_missing)

    def __init__(
        self,
        levels: Sequence[Any],
        source: Any = None,
        *,
        negative_ttl: float | None = None,
        invalidator: Invalidator | None = None,
    ) -> None:
        super().__init__(levels, source, negative_ttl, invalidator)
        self._gens = AsyncGenerations()
        self._flight = AsyncSingleFlight()
        self._bridge = AsyncBridge()
        if invalidator is not None:
            invalidator.start(self._remote_key, self._remote_state)

    async def get(self, key: str, default: Any = None) -> Any:
        """The value from the fastest level that has it, else from the source."""
        value = await self._l1_get(key, MISSING)  # the hot path: an L1 hit and two tests
        if value is MISSING or (value.__class__ is str and value == NOT_FOUND):
            return await self._get_slow(key, default, value)
        return value

    async def _get_slow(self, key: str, default: Any, value: object) -> Any:
        if value is MISSING:
            value = await self._flight.do(check_key(key), lambda: self._load(key))
        if value is MISSING or is_not_found(value):
            return default
        return value

    async def _load(self, key: str) -> object:
        gen = self._gens.read(key)
        value: object = MISSING
        hit_at = len(self.levels)
        for lvl in self._usable():
            value = await lvl.backend.get(key, MISSING)
            if value is not MISSING:
                hit_at = self.levels.index(lvl)
                break
        if value is MISSING and self.source is not None:
            value = await self.source.get(key)
            if value is MISSING and self.negative_ttl is not None:
                value = NOT_FOUND
        if value is not MISSING:
            fills = self._fills(hit_at, value)
            async with self._gens.lock(key):
                if self._gens.read(key) == gen:
                    for lvl, val, ttl in fills:
                        await lvl.backend.add(key, val, ttl=ttl)
        return value

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source (or the last level), then invalidate every level
        here and the local levels of every other process."""
        check_key(key)
        if self.source is not None:
            await self.source.set(key, value)
            await self._invalidate(key, self.levels)
        else:
            last = self.levels[-1]
            async with self._gens.lock(key):
                self._gens.bump(key)
                await last.backend.set(key, value, ttl=last.ttl)
            await self._invalidate(key, self.levels[:-1])

    async def delete(self, key: str) -> None:
        """Delete ``key`` from the source (if any) and every level, here and elsewhere."""
        check_key(key)
        if self.source is not None:
            await self.source.delete(key)
        await self._invalidate(key, self.levels)

    async def invalidate(self, key: str) -> None:
        """Drop ``key`` from every level, here and in the other processes' local levels."""
        await self._invalidate(check_key(key), self.levels)

    async def _invalidate(self, key: str, levels: Sequence[Level]) -> None:
        async with self._gens.lock(key):
            self._gens.bump(key)
            for lvl in reversed(levels):
                await lvl.backend.delete(key)
        if self.invalidator is not None:
            try:
                await self._bridge.run_sync(self.invalidator.publish, key)
            except Exception as exc:  # the write itself succeeded; see publish_failed
                publish_failed(key, exc)

    def _remote_key(self, key: str | None) -> None:
        """From the invalidator's thread: another process changed ``key`` (None: anything)."""
        if key is None:
            self._gens.bump_all()
        else:
            self._gens.bump(key)  # in-flight fills of this key are discarded from now on
        self._bridge.call_from_thread(self._drop_local, key)

    def _remote_state(self, ok: bool) -> None:
        """From the invalidator's thread: invalidations can (no longer) be received."""
        self._set_local_ok(ok)
        self._remote_key(None)

    async def _drop_local(self, key: str | None) -> None:
        if key is None:
            for lvl in self._local:
                await lvl.backend.clear()
            return
        async with self._gens.lock(key):
            self._gens.bump(key)
            for lvl in self._local:
                await lvl.backend.delete(key)

    async def close(self) -> None:
        """Stop the invalidator and wait for pending local invalidations (the backends and
        the source stay open: their owner closes them)."""
        if self.invalidator is not None:
            await self._bridge.run_sync(self.invalidator.close)
        await self._bridge.drain()

    async def __aenter__(self) -> AsyncMultiLevelCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
