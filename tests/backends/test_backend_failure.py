"""Failure behaviour against servers killed mid-run and restarted: the right exception or a
degraded result, recovery, and never a wrong value.  Also the circuit breaker on its own."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from fastcache.backends import (
    MISSING,
    AsyncRedisBackend,
    BackendUnavailable,
    CircuitBreaker,
    MemcachedBackend,
    RedisBackend,
    RedisClusterBackend,
)
from tests.backends.support import Clock
from tests.servers import MemcachedServers, RedisCluster, RedisServer

FAST = {"timeout": 0.5, "connect_timeout": 0.5}


def test_circuit_breaker_states() -> None:
    clock = Clock(100.0)
    br = CircuitBreaker(failure_threshold=3, reset_timeout=10, clock=clock)
    assert br.allow() and br.state == "closed"
    br.record_failure(OSError("1"))
    br.record_failure(OSError("2"))
    assert br.state == "closed" and br.allow()
    br.record_failure(OSError("3"))
    assert br.state == "open" and not br.allow()
    clock.now += 9.9
    assert not br.allow()
    clock.now += 0.2
    assert br.allow() and br.state == "half-open"
    assert not br.allow()  # one probe at a time
    br.record_failure(OSError("probe"))
    assert br.state == "open" and not br.allow()
    clock.now += 10
    assert br.allow()
    br.record_success()
    assert br.state == "closed" and br.failures == 0 and br.allow()
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(reset_timeout=0)


def test_redis_killed_raises_then_recovers(private_redis_server: RedisServer) -> None:
    server = private_redis_server
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=0.5)
    with RedisBackend(server.url, breaker=breaker, **FAST) as b:
        b.set("k", "before")
        assert b.get("k") == "before"
        server.kill()
        for op in (lambda: b.get("k"), lambda: b.set("k", "x"), lambda: b.get_many(["k"]),
                   lambda: b.incr("n"), lambda: b.ttl("k")):
            with pytest.raises(BackendUnavailable) as info:
                op()
            assert info.value.__cause__ is not None
        assert breaker.state == "open"
        with pytest.raises(BackendUnavailable, match="circuit open, get not sent"):
            b.get("k")  # no connection attempt while open
        server.restart()
        time.sleep(0.55)
        assert b.get("k") is MISSING  # the restarted server lost it: a miss, not a stale value
        assert breaker.state == "closed"
        b.set("k", "after")
        assert b.get("k") == "after"


def test_redis_degrades_to_misses_and_skipped_writes(private_redis_server: RedisServer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    server = private_redis_server
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=0.3)
    with RedisBackend(server.url, on_failure="degrade", breaker=breaker, **FAST) as b:
        b.set("k", 1)
        server.kill()
        with caplog.at_level(logging.WARNING, "fastcache.backends"):
            assert b.get("k") is MISSING
            assert b.get("k", "d") == "d"
            assert b.get_many(["k"]) == {}
            assert b.exists("k") is False
            b.set("k", 2)  # skipped, logged
            assert b.add("k", 2) is False
            assert b.delete("k") is False
            with pytest.raises(KeyError):
                b.ttl("k")
            with pytest.raises(BackendUnavailable):
                b.incr("k")  # no stand-in for a counter
        assert "write skipped" in caplog.text and "miss" in caplog.text
        server.restart()
        time.sleep(0.35)
        b.set("k", 3)
        assert b.get("k") == 3


def test_async_redis_killed_raises_then_recovers(private_redis_server: RedisServer) -> None:
    server = private_redis_server

    async def scenario() -> None:
        breaker = CircuitBreaker(failure_threshold=1, reset_timeout=0.3)
        async with AsyncRedisBackend(server.url, breaker=breaker, **FAST) as b:
            await b.set("k", [1])
            server.kill()
            with pytest.raises(BackendUnavailable):
                await b.get("k")
            with pytest.raises(BackendUnavailable, match="circuit open"):
                await b.set("k", 2)
            server.restart()
            await asyncio.sleep(0.35)
            assert await b.get("k") is MISSING
            await b.set("k", 2)
            assert await b.get("k") == 2

    asyncio.run(scenario())


def test_cluster_node_killed_and_restarted() -> None:
    with RedisCluster(3) as cluster:
        b = RedisClusterBackend(startup_nodes=cluster.startup_nodes, prefix="kill",
                                breaker=CircuitBreaker(100, 0.1), **FAST)
        data = {f"k{i}": i for i in range(60)}
        b.set_many(data)
        victim = cluster.nodes[1]
        on_victim = [k for k in data
                     if b.client.get_node_from_key(b.namespace.head + k).port == victim.port]
        assert on_victim
        victim.kill()
        outcomes = set()
        for key in on_victim[:5]:
            try:
                value = b.get(key)
            except BackendUnavailable as e:
                assert e.__cause__ is not None
                outcomes.add("unavailable")
            else:
                assert value is MISSING
                outcomes.add("miss")
        assert "unavailable" in outcomes
        victim.restart()
        cluster.wait_ok()
        deadline = time.monotonic() + 10
        while True:
            try:
                got = b.get_many(list(data))
                break
            except BackendUnavailable:
                assert time.monotonic() < deadline, "cluster client did not recover"
                time.sleep(0.1)
        expected = {k: v for k, v in data.items() if k not in on_victim}
        assert got == expected  # the restarted node came back empty: misses, nothing wrong
        b.set_many(data)
        assert b.get_many(list(data)) == data
        b.close()


def _memcached_backend(servers: MemcachedServers, dead_timeout: float = 3.0,
                       **options: Any) -> MemcachedBackend:
    return MemcachedBackend(servers.addresses, prefix="mc", retry_attempts=1,
                            retry_timeout=0.2, dead_timeout=dead_timeout, **FAST, **options)


def _server_of(b: MemcachedBackend, key: str) -> int:
    node = b.server_of(key)
    assert node is not None
    return int(node.rsplit(":", 1)[1])


@pytest.mark.parametrize("on_failure", ["raise", "degrade"])
def test_memcached_one_of_three_killed(private_memcached_servers: MemcachedServers,
                                       on_failure: str) -> None:
    servers = private_memcached_servers
    b = _memcached_backend(servers, on_failure=on_failure)
    data = {f"key{i}": f"value{i}" for i in range(300)}
    b.set_many(data)
    assert b.get_many(list(data)) == data
    victim = servers.servers[0]
    dead = {k for k in data if _server_of(b, k) == victim.port}
    live = set(data) - dead
    assert dead and live
    counter = next(f"c{i}" for i in range(100) if _server_of(b, f"c{i}") == victim.port)
    b.set(counter, 5)
    victim.kill()
    killed_at = time.monotonic()
    for _ in range(2):  # the failed call, then at once while waiting to retry
        with pytest.raises(BackendUnavailable):
            b.incr(counter)  # a counter never degrades to a made-up number
    # configured: 1 retry after 0.2 s, then the server leaves the ring
    limit = (1 + 1) * 0.2 + 2 * FAST["timeout"]
    errors = 0
    while time.monotonic() - killed_at < limit + 0.5:
        for key in sorted(dead)[:10] + sorted(live)[:10]:
            try:
                value = b.get(key)
            except BackendUnavailable:
                assert on_failure == "raise" and key in dead
                errors += 1
                continue
            if key in live:
                assert value == data[key]
            else:
                assert value is MISSING  # never a wrong or stale value
        time.sleep(0.02)
    assert (errors > 0) == (on_failure == "raise")
    # well past the configured timeout: every dead key is a plain miss, live keys intact
    assert time.monotonic() - killed_at >= limit
    assert b.get_many(list(data)) == {k: data[k] for k in live}
    assert all(b.get(k) is MISSING for k in dead)
    b.set("new", "written after failover")
    assert b.get("new") == "written after failover"
    # the server comes back after dead_timeout (3 s) and is used again
    victim.restart()
    time.sleep(max(0.0, killed_at + limit + 3.1 - time.monotonic()))
    b.get("probe")  # the first call puts the server back into the ring
    b.set_many(data)
    assert b.get_many(list(data)) == data
    assert any(_server_of(b, k) == victim.port for k in data)
    b.close()


def test_memcached_all_servers_down(private_memcached_servers: MemcachedServers) -> None:
    servers = private_memcached_servers
    b = _memcached_backend(servers, dead_timeout=60, breaker=CircuitBreaker(1, 0.5))
    b.set("k", 1)
    for s in servers.servers:
        s.kill()
    deadline = time.monotonic() + 5
    while b.breaker.state == "closed":
        assert time.monotonic() < deadline
        try:
            assert b.get("k") is MISSING
        except BackendUnavailable as e:
            assert e.__cause__ is not None
        time.sleep(0.05)
    with pytest.raises(BackendUnavailable, match="circuit open"):
        b.get("k")
    b.close()


def _raiser(module: str) -> Any:
    """A function whose code runs in module ``module``: it reads an attribute of None."""
    namespace: dict[str, Any] = {"__name__": module}
    exec("def send(conn):\n    conn.writelines([b'PING'])\n", namespace)
    return namespace["send"]


def test_client_library_attribute_error_on_a_lost_connection_is_unavailable(
        redis_server: RedisServer) -> None:
    """redis-py's asyncio cluster client writes to a connection a concurrent task closed
    (``'NoneType' object has no attribute 'writelines'``): that is an outage, so
    BackendUnavailable (or a degraded miss); the same error from any other module is a bug
    and propagates unchanged."""
    raising = AsyncRedisBackend(redis_server.url)
    degrading = AsyncRedisBackend(redis_server.url, on_failure="degrade")

    async def main() -> None:
        try:
            with pytest.raises(BackendUnavailable, match="writelines") as info:
                await raising._guard.arun("get", None, _async(_raiser("redis.asyncio.connection")))
            assert isinstance(info.value.__cause__, AttributeError)
            assert await degrading._guard.arun(
                "get", "fallback", _async(_raiser("redis.asyncio.cluster"))) == "fallback"
            with pytest.raises(AttributeError, match="writelines"):
                await raising._guard.arun("get", None, _async(_raiser("myapp.handlers")))
            with pytest.raises(AttributeError, match="writelines"):
                await raising._guard.arun("get", None, _async(_raiser("redisish")))
        finally:
            await raising.aclose()
            await degrading.aclose()

    asyncio.run(main())


def _async(fn: Any) -> Any:
    async def call() -> Any:
        return fn(None)

    return call


def _iterating(module: str) -> Any:
    """A function whose code runs in module ``module``: it changes a dict it iterates."""
    namespace: dict[str, Any] = {"__name__": module}
    exec("def initialize(nodes):\n    for k in nodes:\n        nodes[k + 1] = k\n", namespace)
    return namespace["initialize"]


def test_client_library_dict_race_in_a_failover_is_unavailable(redis_server: RedisServer) -> None:
    """redis-py's threaded cluster client rebuilds its node table in one thread while another
    iterates it (``RuntimeError: dictionary keys changed during iteration``, seen with a node
    killed under load): an outage, so BackendUnavailable; from any other module, a bug that
    propagates unchanged."""
    b = RedisBackend(redis_server.url)
    try:
        with pytest.raises(BackendUnavailable, match="during iteration") as info:
            b._guard.run("get", None, _iterating("redis.cluster"), {1: 1})
        assert isinstance(info.value.__cause__, RuntimeError)
        with pytest.raises(RuntimeError, match="during iteration"):
            b._guard.run("get", None, _iterating("myapp.handlers"), {1: 1})
    finally:
        b.close()
