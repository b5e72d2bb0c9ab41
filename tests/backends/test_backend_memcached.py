"""Memcached specifics: one batch per server, safe keys, generations, server limits."""

from __future__ import annotations

import collections
import socket
import time
import types
from typing import Any

import pytest

from fastcache.backends import MISSING, AsyncMemcachedBackend, MemcachedBackend
from fastcache.backends.memcached import _expire
from tests.servers import MemcachedServers


def counting_socket_module(counter: collections.Counter[int]) -> Any:
    """A ``socket`` module whose sockets count ``sendall`` calls per server port."""

    class CountingSocket(socket.socket):
        def sendall(self, data: Any, flags: int = 0) -> None:
            counter[self.getpeername()[1]] += 1
            super().sendall(data, flags)

    module = types.SimpleNamespace(**vars(socket))
    module.socket = CountingSocket
    return module


def test_get_many_is_one_round_trip_per_server(memcached_servers: MemcachedServers) -> None:
    sent: collections.Counter[int] = collections.Counter()
    b = MemcachedBackend(memcached_servers.addresses, prefix="rt",
                         socket_module=counting_socket_module(sent))
    keys = [f"k{i}" for i in range(1000)]
    b.set_many({k: i for i, k in enumerate(keys)})
    b.get("warm-the-generation")
    sent.clear()
    assert b.get_many(keys) == {k: i for i, k in enumerate(keys)}
    assert set(sent) == {s.port for s in memcached_servers.servers}
    assert all(v == 1 for v in sent.values()), sent
    sent.clear()
    b.set_many({k: -i for i, k in enumerate(keys)})
    assert all(v == 1 for v in sent.values()), sent
    sent.clear()
    assert b.delete_many([*keys, "absent"]) == 1000
    assert all(v == 1 for v in sent.values()), sent
    assert b.get_many(keys) == {}
    b.close()


def test_unsafe_keys_map_to_stable_safe_keys(memcached_servers: MemcachedServers) -> None:
    b1 = MemcachedBackend(memcached_servers.addresses, prefix="keys")
    b2 = MemcachedBackend(memcached_servers.addresses, prefix="keys")
    unsafe = ["k" * 251, "k" * 10_000, "a b", "tab\t", "nl\n", "nul\x00", "del\x7f",
              "\u00e9t\u00e9", "\U0001f600"]
    for i, key in enumerate(unsafe):
        b1.set(key, i)
        mkey = b1._key(key)
        assert len(mkey.encode()) <= 250 and mkey.isascii() and mkey.isprintable()
        assert " " not in mkey
    assert [b2.get(k) for k in unsafe] == list(range(len(unsafe)))  # stable across instances
    assert b2.get_many(unsafe) == {k: i for i, k in enumerate(unsafe)}
    assert b1._key("k" * 251) != b1._key("k" * 252)
    b1.set("k" * 200, "fits as is")
    assert b1._key("k" * 200).endswith("k" * 200)
    b1.close()
    b2.close()


def test_clear_reaches_other_instances_within_the_refresh(
        memcached_servers: MemcachedServers) -> None:
    writer = MemcachedBackend(memcached_servers.addresses, prefix="gen", generation_refresh=0.2)
    reader = MemcachedBackend(memcached_servers.addresses, prefix="gen", generation_refresh=0.2)
    other = MemcachedBackend(memcached_servers.addresses, prefix="gen2")
    writer.set("k", 1)
    other.set("k", "other namespace")
    assert reader.get("k") == 1
    writer.clear()
    assert writer.get("k") is MISSING  # at once in the clearing instance
    time.sleep(0.25)
    assert reader.get("k") is MISSING  # after generation_refresh elsewhere
    assert other.get("k") == "other namespace"
    reader.set("k", 2)
    assert writer.get("k") == 2
    for b in (writer, reader, other):
        b.close()


def test_restarted_server_gets_the_generation_back(
        private_memcached_servers: MemcachedServers) -> None:
    servers = private_memcached_servers
    b = MemcachedBackend(servers.addresses, prefix="g", generation_refresh=0.1,
                         retry_attempts=0, dead_timeout=0.2, timeout=0.5, connect_timeout=0.5,
                         on_failure="degrade")
    data = {f"k{i}": i for i in range(100)}
    b.set_many(data)
    gen = b._gen_head
    servers.servers[0].kill()
    servers.servers[0].restart()
    time.sleep(0.3)
    for _ in range(3):
        b.get_many(list(data))  # the failed connection, then the server back in the ring
        time.sleep(0.25)
    assert b._gen_head == gen  # the surviving servers' token won; nothing was cleared
    got = b.get_many(list(data))
    assert got and all(got[k] == data[k] for k in got)
    b.close()


def test_value_too_large_is_a_value_error(memcached_servers: MemcachedServers) -> None:
    b = MemcachedBackend(memcached_servers.addresses, prefix="big")
    with pytest.raises(ValueError, match="too large"):
        b.set("k", b"x" * (3 * 1024 * 1024))
    b.close()


def test_ttl_conversion() -> None:
    assert _expire(None) == 0
    assert _expire(0.2) == 2 and _expire(1) == 2 and _expire(59.5) == 61
    far = _expire(40 * 24 * 3600)
    assert abs(far - (time.time() + 40 * 24 * 3600 + 1)) < 5  # absolute past 30 days


def test_async_and_sync_share_placement(memcached_servers: MemcachedServers) -> None:
    import asyncio

    sync = MemcachedBackend(memcached_servers.addresses, prefix="mix")
    sync.set_many({f"k{i}": i for i in range(200)})

    async def read() -> dict[str, object]:
        async with AsyncMemcachedBackend(memcached_servers.addresses, prefix="mix") as a:
            return await a.get_many([f"k{i}" for i in range(200)])

    assert asyncio.run(read()) == {f"k{i}": i for i in range(200)}
    sync.close()
