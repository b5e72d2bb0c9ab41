"""Real-failure helpers for the pattern tests: a source wrapper that fails for real
(raises at random, goes away), a slow counting source, reading a sqlite3 table from disk."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from fastcache.sources import AsyncSourceAdapter
from tests.backends.support import AsyncDriver


class SourceDown(ConnectionError):
    """Raised by FlakySource while the source is "away" or for a random failed write."""


class FlakySource:
    """Wraps a real source. Each write call fails with probability ``fail_rate`` (drawn
    from a seeded RNG); between ``down()`` and ``up()`` every call fails. Counts calls."""

    def __init__(self, inner: Any, fail_rate: float = 0.0, seed: int = 1) -> None:
        self.inner = inner
        self.fail_rate = fail_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.gets = 0
        self.writes = 0
        self.failures = 0

    def down(self, seconds: float = float("inf")) -> None:
        self._down_until = time.monotonic() + seconds

    def up(self) -> None:
        self._down_until = 0.0

    def _check(self, write: bool) -> None:
        with self._lock:
            fail = time.monotonic() < self._down_until or (
                write and self._rng.random() < self.fail_rate
            )
            if fail:
                self.failures += 1
        if fail:
            raise SourceDown("source unavailable")

    def get(self, key: str) -> object:
        self.gets += 1
        self._check(False)
        return self.inner.get(key)

    def get_many(self, keys: Any) -> dict[str, Any]:
        self.gets += 1
        self._check(False)
        return dict(self.inner.get_many(keys))

    def set(self, key: str, value: Any) -> None:
        self.writes += 1
        self._check(True)
        self.inner.set(key, value)

    def set_many(self, mapping: Any) -> None:
        self.writes += 1
        self._check(True)
        self.inner.set_many(mapping)

    def delete(self, key: str) -> None:
        self.writes += 1
        self._check(True)
        self.inner.delete(key)

    def delete_many(self, keys: Any) -> None:
        self.writes += 1
        self._check(True)
        self.inner.delete_many(keys)


def wait_until(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` seconds (generous: the machine
    may be loaded, and a condition that holds returns at once)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


class GatedSource:
    """Wraps a source; a ``get`` reads, then signals ``entered`` and holds its answer until
    ``release`` is set: a test acts while a reader is inside the source read, by events."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def get(self, key: str) -> object:
        value = self.inner.get(key)
        self.entered.set()
        assert self.release.wait(60), "the test never released the read"
        return value

    def set(self, key: str, value: Any) -> None:
        self.inner.set(key, value)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


class SlowSource:
    """Wraps a source; every ``get`` reads, then sleeps ``delay`` seconds; loads are counted
    per key."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.loads: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> object:
        with self._lock:
            self.loads[key] = self.loads.get(key, 0) + 1
        value = self.inner.get(key)
        time.sleep(self.delay)  # the answer travels back slowly: it may be stale on arrival
        return value

    def set(self, key: str, value: Any) -> None:
        self.inner.set(key, value)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def read_table(db_path: str, table: str = "kv") -> dict[str, str]:
    """The table as written on disk, read through a fresh connection."""
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute(f"SELECT key, value FROM {table}").fetchall())
    finally:
        conn.close()


def fast_commits(source: Any) -> None:
    """WAL journal, no fsync per commit: the tests check logic, not durability on power loss
    (and the shared test machine's disk makes each fsync cost ~10 ms)."""
    source.connection.execute("PRAGMA journal_mode=WAL")
    source.connection.execute("PRAGMA synchronous=OFF")


class Face:
    """One face of the patterns, sync or async, for a test body written once.

    ``face.backend(kind)``, ``face.make("CacheAside", backend, source, ...)`` return objects
    whose methods the test calls synchronously: an async object is wrapped in ``AsyncDriver``
    and runs on the face's private event loop (built inside it, as redis clients and
    ``AsyncMultiLevelCache`` need).  ``face.source(src)`` / ``face.loader(fn)`` give a sync
    source or loader the face's shape.
    """

    def __init__(self, kind: str, mode: str, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.mode = mode
        self.is_async = mode == "async"
        self.loop = asyncio.new_event_loop() if self.is_async else None
        self._request = request
        self._backends: list[Any] = []
        self._made: list[Any] = []

    def cls(self, name: str) -> Any:
        """The pattern class ``name`` of this face."""
        import fastcache.patterns

        return getattr(fastcache.patterns, ("Async" if self.is_async else "") + name)

    def _drive(self, obj: Any) -> Any:
        return AsyncDriver(obj, self.loop) if self.loop is not None else obj

    @staticmethod
    def raw(obj: Any) -> Any:
        """What a pattern takes: the backend inside a driver."""
        return obj.inner if isinstance(obj, AsyncDriver) else obj

    def backend(self, kind: str | None = None, url: str | None = None, **options: Any) -> Any:
        """A fresh backend of ``kind`` (default: the face's kind; redis: on ``url`` or the
        shared test server), closed after the test."""
        from fastcache import backends

        kind = kind or self.kind
        args: tuple[Any, ...] = ()
        if kind == "memory":
            options.setdefault("maxsize", 100_000)
        else:
            args = (url or self._request.getfixturevalue("redis_server").url,)
            options.setdefault("prefix", f"t-{uuid.uuid4().hex[:12]}")
        name = {"memory": "MemoryBackend", "redis": "RedisBackend"}[kind]
        cls = getattr(backends, ("Async" if self.is_async else "") + name)
        b = self._drive(cls(*args, **options))
        self._backends.append(b)
        return b

    def level(self, backend: Any, ttl: float | None = None, **kw: Any) -> Any:
        from fastcache.patterns import Level

        return Level(self.raw(backend), ttl, **kw)

    def source(self, src: Any) -> Any:
        return AsyncSourceAdapter(src) if self.is_async else src

    def loader(self, fn: Callable[[str], object]) -> Callable[[str], Any]:
        if not self.is_async:
            return fn

        async def load(key: str) -> object:
            return fn(key)

        return load

    def make(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``<face>name(*args, **kwargs)`` (drivers and lists of them unwrapped)."""
        cls = self.cls(name)
        args = tuple([self.raw(a) for a in x] if isinstance(x, list) else self.raw(x)
                     for x in args)
        if self.loop is None:
            obj = cls(*args, **kwargs)
        else:
            async def build() -> Any:
                return cls(*args, **kwargs)

            obj = self._drive(self.loop.run_until_complete(build()))
        self._made.append(obj)
        return obj

    def run(self, result: Any) -> Any:
        """``result``, awaited on the face's loop if it is a coroutine."""
        if asyncio.iscoroutine(result):
            assert self.loop is not None
            return self.loop.run_until_complete(result)
        return result

    def close(self) -> None:
        for obj in reversed(self._made):
            if hasattr(obj, "close"):
                obj.close()
        for b in reversed(self._backends):
            b.clear()
            b.close()
        if self.loop is not None:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
