"""Multi-level caching: fast per-process levels over shared ones over a data source.

``MultiLevelCache([Level(MemoryBackend(), ttl=5), Level(RedisBackend(...), ttl=300)],
source, invalidator=RedisInvalidator(url))``

- **Reads** try each level in order. A hit at level *i* is promoted into levels 0..i-1,
  each with its own TTL; a miss everywhere loads from the source once per key at a time
  (single flight) and fills every level. Fills use ``add`` and are skipped if the key was
  written or invalidated in this process while loading.
- **Writes and deletes** go to the source, then invalidate every level, slowest first (so
  a faster level cannot be refilled from a slower one still holding the old value), then
  publish the key to the other processes.
- **Other processes' local levels** (levels with ``local=True``; by default the in-process
  ``MemoryBackend`` ones) are invalidated by an invalidator:

  - :class:`RedisInvalidator` (Redis pub/sub): every write publishes its key, every process
    drops it from its local levels when the message arrives. **Staleness bound**: the
    pub/sub delivery time while the subscription is up. Measured between two processes on
    one host (``tests/patterns/test_multilevel.py``, 20 updates): p50 about 1 ms, max about
    10 ms on a loaded 2-core machine; the stated bound, which that test asserts, is
    **250 ms** after ``set()``/``delete()`` returns. When the subscription breaks, local
    levels are cleared and bypassed (reads go to the shared levels) until it is back,
    because messages sent meanwhile are lost. In every case an entry lives no longer than
    its level's TTL.
  - :class:`VersionCheckInvalidator` (any shared backend with ``incr``, e.g. memcached):
    every write increments one shared version counter; every process reads it every
    ``interval`` seconds and clears its local levels when it moved. **Staleness bound**:
    ``interval`` plus one round trip; local levels are bypassed while the counter cannot
    be read.

Without an invalidator nothing crosses processes: then a local level's TTL is the bound.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .._optional import require
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
    "AsyncMultiLevelCache",
    "Invalidator",
    "Level",
    "MultiLevelCache",
    "RedisInvalidator",
    "VersionCheckInvalidator",
]

log = logging.getLogger("fastcache.patterns")

KeyCallback = Callable[["str | None"], None]
StateCallback = Callable[[bool], None]


class Level:
    """One level of a :class:`MultiLevelCache`: a backend, the TTL of what is promoted or
    filled into it, and whether it is local to this process (``None``: True for the
    in-process memory backends)."""

    __slots__ = ("backend", "local", "ttl")

    def __init__(self, backend: Any, ttl: float | None = None, *, local: bool | None = None):
        check_backend(backend)
        self.backend = backend
        self.ttl = check_ttl(ttl)
        if local is None:
            from ..backends import AsyncMemoryBackend, MemoryBackend

            local = isinstance(backend, (MemoryBackend, AsyncMemoryBackend))
        self.local = bool(local)

    def __repr__(self) -> str:
        return f"Level({self.backend!r}, ttl={self.ttl!r}, local={self.local!r})"


def _levels(levels: Sequence[Any]) -> list[Level]:
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not levels:
        raise ValueError("levels must be a non-empty sequence of Level (or backends)")
    return [lvl if isinstance(lvl, Level) else Level(lvl) for lvl in levels]


class Invalidator(Protocol):
    """Carries invalidations between processes.

    ``start(on_key, on_state)``: call ``on_key(key)`` when another process changed ``key``
    (``on_key(None)``: anything may have changed), and ``on_state(False)`` /
    ``on_state(True)`` when invalidations can no longer / can again be received.
    ``publish(key)`` tells the other processes; ``close()`` stops.
    """

    def start(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        """Begin delivering invalidations to the callbacks (from a background thread)."""

    def publish(self, key: str) -> None:
        """Tell the other processes that ``key`` changed."""

    def close(self) -> None:
        """Stop delivering; release connections."""


class RedisInvalidator:
    """Invalidation over Redis pub/sub on ``channel``.

    ``redis``: a ``redis://`` URL or a ``redis.Redis`` client (redis-py; imported lazily).
    A listener thread holds one subscription; on a connection error it reports
    ``on_state(False)``, retries every ``reconnect_delay`` seconds, and reports
    ``on_state(True)`` once subscribed again. A process ignores its own messages.
    """

    def __init__(
        self,
        redis: Any,
        channel: str = "fastcache:invalidate",
        *,
        reconnect_delay: float = 0.1,
        health_check_interval: float = 1.0,
    ) -> None:
        redis_py = require("redis", "redis", feature="RedisInvalidator")

        if isinstance(redis, str):
            self._client = redis_py.Redis.from_url(
                redis,
                health_check_interval=health_check_interval,
                socket_timeout=5.0,
                socket_connect_timeout=2.0,
            )
            self._owns = True
        elif isinstance(redis, redis_py.Redis):
            self._client = redis
            self._owns = False
        else:
            raise TypeError("redis must be a redis:// URL or a redis.Redis client")
        if not isinstance(channel, str) or not channel:
            raise ValueError("channel must be a non-empty str")
        self.channel = channel
        self.reconnect_delay = float(check_ttl(reconnect_delay, "reconnect_delay") or 0)
        self._origin = uuid.uuid4().hex.encode()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.subscribed = threading.Event()  # set while the subscription is live

    def start(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        """Start the listener thread. Local levels stay bypassed (``on_state(False)``)
        until the subscription is live: an invalidation published before it would be lost."""
        if self._thread is not None:
            raise RuntimeError("invalidator already started")
        on_state(False)
        self._thread = threading.Thread(
            target=self._listen, args=(on_key, on_state), daemon=True,
            name="fastcache-invalidator",
        )  # fmt: skip
        self._thread.start()

    def publish(self, key: str) -> None:
        """Publish ``key`` to every subscribed process."""
        self._client.publish(self.channel, self._origin + b"\x00" + key.encode())

    def _listen(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=0.2)
                    if msg is None:
                        continue
                    if msg["type"] == "subscribe":
                        on_key(None)  # what was published while we were away is lost
                        self.subscribed.set()
                        on_state(True)
                    elif msg["type"] == "message":
                        origin, _, key = msg["data"].partition(b"\x00")
                        if origin != self._origin:
                            on_key(key.decode())
            except Exception as exc:
                if self.subscribed.is_set():
                    log.warning("invalidation subscription lost: %r", exc)
                self.subscribed.clear()
                on_state(False)
                self._stop.wait(self.reconnect_delay)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    log.debug("closing the pub/sub connection failed", exc_info=True)

    def close(self) -> None:
        """Stop the listener (and close the client if this object created it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._owns:
            self._client.close()


class VersionCheckInvalidator:
    """Invalidation by a shared version counter, for shared backends without pub/sub.

    ``backend``: a synchronous shared ``Backend`` (memcached, Redis, ...) holding the counter
    at ``key``. Each ``publish`` increments it; a thread reads it every ``interval`` seconds
    and reports ``on_key(None)`` when it moved (so local levels are cleared), and
    ``on_state(False)`` while it cannot be read.
    """

    def __init__(
        self, backend: Any, *, key: str = "fastcache:invalidate:version", interval: float = 0.5
    ) -> None:
        check_backend(backend)
        if not callable(getattr(backend, "incr", None)):
            raise TypeError("backend must support incr()")
        self.backend = backend
        self.key = check_key(key)
        self.interval = float(check_ttl(interval, "interval") or 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        """Read the current version (now, so that every later write is seen as a change),
        then start the polling thread."""
        if self._thread is not None:
            raise RuntimeError("invalidator already started")
        try:
            seen: object = self.backend.get(self.key, 0)
        except Exception as exc:
            log.warning("version check failed: %r", exc)
            seen = MISSING
            on_state(False)
        self._thread = threading.Thread(
            target=self._poll, args=(on_key, on_state, seen), daemon=True,
            name="fastcache-version-check",
        )  # fmt: skip
        self._thread.start()

    def publish(self, key: str) -> None:
        """Increment the shared version."""
        self.backend.incr(self.key)

    def _poll(self, on_key: KeyCallback, on_state: StateCallback, seen: object) -> None:
        healthy = seen is not MISSING
        while not self._stop.wait(self.interval):
            try:
                version = self.backend.get(self.key, 0)
            except Exception as exc:
                if healthy:
                    log.warning("version check failed: %r", exc)
                    healthy = False
                    on_state(False)
            else:
                if not healthy:
                    healthy = True
                    on_key(None)
                    on_state(True)
                elif version != seen:
                    on_key(None)
                seen = version

    def close(self) -> None:
        """Stop the polling thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def _publish_failed(key: str, exc: Exception) -> None:
    """A publish that fails does not fail the write (the source has the value): the usual
    cause, the shared server being down, also breaks the other processes' subscriptions,
    and they bypass their local levels until they are subscribed again."""
    log.warning("could not publish the invalidation of %r: %r", key, exc)


def _always_missing(key: str, default: object = MISSING) -> object:
    return default


class _MultiBase:
    def __init__(
        self,
        levels: Sequence[Any],
        source: Any,
        negative_ttl: float | None,
        invalidator: Invalidator | None,
    ) -> None:
        self.levels = _levels(levels)
        if source is not None:
            check_source(source)
        self.source = source
        self.negative_ttl = check_ttl(negative_ttl, "negative_ttl")
        if invalidator is not None and not callable(getattr(invalidator, "publish", None)):
            raise TypeError("invalidator must implement the Invalidator protocol")
        self.invalidator = invalidator
        self._gens = Generations()
        self._local = [lvl for lvl in self.levels if lvl.local]
        self._local_ok = True
        first = self.levels[0].backend
        # a MemoryBackend L1 offers its reader without the str check (the slow path below
        # checks the key): for lru/ttl that is the compiled cache's own get
        self._first_get = getattr(first, "unchecked_get", first.get)
        self._l1_get = self._first_get

    def _set_local_ok(self, ok: bool) -> None:
        self._local_ok = ok
        first_local = self.levels[0].local
        self._l1_get = self._first_get if ok or not first_local else _always_missing

    def _usable(self) -> list[Level]:
        return self.levels if self._local_ok else [lvl for lvl in self.levels if not lvl.local]

    def _fills(self, hit_at: int, value: object) -> list[tuple[Level, object, float | None]]:
        """Which levels above ``hit_at`` get ``value``, and with which TTL."""
        out: list[tuple[Level, object, float | None]] = []
        for lvl in self.levels[:hit_at]:
            if lvl.local and not self._local_ok:
                continue
            ttl = lvl.ttl
            if is_not_found(value):
                neg = self.negative_ttl
                ttl = neg if ttl is None or (neg is not None and neg < ttl) else ttl
            out.append((lvl, value, ttl))
        return out


class MultiLevelCache(_MultiBase):
    """Levels of synchronous backends over an optional ``DataSource`` (see the module
    docstring). Without a source, ``set`` stores into the last level and invalidates the
    others. ``close()`` stops the invalidator."""

    def __init__(
        self,
        levels: Sequence[Any],
        source: Any = None,
        *,
        negative_ttl: float | None = None,
        invalidator: Invalidator | None = None,
    ) -> None:
        super().__init__(levels, source, negative_ttl, invalidator)
        self._flight = SingleFlight()
        if invalidator is not None:
            invalidator.start(self._remote_key, self._set_local_ok_and_clear)

    def get(self, key: str, default: Any = None) -> Any:
        """The value from the fastest level that has it, else from the source."""
        value = self._l1_get(key, MISSING)  # the hot path: an L1 hit is this and two tests
        if value is MISSING or (value.__class__ is str and value == NOT_FOUND):
            return self._get_slow(key, default, value)
        return value

    def _get_slow(self, key: str, default: Any, value: object) -> Any:
        if value is MISSING:
            value = self._flight.do(check_key(key), lambda: self._load(key))
        if value is MISSING or is_not_found(value):
            return default
        return value

    def _load(self, key: str) -> object:
        gen = self._gens.read(key)
        levels = self._usable()
        value: object = MISSING
        hit_at = len(self.levels)
        for lvl in levels:
            value = lvl.backend.get(key, MISSING)
            if value is not MISSING:
                hit_at = self.levels.index(lvl)
                break
        if value is MISSING and self.source is not None:
            value = self.source.get(key)
            if value is MISSING and self.negative_ttl is not None:
                value = NOT_FOUND
        if value is not MISSING:
            fills = self._fills(hit_at, value)
            with self._gens.lock(key):
                if self._gens.read(key) == gen:
                    for lvl, val, ttl in fills:
                        lvl.backend.add(key, val, ttl=ttl)
        return value

    def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source (or the last level), then invalidate every level
        here and the local levels of every other process."""
        check_key(key)
        if self.source is not None:
            self.source.set(key, value)
            self._invalidate(key, self.levels)
        else:
            last = self.levels[-1]
            with self._gens.lock(key):
                self._gens.bump(key)
                last.backend.set(key, value, ttl=last.ttl)
            self._invalidate(key, self.levels[:-1])

    def delete(self, key: str) -> None:
        """Delete ``key`` from the source (if any) and every level, here and elsewhere."""
        check_key(key)
        if self.source is not None:
            self.source.delete(key)
        self._invalidate(key, self.levels)

    def invalidate(self, key: str) -> None:
        """Drop ``key`` from every level, here and in the other processes' local levels."""
        self._invalidate(check_key(key), self.levels)

    def _invalidate(self, key: str, levels: Sequence[Level]) -> None:
        with self._gens.lock(key):
            self._gens.bump(key)
            for lvl in reversed(levels):
                lvl.backend.delete(key)
        if self.invalidator is not None:
            try:
                self.invalidator.publish(key)
            except Exception as exc:  # the write itself succeeded; see _publish_failed
                _publish_failed(key, exc)

    def _remote_key(self, key: str | None) -> None:
        if key is None:
            self._gens.bump_all()
            for lvl in self._local:
                lvl.backend.clear()
            return
        with self._gens.lock(key):
            self._gens.bump(key)
            for lvl in self._local:
                lvl.backend.delete(key)

    def _set_local_ok_and_clear(self, ok: bool) -> None:
        self._set_local_ok(ok)
        self._remote_key(None)

    def close(self) -> None:
        """Stop the invalidator (the backends and the source stay open: their owner closes
        them)."""
        if self.invalidator is not None:
            self.invalidator.close()

    def __enter__(self) -> MultiLevelCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncMultiLevelCache(_MultiBase):
    """:class:`MultiLevelCache` over ``AsyncBackend`` levels and an optional
    ``AsyncDataSource``; create it inside the running loop. The invalidator's thread hands
    invalidations to the loop; ``publish`` runs in a worker thread."""

    def __init__(
        self,
        levels: Sequence[Any],
        source: Any = None,
        *,
        negative_ttl: float | None = None,
        invalidator: Invalidator | None = None,
    ) -> None:
        super().__init__(levels, source, negative_ttl, invalidator)
        self._flight = AsyncSingleFlight()
        self._locks = KeyLocks()
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        if invalidator is not None:
            invalidator.start(self._remote_key_threadsafe, self._remote_state_threadsafe)

    async def get(self, key: str, default: Any = None) -> Any:
        """The value from the fastest level that has it, else from the source."""
        value = await self._l1_get(key, MISSING) if self._local_ok else MISSING
        if value is MISSING:
            value = await self._flight.do(check_key(key), lambda: self._load(key))
        if value is MISSING or is_not_found(value):
            return default
        return value

    def _set_local_ok(self, ok: bool) -> None:
        self._local_ok = ok  # get() checks the flag: the async L1 get is a coroutine

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
            async with self._locks.hold(key):
                if self._gens.read(key) == gen:
                    for lvl, val, ttl in fills:
                        await lvl.backend.add(key, val, ttl=ttl)
        return value

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the source (or the last level), then invalidate."""
        check_key(key)
        if self.source is not None:
            await self.source.set(key, value)
            await self._invalidate(key, self.levels)
        else:
            last = self.levels[-1]
            async with self._locks.hold(key):
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
        async with self._locks.hold(key):
            self._gens.bump(key)
            for lvl in reversed(levels):
                await lvl.backend.delete(key)
        if self.invalidator is not None:
            try:
                await asyncio.to_thread(self.invalidator.publish, key)
            except Exception as exc:
                _publish_failed(key, exc)

    async def _drop_local(self, key: str | None) -> None:
        if key is None:
            for lvl in self._local:
                await lvl.backend.clear()
            return
        async with self._locks.hold(key):
            self._gens.bump(key)
            for lvl in self._local:
                await lvl.backend.delete(key)

    def _spawn(self, key: str | None) -> None:
        task = self._loop.create_task(self._drop_local(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _remote_key_threadsafe(self, key: str | None) -> None:
        if key is None:
            self._gens.bump_all()
        else:
            self._gens.bump(key)  # in-flight fills of this key are discarded from now on
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._spawn, key)

    def _remote_state_threadsafe(self, ok: bool) -> None:
        self._set_local_ok(ok)
        self._remote_key_threadsafe(None)

    async def close(self) -> None:
        """Stop the invalidator and wait for pending local invalidations."""
        if self.invalidator is not None:
            await asyncio.to_thread(self.invalidator.close)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> AsyncMultiLevelCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
