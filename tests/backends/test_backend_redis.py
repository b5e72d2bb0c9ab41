"""Redis / Redis Cluster specifics: round trips, signed pickles on a shared server, extras,
hash tags, namespace isolation, ACL credentials."""

from __future__ import annotations

import asyncio
import collections
import logging
import pickle
from typing import Any

import pytest
import redis
from redis.asyncio.connection import Connection as AsyncConnection

from fastcache.backends import (
    MISSING,
    AsyncRedisClusterBackend,
    BackendUnavailable,
    RedisBackend,
    RedisClusterBackend,
)
from fastcache.serializers import PickleSerializer
from tests.backends.support import MODES, Exploding
from tests.servers import RedisCluster, RedisServer

SECRET = b"test-secret-0123456789"


@pytest.fixture()
def sends(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[int]:
    """Counts the writes (one per round trip, pipelines included) redis-py sends per port."""
    counter: collections.Counter[int] = collections.Counter()
    original = redis.Connection.send_packed_command
    async_original = AsyncConnection.send_packed_command

    def counting(self: redis.Connection, command: Any, check_health: bool = True) -> None:
        counter[self.port] += 1
        original(self, command, check_health)

    async def async_counting(self: AsyncConnection, command: Any,
                             check_health: bool = True) -> None:
        counter[self.port] += 1
        await async_original(self, command, check_health)

    monkeypatch.setattr(redis.Connection, "send_packed_command", counting)
    monkeypatch.setattr(AsyncConnection, "send_packed_command", async_counting)
    return counter


@pytest.mark.parametrize("mode", MODES)
def test_get_many_is_one_round_trip(redis_server: RedisServer, make_backend: Any, mode: str,
                                    sends: collections.Counter[int]) -> None:
    sent = sends
    b = make_backend("redis", mode)
    keys = [f"k{i}" for i in range(1000)]
    b.set_many({k: i for i, k in enumerate(keys)}, ttl=60)
    sent.clear()
    got = b.get_many(keys)
    assert got == {k: i for i, k in enumerate(keys)}
    assert sent == {redis_server.port: 1}
    sent.clear()
    b.set_many({k: -i for i, k in enumerate(keys)}, ttl=60)
    assert sent == {redis_server.port: 1}
    sent.clear()
    assert b.delete_many(keys) == 1000
    assert sent == {redis_server.port: 1}
    b.set("p", 1, ttl=60)
    sent.clear()
    assert b.expire("p", None) is True and b.ttl("p") is None  # PERSIST + EXISTS: one trip
    assert b.expire("absent", None) is False
    assert sent == {redis_server.port: 3}  # expire, ttl, expire


@pytest.mark.parametrize("mode", MODES)
def test_cluster_get_many_is_one_round_trip_per_node(redis_cluster: RedisCluster,
                                                     make_backend: Any, mode: str,
                                                     sends: collections.Counter[int]) -> None:
    sent = sends
    b = make_backend("cluster", mode)
    keys = [f"k{i}" for i in range(1000)]
    b.set_many({k: i for i, k in enumerate(keys)})
    sent.clear()
    assert b.get_many(keys) == {k: i for i, k in enumerate(keys)}
    assert set(sent) == {n.port for n in redis_cluster.nodes}
    assert all(v == 1 for v in sent.values()), sent
    sent.clear()
    assert b.delete_many(keys) == 1000
    if mode == "sync":  # redis.asyncio's cluster sends DEL per slot
        assert all(v == 1 for v in sent.values()), sent


def test_tampered_pickle_in_redis_is_refused(redis_server: RedisServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    raw = redis.Redis.from_url(redis_server.url)
    with RedisBackend(redis_server.url, prefix="pk", serializer=PickleSerializer(SECRET)) as b:
        b.set("obj", {"a": (1, 2), "s": {3}})
        assert b.get("obj") == {"a": (1, 2), "s": {3}}
        full = b.namespace.head + "obj"
        stored = raw.get(full)
        assert stored is not None and stored[:1] == b"P"
        Exploding.loaded = False
        attacks = [
            b"P" + pickle.dumps(Exploding()),                        # unsigned
            b"P" + stored[1:33] + pickle.dumps(Exploding()),          # old signature, new body
            stored[:-1] + bytes([stored[-1] ^ 1]),                    # one bit flipped
            b"P" + bytes(32) + pickle.dumps(Exploding()),             # forged signature
        ]
        for attack in attacks:
            raw.set(full, attack)
            with caplog.at_level(logging.WARNING, "fastcache.serializers"):
                assert b.get("obj") is MISSING
                assert b.get("obj", "default") == "default"
                assert b.get_many(["obj"]) == {}
            assert "signature" in caplog.text
            caplog.clear()
        assert Exploding.loaded is False
        # a backend with the default (safe) serialiser never unpickles either
        with RedisBackend(redis_server.url, prefix="pk") as safe:
            raw.set(full, stored)
            assert safe.get("obj") is MISSING
    raw.close()


@pytest.mark.parametrize("mode", MODES)
def test_clear_leaves_foreign_keys_alone(redis_server: RedisServer, make_backend: Any,
                                         mode: str) -> None:
    raw = redis.Redis.from_url(redis_server.url)
    raw.set("foreign", b"x")
    raw.set("pfx:1:k-but-other-version", b"x")
    raw.set("pfx:1*:glob", b"x")
    b = make_backend("redis", mode, prefix="pfx", version=1)
    b.set_many({f"k{i}": i for i in range(2500)})  # several SCAN batches
    b.clear()
    assert b.get_many([f"k{i}" for i in range(2500)]) == {}
    assert raw.get("foreign") == b"x" and raw.get("pfx:1*:glob") == b"x"
    assert raw.get("pfx:1:k-but-other-version") is None  # same namespace: cleared
    raw.delete("pfx:1*:glob", "foreign")
    raw.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["redis", "cluster"])
def test_redis_extras_return_plain_types(make_backend: Any, kind: str, mode: str) -> None:
    b = make_backend(kind, mode)
    assert b.hset("h", {"name": "ada", "visits": 1, "blob": b"\x00"}) == 3
    assert b.hget("h", "name") == "ada"
    assert b.hget("h", "nope") is MISSING and b.hget("h", "nope", 0) == 0
    assert b.hincr("h", "visits", 4) == 5
    assert b.hgetall("h") == {"name": "ada", "visits": 5, "blob": b"\x00"}
    assert b.hdel("h", "blob", "nope") == 1
    assert b.hgetall("absent") == {}
    assert b.incr_float("f", 1.5) == 1.5 and b.incr_float("f", 1.0) == 2.5
    with pytest.raises(ValueError):
        b.hincr("h", "name")
    with pytest.raises(TypeError, match="WRONGTYPE"):
        b.get("h")
    assert b.expire("h", 10) and 0 < (b.ttl("h") or 0) <= 10


@pytest.mark.parametrize("mode", MODES)
def test_cluster_hash_tags_keep_keys_together(make_backend: Any, mode: str) -> None:
    b = make_backend("cluster", mode)
    keys = [RedisClusterBackend.tagged("user:42", part) for part in ("cart", "profile", "x")]
    b.set_many(dict.fromkeys(keys, 1))
    slots = {b.client.keyslot(b.namespace.head + k) for k in keys}
    assert len(slots) == 1
    assert b.get_many(keys) == dict.fromkeys(keys, 1)
    with pytest.raises(ValueError):
        RedisClusterBackend.tagged("a{b", "k")


def test_async_cluster_get_many_and_clear(redis_cluster: RedisCluster) -> None:
    async def scenario() -> None:
        async with AsyncRedisClusterBackend(startup_nodes=redis_cluster.startup_nodes,
                                            prefix="acl") as b:
            data = {f"k{i}": [i] for i in range(500)}
            await b.set_many(data, ttl=30)
            assert await b.get_many(list(data)) == data
            await b.clear()
            assert await b.get_many(list(data)) == {}

    asyncio.run(scenario())


def test_acl_user_and_password_are_passed_through(private_redis_server: RedisServer) -> None:
    server = private_redis_server
    server.command("ACL", "SETUSER", "app", "on", ">s3cret-pass", "~*", "+@all")
    with RedisBackend(server.url, username="app", password="s3cret-pass", prefix="acl") as b:
        b.set("k", 1)
        assert b.get("k") == 1
    with RedisBackend(server.url, username="app", password="wrong", prefix="acl",
                      timeout=0.5) as bad, pytest.raises(BackendUnavailable) as info:
        bad.get("k")
    assert isinstance(info.value.__cause__, redis.AuthenticationError)


def test_bad_namespaces_are_refused(redis_server: RedisServer) -> None:
    for prefix in ("", "a b", "{tag}", "a:b"):
        with pytest.raises(ValueError):
            RedisBackend(redis_server.url, prefix=prefix)
    with pytest.raises(ValueError):
        RedisBackend(redis_server.url, version=-1)
    with pytest.raises(TypeError):
        RedisBackend(redis_server.url, version=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RedisBackend(redis_server.url, on_failure="ignore")  # type: ignore[arg-type]
