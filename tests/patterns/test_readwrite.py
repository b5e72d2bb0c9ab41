"""CacheAside, ReadThrough, WriteThrough, WriteAround (sync and asyncio) over a real
sqlite3 source and real backends (in-process and redis-server)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from fastcache.backends import MISSING, BackendUnavailable, RedisBackend
from fastcache.patterns import (
    NOT_FOUND,
    AsyncCacheAside,
    AsyncReadThrough,
    AsyncWriteThrough,
    CacheAside,
    ReadThrough,
    WriteThrough,
)
from fastcache.sources import AsyncSourceAdapter, SQLSource

from .helpers import Face, FlakySource, GatedSource, SlowSource, SourceDown, wait_until


def test_cache_aside_fills_then_invalidates(face: Face, source: SQLSource) -> None:
    backend = face.backend()
    slow = SlowSource(source, 0)
    ca = face.make("CacheAside", backend, face.source(slow), ttl=60)
    source.set("user:1", {"name": "ann"})
    assert ca.get("user:1") == {"name": "ann"}
    assert ca.get("user:1") == {"name": "ann"}
    assert slow.loads == {"user:1": 1}
    assert backend.get("user:1") == {"name": "ann"}
    assert 0 < backend.ttl("user:1") <= 60
    ca.set("user:1", {"name": "bob"})  # source first, then invalidate
    assert source.get("user:1") == {"name": "bob"}
    assert backend.get("user:1") is MISSING
    assert ca.get("user:1") == {"name": "bob"} and slow.loads["user:1"] == 2
    ca.delete("user:1")
    assert source.get("user:1") is MISSING and ca.get("user:1", "gone") == "gone"


def test_stored_none_is_a_value(face: Face, source: SQLSource) -> None:
    slow = SlowSource(source, 0)
    ca = face.make("CacheAside", face.backend(), face.source(slow))
    source.set("n", None)
    assert ca.get("n", "default") is None
    assert ca.get("n", "default") is None
    assert slow.loads == {"n": 1}


def test_negative_caching(face: Face, source: SQLSource) -> None:
    backend = face.backend()
    slow = SlowSource(source, 0)
    plain = face.make("CacheAside", backend, face.source(slow))
    for _ in range(3):
        assert plain.get("nope") is None
    assert slow.loads == {"nope": 3}  # without negative caching every miss reaches the source

    neg = face.make("CacheAside", backend, face.source(slow), ttl=60, negative_ttl=2)
    for _ in range(5):
        assert neg.get("missing-row", "dflt") == "dflt"
    assert slow.loads["missing-row"] == 1
    assert backend.get("missing-row") == NOT_FOUND
    neg.set("missing-row", 7)  # a write ends the negative entry at once
    assert neg.get("missing-row") == 7
    source.delete("other")
    assert neg.get("other") is None
    # past negative_ttl the source is asked again (once: the answer is cached negative anew)
    wait_until(lambda: neg.get("other") is None and slow.loads["other"] == 2)
    assert slow.loads["other"] == 2


class _MeetingSource(SlowSource):
    """Each load waits, after reading, until ``parties`` loads are running at once: loads
    that ran one after the other never meet (``BrokenBarrierError`` after the timeout)."""

    def __init__(self, inner: Any, parties: int) -> None:
        super().__init__(inner, 0)
        self.meeting = threading.Barrier(parties, timeout=60)

    def get(self, key: str) -> object:
        value = super().get(key)
        self.meeting.wait()
        return value


def test_stampede_one_load_per_key(backend: Any, source: SQLSource) -> None:
    source.set_many({"hot": "v", "a": 1, "b": 2, "c": 3})
    slow = _MeetingSource(source, 4)  # the four keys' loads run in parallel, or never end
    ca = CacheAside(backend, slow, ttl=60)
    barrier = threading.Barrier(24)
    results: list[Any] = []
    errors: list[BaseException] = []

    def read(key: str) -> None:
        barrier.wait()
        try:
            results.append(ca.get(key))
        except BaseException as exc:
            errors.append(exc)

    keys = ["hot"] * 21 + ["a", "b", "c"]
    threads = [threading.Thread(target=read, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []  # a BrokenBarrierError: the loads of different keys were serialised
    assert slow.loads == {"hot": 1, "a": 1, "b": 1, "c": 1}
    assert sorted(map(str, results)) == sorted(["v"] * 21 + ["1", "2", "3"])
    assert len(ca._flight) == 0


def test_loader_error_reaches_every_waiter_and_is_not_cached(backend: Any) -> None:
    calls = 0
    gate = threading.Event()

    def loader(key: str) -> object:
        nonlocal calls
        calls += 1
        assert gate.wait(60)
        raise LookupError("db says no")

    rt = ReadThrough(backend, loader)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            rt.get("k")
        except LookupError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    wait_until(lambda: calls == 1 and rt._flight.waiting("k") == 7)  # all in, one loading
    gate.set()
    for t in threads:
        t.join()
    assert len(errors) == 8 and calls == 1
    assert backend.get("k") is MISSING


def test_slow_reader_never_puts_back_an_older_value(backend: Any, source: SQLSource) -> None:
    """A reader that loaded v1 while a writer stored v2 must not fill the cache with v1."""
    source.set("k", "v1")
    gated = GatedSource(source)
    ca = CacheAside(backend, gated, ttl=60)
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(ca.get("k")))
    reader.start()
    assert gated.entered.wait(60)  # the reader read v1 and is inside the source read
    ca.set("k", "v2")
    gated.release.set()
    reader.join()
    assert got == ["v1"]  # it read before the write...
    assert backend.get("k") is MISSING  # ...but did not cache it
    assert ca.get("k") == "v2"


def test_read_through_sql_query_loader(face: Face, source: SQLSource) -> None:
    conn = source.connection
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
    conn.executemany("INSERT INTO orders (customer, total) VALUES (?, ?)",
                     [("ann", 10.0), ("ann", 5.5), ("bob", 1.0)])
    conn.commit()
    queries = 0

    def total_for(key: str) -> object:
        nonlocal queries
        queries += 1
        customer = key.removeprefix("total:")
        row = conn.execute("SELECT SUM(total) FROM orders WHERE customer = ?",
                           (customer,)).fetchone()
        return MISSING if row[0] is None else row[0]

    rt = face.make("ReadThrough", face.backend(), face.loader(total_for), ttl=30,
                   negative_ttl=5)
    assert rt.get("total:ann") == 15.5 and rt.get("total:ann") == 15.5
    assert rt.get("total:zed", 0) == 0 and rt.get("total:zed", 0) == 0
    assert queries == 2
    rt.invalidate("total:ann")
    assert rt.get("total:ann") == 15.5 and queries == 3


def test_write_through_source_failure_leaves_cache_as_it_was(
    face: Face, source: SQLSource
) -> None:
    backend = face.backend()
    flaky = FlakySource(source)
    wt = face.make("WriteThrough", backend, face.source(flaky), ttl=60)
    wt.set("a", 1)
    assert backend.get("a") == 1 and source.get("a") == 1
    flaky.down()
    with pytest.raises(SourceDown):
        wt.set("a", 2)
    with pytest.raises(SourceDown):
        wt.set("fresh", 1)
    with pytest.raises(SourceDown):
        wt.delete("a")
    assert backend.get("a") == 1 and backend.get("fresh") is MISSING  # untouched
    flaky.up()
    assert source.get("a") == 1 and source.get("fresh") is MISSING
    wt.set("a", 3)
    assert backend.get("a") == 3 == source.get("a")
    wt.delete("a")
    assert backend.get("a") is MISSING and source.get("a") is MISSING


def test_write_through_cache_down_keeps_source_truth(
    private_redis_server: Any, source: SQLSource
) -> None:
    backend = RedisBackend(private_redis_server.url, prefix="wt", timeout=0.5, retries=0)
    wt = WriteThrough(backend, source, ttl=60)
    wt.set("k", "old")
    private_redis_server.kill()
    with pytest.raises(BackendUnavailable):
        wt.set("k", "new")  # the source took it, the cache could not: the caller knows
    assert source.get("k") == "new"
    private_redis_server.restart()
    deadline = time.monotonic() + 5
    while True:
        try:
            assert wt.get("k") == "new"  # the restarted cache is empty: loads the truth
            break
        except BackendUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    backend.close()


def test_write_through_concurrent_writers_agree(backend: Any, source: SQLSource) -> None:
    wt = WriteThrough(backend, source)

    def writer(t: int) -> None:
        for i in range(60):
            wt.set(f"k{i % 6}", t * 1000 + i)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(6):
        assert backend.get(f"k{i}") == source.get(f"k{i}")


def test_write_around_does_not_fill_on_write(face: Face, source: SQLSource) -> None:
    backend = face.backend()
    wa = face.make("WriteAround", backend, face.source(source), ttl=60)
    wa.set("log:1", "entry")
    assert backend.get("log:1") is MISSING and source.get("log:1") == "entry"
    assert wa.get("log:1") == "entry" and backend.get("log:1") == "entry"
    wa.set("log:1", "edited")
    assert backend.get("log:1") is MISSING and wa.get("log:1") == "edited"
    wa.delete("log:1")
    assert backend.get("log:1") is MISSING and source.get("log:1") is MISSING
    assert wa.get("log:1", "gone") == "gone"
    assert isinstance(face.raw(wa), face.cls("CacheAside"))  # the same contract


def test_bad_arguments(face: Face, source: SQLSource) -> None:
    mem = face.backend("memory")
    src = face.source(source)
    with pytest.raises(TypeError, match="Backend"):
        face.make("CacheAside", object(), src)
    with pytest.raises(TypeError, match="DataSource"):
        face.make("CacheAside", mem, object())
    with pytest.raises(ValueError, match="ttl"):
        face.make("CacheAside", mem, src, ttl=0)
    with pytest.raises(ValueError, match="negative_ttl"):
        face.make("CacheAside", mem, src, negative_ttl=-1)
    with pytest.raises(TypeError, match="ttl"):
        face.make("WriteThrough", mem, src, ttl="10")
    with pytest.raises(ValueError, match="stripes"):
        face.make("WriteThrough", mem, src, lock_stripes=0)
    with pytest.raises(TypeError, match="callable"):
        face.make("ReadThrough", mem, 42)
    with pytest.raises(TypeError, match="str"):
        face.make("CacheAside", mem, src).get(42)


# -- asyncio --------------------------------------------------------------------------------


def test_async_cache_aside(async_backend_factory: Any, source: SQLSource) -> None:
    slow = SlowSource(source, 0.1)
    source.set_many({"hot": "v", "k": 1})

    async def main() -> None:
        backend = async_backend_factory()
        try:
            ca = AsyncCacheAside(backend, AsyncSourceAdapter(slow), ttl=60, negative_ttl=30)
            got = await asyncio.gather(*(ca.get("hot") for _ in range(50)))
            assert got == ["v"] * 50 and slow.loads["hot"] == 1  # one load across 50 tasks
            assert await ca.get("absent", 0) == 0 and await ca.get("absent", 0) == 0
            assert slow.loads["absent"] == 1
            await ca.set("k", 2)
            assert await backend.get("k") is MISSING and await ca.get("k") == 2
            await ca.delete("k")
            assert await ca.get("k") is None and source.get("k") is MISSING
        finally:
            await backend.close()

    asyncio.run(main())


def test_async_cancelled_waiter_does_not_cancel_the_load(async_backend_factory: Any) -> None:
    loads = 0
    started = asyncio.Event()
    release = asyncio.Event()

    async def loader(key: str) -> object:
        nonlocal loads
        loads += 1
        started.set()
        await release.wait()
        return key.upper()

    async def until(predicate: Any) -> None:
        async def poll() -> None:
            while not predicate():
                await asyncio.sleep(0.005)
        await asyncio.wait_for(poll(), 60)

    async def main() -> None:
        backend = async_backend_factory()
        try:
            rt = AsyncReadThrough(backend, loader)
            leader = asyncio.ensure_future(rt.get("x"))
            await asyncio.wait_for(started.wait(), 60)
            waiter = asyncio.ensure_future(rt.get("x"))
            await until(lambda: rt._flight.waiting("x") == 1)  # it waits for the leader's load
            waiter.cancel()
            await asyncio.wait([waiter])
            assert rt._flight.waiting("x") == 0
            release.set()
            assert waiter.cancelled() and not leader.done()
            assert await leader == "X" and loads == 1
            assert await backend.get("x") == "X"
        finally:
            await backend.close()

    asyncio.run(main())


def test_async_write_through_failure(async_backend_factory: Any, source: SQLSource) -> None:
    flaky = FlakySource(source)

    async def main() -> None:
        backend = async_backend_factory()
        try:
            wt = AsyncWriteThrough(backend, AsyncSourceAdapter(flaky), ttl=60)
            await wt.set("a", 1)
            flaky.down()
            with pytest.raises(SourceDown):
                await wt.set("a", 2)
            assert await backend.get("a") == 1
            flaky.up()
            await asyncio.gather(*(wt.set("a", i) for i in range(20)))
            assert await backend.get("a") == source.get("a")
            assert len(wt._locks) == 0
        finally:
            await backend.close()

    asyncio.run(main())
