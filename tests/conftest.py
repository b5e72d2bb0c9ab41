"""Shared fixtures.  Server fixtures (real redis-server / memcached processes) come first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import MemcachedServers, RedisCluster, RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server on a free loopback port (``.host``, ``.port``, ``.url``)."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A 3-master Redis Cluster (``.nodes``, ``.startup_nodes``, ``.url``), state ok."""
    with RedisCluster(3) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def memcached_servers() -> Iterator[MemcachedServers]:
    """Three memcached servers (``.servers``, ``.addresses``)."""
    with MemcachedServers(3) as servers:
        yield servers


@pytest.fixture()
def private_redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, free to kill and restart (failure tests)."""
    with RedisServer() as server:
        yield server


@pytest.fixture()
def private_memcached_servers() -> Iterator[MemcachedServers]:
    """Three memcached servers of the test's own, free to kill and restart."""
    with MemcachedServers(3) as servers:
        yield servers
