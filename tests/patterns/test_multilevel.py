"""MultiLevelCache: promotion, per-level TTLs, invalidation of every level, and
cross-process invalidation of the in-process level through Redis (pub/sub, version check),
with the staleness bound measured between two real processes."""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fastcache.backends import (
    MISSING,
    AsyncMemoryBackend,
    AsyncRedisBackend,
    MemoryBackend,
    RedisBackend,
)
from fastcache.patterns import (
    AsyncMultiLevelCache,
    Level,
    MultiLevelCache,
    RedisInvalidator,
    VersionCheckInvalidator,
)
from fastcache.sources import AsyncSourceAdapter, SQLSource
from tests.backends.support import Clock

from .helpers import Face, SlowSource, fast_commits, wait_until

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture()
def l2(redis_server: Any) -> Any:
    import uuid

    b = RedisBackend(redis_server.url, prefix=f"ml-{uuid.uuid4().hex[:10]}")
    yield b
    b.clear()
    b.close()


def test_promotion_and_level_ttls(mode_face: Face, source: SQLSource) -> None:
    face = mode_face
    slow = SlowSource(source, 0)
    clock = Clock()  # the L1's, moved by hand: its TTLs never depend on the machine's speed
    l1, l2 = face.backend("memory", timer=clock), face.backend("redis")
    ml = face.make("MultiLevelCache", [face.level(l1, ttl=0.3), face.level(l2, ttl=60)],
                   face.source(slow))
    source.set("p:1", {"name": "lamp"})
    assert ml.get("p:1") == {"name": "lamp"}
    assert l1.get("p:1") == {"name": "lamp"} and l2.get("p:1") == {"name": "lamp"}
    assert l1.ttl("p:1") == pytest.approx(0.3) and 1 < l2.ttl("p:1") <= 60
    clock.now = 0.3  # L1 expired, L2 not: promoted again without the source
    assert l1.get("p:1") is MISSING
    assert ml.get("p:1") == {"name": "lamp"} and l1.get("p:1") == {"name": "lamp"}
    assert slow.loads == {"p:1": 1}
    assert ml.get("nope", "d") == "d" and l1.get("nope") is MISSING


def test_writes_and_deletes_invalidate_every_level(mode_face: Face, source: SQLSource) -> None:
    face = mode_face
    l1, l_mid, l2 = face.backend("memory"), face.backend("memory"), face.backend("redis")
    ml = face.make("MultiLevelCache", [l1, face.level(l_mid, ttl=10, local=True),
                                       face.level(l2, ttl=60)], face.source(source))
    source.set("k", 1)
    assert ml.get("k") == 1
    assert l1.get("k") == l_mid.get("k") == l2.get("k") == 1
    ml.set("k", 2)
    assert source.get("k") == 2
    assert l1.get("k") is MISSING and l_mid.get("k") is MISSING and l2.get("k") is MISSING
    assert ml.get("k") == 2
    ml.delete("k")
    assert source.get("k") is MISSING and ml.get("k") is None
    assert all(b.get("k") is MISSING for b in (l1, l_mid, l2))


def test_without_source_last_level_is_the_store(mode_face: Face) -> None:
    face = mode_face
    l1, l2 = face.backend("memory"), face.backend("redis")
    ml = face.make("MultiLevelCache", [face.level(l1, ttl=5), face.level(l2)])
    ml.set("s", "v")
    assert l2.get("s") == "v" and l1.get("s") is MISSING
    assert ml.get("s") == "v" and l1.get("s") == "v"
    ml.delete("s")
    assert ml.get("s") is None


@pytest.mark.parametrize("policy", ["wtinylfu", "s3fifo", "sieve"])
def test_an_l1_of_another_policy(policy: Any, source: SQLSource) -> None:
    """An L1 over WTinyLFUCache (or S3-FIFO, SIEVE): promoted into, its level TTL kept (a
    clock moved by hand), and hot keys kept through a scan that an LRU L1 would not keep."""

    clock = Clock()
    slow = SlowSource(source, 0)
    l1, l2 = MemoryBackend(50, policy, timer=clock), MemoryBackend(10_000)
    ml = MultiLevelCache([Level(l1, ttl=5), Level(l2, ttl=600)], slow)
    for i in range(200):
        source.set(f"k{i}", i)
    hot = [f"k{i}" for i in range(10)]
    for _ in range(5):
        assert [ml.get(k) for k in hot] == list(range(10))
    assert 0 < l1.ttl("k0") <= 5
    for i in range(10, 200):  # a scan through L1
        assert ml.get(f"k{i}") == i
    assert all(l1.exists(k) for k in hot) and len(l1) == 50
    clock.now = 5.0  # the L1 copies expire; L2 still has them: no load from the source
    assert l1.get("k0") is MISSING
    assert ml.get("k0") == 0 and l1.get("k0") == 0
    assert slow.loads == {f"k{i}": 1 for i in range(200)}


def test_negative_caching_and_single_flight(l2: Any, source: SQLSource) -> None:
    slow = SlowSource(source, 0.1)
    ml = MultiLevelCache([MemoryBackend(), l2], slow, negative_ttl=30)
    source.set("hot", 1)
    threads = [threading.Thread(target=ml.get, args=(k,)) for k in ["hot"] * 10 + ["x"] * 10]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert slow.loads == {"hot": 1, "x": 1}
    assert ml.get("x", "none") == "none" and slow.loads["x"] == 1


def test_bad_arguments(source: SQLSource) -> None:
    with pytest.raises(ValueError, match="levels"):
        MultiLevelCache([], source)
    with pytest.raises(TypeError, match="Backend"):
        MultiLevelCache([object()], source)
    with pytest.raises(TypeError, match="DataSource"):
        MultiLevelCache([MemoryBackend()], object())
    with pytest.raises(ValueError):
        Level(MemoryBackend(), ttl=-1)
    with pytest.raises(TypeError):
        RedisInvalidator(42)
    with pytest.raises(TypeError, match="Backend"):
        VersionCheckInvalidator(SlowSource(source, 0))  # type: ignore[arg-type]


# -- across processes -----------------------------------------------------------------------

READER = textwrap.dedent("""
    import sys, time
    from fastcache.backends import MemoryBackend, RedisBackend
    from fastcache.patterns import Level, MultiLevelCache, RedisInvalidator
    from fastcache.sources import SQLSource

    url, prefix, db, mode = sys.argv[1:5]
    inv = RedisInvalidator(url) if mode == "pubsub" else None
    l2 = RedisBackend(url, prefix=prefix)
    ml = MultiLevelCache([Level(MemoryBackend(), ttl=60), Level(l2, ttl=60)],
                         SQLSource.sqlite(db, "kv"), invalidator=inv)
    if inv is not None:
        inv.subscribed.wait(10)
    last = None
    while True:
        value = ml.get("k")
        if value != last:
            print(value, time.monotonic(), flush=True)
            last = value
        if value == "stop":
            break
        time.sleep(0.0005)
""")

ASYNC_READER = textwrap.dedent("""
    import asyncio, sys, time
    from fastcache.backends import AsyncMemoryBackend, AsyncRedisBackend
    from fastcache.patterns import AsyncMultiLevelCache, Level, RedisInvalidator
    from fastcache.sources import AsyncSourceAdapter, SQLSource

    async def main(url, prefix, db):
        inv = RedisInvalidator(url)
        l2 = AsyncRedisBackend(url, prefix=prefix)
        ml = AsyncMultiLevelCache([Level(AsyncMemoryBackend(), ttl=60), Level(l2, ttl=60)],
                                  AsyncSourceAdapter(SQLSource.sqlite(db, "kv")),
                                  invalidator=inv)
        await asyncio.to_thread(inv.subscribed.wait, 10)
        last = None
        while last != "stop":
            value = await ml.get("k")
            if value != last:
                print(value, time.monotonic(), flush=True)
                last = value
            await asyncio.sleep(0.0005)
        await ml.close()
        await l2.close()

    asyncio.run(main(*sys.argv[1:4]))
""")


def _reader(redis_url: str, prefix: str, db: str,
            mode: str) -> tuple[Any, queue.Queue[str], threading.Thread]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = ASYNC_READER if mode == "async" else READER
    proc = subprocess.Popen([sys.executable, "-c", script, redis_url, prefix, db, mode],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()
    return proc, lines, pumper


def _next_value(lines: queue.Queue[str], timeout: float) -> tuple[str, float]:
    value, at = lines.get(timeout=timeout).split()
    return value, float(at)


@pytest.mark.parametrize("mode", ["pubsub", "async", "none"])
def test_other_process_l1_stops_serving_old_value(redis_server: Any, db_path: str,
                                                  mode: str) -> None:
    """Process B reads "k" in a loop (served from its L1); process A (this one) updates it.
    With pub/sub, B sees each new value once its message arrives (B threaded, or B on asyncio
    with AsyncMultiLevelCache; the delays are printed: ``-s``); without an invalidator B keeps
    serving the old value from L1 (the control)."""
    import uuid

    prefix = f"xp-{uuid.uuid4().hex[:10]}"
    src = SQLSource.sqlite(db_path, "kv")
    fast_commits(src)
    src.set("k", "v0")
    l2 = RedisBackend(redis_server.url, prefix=prefix)
    inv = RedisInvalidator(redis_server.url)
    ml = MultiLevelCache([Level(MemoryBackend(), ttl=60), Level(l2, ttl=60)], src,
                         invalidator=inv)
    proc, lines, pumper = _reader(redis_server.url, prefix, db_path, mode)
    try:
        assert _next_value(lines, 20)[0] == "v0"
        if mode == "none":
            ml.set("k", "v1")
            time.sleep(0.5)
            assert lines.empty()  # still "v0" from B's L1: nothing told B
            ml.set("k", "stop")
            with pytest.raises(queue.Empty):
                lines.get(timeout=0.5)
            return
        delays = []
        for i in range(1, 21):
            ml.set("k", f"v{i}")
            done = time.monotonic()
            value, seen = _next_value(lines, 30)
            assert value == f"v{i}"
            delays.append(seen - done)
            time.sleep(0.02)
        delays.sort()
        print(f"\npub/sub staleness after set() ({mode} reader): p50 {delays[10] * 1e3:.2f} ms, "
              f"max {delays[-1] * 1e3:.2f} ms")
        ml.set("k", "stop")
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
        pumper.join(10)  # EOF: the reader is gone
        assert proc.stdout is not None
        proc.stdout.close()
        ml.close()
        l2.clear()
        l2.close()
        src.close()


def _two_caches(l2_url: str, prefix: str, src: Any, make_inv: Any,
                face: Face | None = None) -> list[Any]:
    """Two caches with their own L1, one shared L2: as two processes would have."""
    if face is None:
        return [
            MultiLevelCache([Level(MemoryBackend(), ttl=60),
                             Level(RedisBackend(l2_url, prefix=prefix, on_failure="degrade",
                                                timeout=0.3, retries=0), ttl=60)],
                            src, invalidator=make_inv())
            for _ in range(2)
        ]
    return [
        face.make("MultiLevelCache",
                  [face.level(face.backend("memory"), ttl=60),
                   face.level(face.backend("redis", l2_url, prefix=prefix, on_failure="degrade",
                                           timeout=0.3, retries=0), ttl=60)],
                  face.source(src), invalidator=make_inv())
        for _ in range(2)
    ]


class _PollCounter:
    """A version-counter backend that counts the polls started (``get``): the poll started
    after a write reads the new version and reports it before the next poll starts."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.polls = 0
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = MISSING) -> Any:
        with self._lock:
            self.polls += 1
        return self.inner.get(key, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _assert_dropped_by_the_next_poll(inv: Any, cache: Any, key: str, new: Any) -> None:
    """After a write: once two more polls of ``cache``'s invalidator have started (so one
    started after the write and was fully handled), ``cache`` serves ``new``: the staleness
    is bounded by one interval plus one poll, whatever the machine's load."""
    counter = inv.backend
    target = counter.polls + 2
    wait_until(lambda: counter.polls >= target, timeout=30)
    assert cache.get(key) == new


def test_version_check_bound(redis_server: Any, source: SQLSource) -> None:
    counter = RedisBackend(redis_server.url, prefix="vc-test")
    interval = 0.2
    a, b = _two_caches(redis_server.url, "vc", source,
                       lambda: VersionCheckInvalidator(_PollCounter(counter), interval=interval))
    source.set("k", "old")
    assert b.get("k") == "old"
    a.set("k", "new")
    _assert_dropped_by_the_next_poll(b.invalidator, b, "k", "new")
    for c in (a, b):
        c.close()
    counter.clear()
    counter.close()


def test_version_check_over_memcached(memcached_servers: Any, source: SQLSource) -> None:
    """Where there is no pub/sub: L1 over a memcached L2, invalidated by a version counter
    kept in memcached; the other cache stops serving the old value within the interval."""
    from fastcache.backends import MemcachedBackend

    interval = 0.2
    shared = [MemcachedBackend(memcached_servers.addresses, prefix="mc-vc") for _ in range(3)]
    a, b = (MultiLevelCache([Level(MemoryBackend(), ttl=60), Level(l2, ttl=60)], source,
                            invalidator=VersionCheckInvalidator(_PollCounter(shared[2]),
                                                                interval=interval))
            for l2 in shared[:2])
    try:
        source.set("k", "old")
        assert b.get("k") == "old" and b.levels[0].backend.get("k") == "old"
        a.set("k", "new")
        _assert_dropped_by_the_next_poll(b.invalidator, b, "k", "new")
    finally:
        for c in (a, b):
            c.close()
        shared[0].clear()
        for m in shared:
            m.close()


def test_redis_down_bypasses_l1_then_recovers(private_redis_server: Any, mode_face: Face,
                                              source: SQLSource) -> None:
    url = private_redis_server.url
    face = mode_face
    a, b = _two_caches(url, "down", source,
                       lambda: RedisInvalidator(url, reconnect_delay=0.05), face)
    for c in (a, b):
        assert c.invalidator is not None
        c.invalidator.subscribed.wait(5)  # type: ignore[attr-defined]
    source.set("k", "v1")
    assert b.get("k") == "v1"
    private_redis_server.kill()
    wait_until(lambda: not b.invalidator.subscribed.is_set())  # type: ignore[union-attr]
    a.set("k", "v2")  # source written; L2 and the publish are lost with the server
    assert b.get("k") == "v2"  # b no longer trusts its L1: reads the source
    private_redis_server.restart()
    wait_until(lambda: b.invalidator.subscribed.is_set(), 10)  # type: ignore[union-attr]
    assert b.get("k") == "v2" and face.run(b.levels[0].backend.get("k")) == "v2"  # L1 again
    a.set("k", "v3")
    wait_until(lambda: b.get("k") == "v3")


def test_async_multilevel(redis_server: Any, source: SQLSource) -> None:
    import uuid

    prefix = f"aml-{uuid.uuid4().hex[:10]}"
    slow = SlowSource(source, 0.05)
    source.set("k", "v0")

    async def main() -> None:
        caches = [
            AsyncMultiLevelCache(
                [Level(AsyncMemoryBackend(), ttl=60),
                 Level(AsyncRedisBackend(redis_server.url, prefix=prefix), ttl=60)],
                AsyncSourceAdapter(slow), invalidator=RedisInvalidator(redis_server.url))
            for _ in range(2)
        ]
        a, b = caches
        for c in caches:
            await asyncio.to_thread(c.invalidator.subscribed.wait, 5)  # type: ignore[union-attr]
        got = await asyncio.gather(*(b.get("k") for _ in range(30)))
        assert got == ["v0"] * 30 and slow.loads == {"k": 1}
        assert await b.levels[0].backend.get("k") == "v0"
        await a.set("k", "v1")
        deadline = time.monotonic() + 30  # the latency itself is measured by bench/staleness.py
        while await b.get("k") != "v1":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.001)
        await a.delete("k")
        assert await a.get("k") is None
        for c in caches:
            await c.close()
            for lvl in c.levels:
                await lvl.backend.close()

    asyncio.run(main())
