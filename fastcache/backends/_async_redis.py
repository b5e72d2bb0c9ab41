"""The Redis and Redis Cluster backends, async face (the sync face is generated from this
file by ``tools/unasync.py``; ``fastcache/backends/redis.py`` documents both)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._async_base import AsyncBackend
from ._redis_common import SCAN_COUNT, ClusterArgs, RedisCommon, field_key, map_response_error
from ._remote import ttl_ms
from ._shared import MISSING, check_delta, check_key
from .failure import RAISE

__all__ = ["AsyncRedisBackend", "AsyncRedisClusterBackend"]


class AsyncRedisBackend(RedisCommon, AsyncBackend):
    """A backend on one Redis server (redis-py client with a connection pool).

    Give ``url`` (``redis://``, ``rediss://`` for TLS, ``unix://``) or a ready ``client``.
    ``on_failure="degrade"`` turns an unreachable server into misses and skipped writes.
    """

    _cluster = False

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        from redis.asyncio import Redis

        return Redis.from_url(url, **options)

    @classmethod
    def _retry_class(cls) -> Any:
        from redis.asyncio.retry import Retry

        return Retry

    async def _run(self, op: str, fallback: object, key: str, fn: Any, *args: Any) -> Any:
        try:
            return await self._guard.arun(op, fallback, fn, *args)
        except self._response_error as e:
            raise map_response_error(e, key) from e

    async def get(self, key: str, default: object = MISSING) -> object:
        """The value at ``key``, else ``default``."""
        try:
            data = await self._guard.arun("get", None, self._client.get, self._full(key))
        except self._response_error as e:
            raise map_response_error(e, key) from e
        if data is None:
            return default
        return self.codec.decode_or(data, default, key)

    async def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` (``SET ... PX``)."""
        await self._run("set", None, key, self._client.set, self._full(key),
                        self.codec.encode(value, key), None, ttl_ms(ttl))

    async def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent (``SET ... NX PX``); True if stored."""
        return bool(await self._run("add", False, key, self._client.set, self._full(key),
                                    self.codec.encode(value, key), None, ttl_ms(ttl), True))

    async def delete(self, key: str) -> bool:
        """``DEL``; True if the key existed."""
        return bool(await self._run("delete", 0, key, self._client.delete, self._full(key)))

    async def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """One ``MGET`` (cluster: one pipelined batch per node)."""
        user, full = self._keys(keys)
        if not full:
            return {}
        return self._found(user, await self._run("get_many", [], "", self._mget, full))

    async def _mget(self, full: list[str]) -> list[Any]:
        values: list[Any] = await self._client.mget(full)
        return values

    async def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """One round trip: ``MSET``, or a pipeline of ``SET ... PX``."""
        ms = ttl_ms(ttl)
        head, encode = self._head, self.codec.encode
        items = {head + k: encode(v, k)
                 for k, v in ((check_key(k), v) for k, v in mapping.items())}
        if items:
            await self._run("set_many", None, "", self._mset, items, ms)

    async def _mset(self, items: dict[str, bytes], ms: int | None) -> None:
        if ms is None and not self._cluster:
            await self._client.mset(items)
            return
        pipe = self._client.pipeline(transaction=False)
        for k, v in items.items():
            pipe.set(k, v, px=ms)
        await pipe.execute()

    async def delete_many(self, keys: Iterable[str]) -> int:
        """One ``DEL`` (cluster: split by slot, pipelined per node)."""
        _, full = self._keys(keys)
        if not full:
            return 0
        return int(await self._run("delete_many", 0, "", self._client.delete, *full))

    async def incr(self, key: str, delta: int = 1) -> int:
        """``INCRBY`` (absent key: from 0; keeps the TTL)."""
        return int(await self._run("incr", RAISE, key, self._client.incrby, self._full(key),
                                   check_delta(delta)))

    async def incr_float(self, key: str, delta: float) -> float:
        """``INCRBYFLOAT`` (Redis only); the new value."""
        return float(await self._run("incr", RAISE, key, self._client.incrbyfloat,
                                     self._full(key), float(delta)))

    async def expire(self, key: str, ttl: float | None) -> bool:
        """``PEXPIRE`` (ttl None: ``PERSIST``); True if the key exists."""
        ms = ttl_ms(ttl)
        return bool(await self._run("expire", False, key, self._expire, self._full(key), ms))

    async def _expire(self, full: str, ms: int | None) -> bool:
        if ms is not None:
            return bool(await self._client.pexpire(full, ms))
        pipe = self._client.pipeline(transaction=False)  # one round trip
        pipe.persist(full)
        pipe.exists(full)
        return bool((await pipe.execute())[1])

    async def ttl(self, key: str) -> float | None:
        """``PTTL`` in seconds; None without expiry; ``KeyError`` if absent."""
        return self._ttl_result(await self._run("ttl", -2, key, self._client.pttl,
                                                self._full(key)), key)

    async def exists(self, key: str) -> bool:
        """``EXISTS``."""
        return bool(await self._run("exists", 0, key, self._client.exists, self._full(key)))

    async def clear(self) -> None:
        """``SCAN`` + ``UNLINK`` every key of this namespace (never ``FLUSHDB``)."""
        await self._run("clear", None, "", self._clear)

    async def _clear(self) -> None:
        for node in self._scan_targets():
            cursor = 0
            while True:
                cursor, keys = await self._scan_page(node, cursor)
                if keys:
                    await self._client.unlink(*keys)
                if cursor == 0:
                    break

    def _scan_targets(self) -> list[Any]:
        return [None]

    async def _scan_page(self, node: Any, cursor: int) -> tuple[int, list[bytes]]:
        """One ``SCAN`` step over this namespace's keys: (next cursor, keys)."""
        cursor, keys = await self._client.scan(cursor, match=self.namespace.glob(),
                                               count=SCAN_COUNT)
        return int(cursor), keys

    # -- Redis extras ----------------------------------------------------------------------

    async def hset(self, key: str, mapping: Mapping[str, object]) -> int:
        """Set hash fields of ``key``; the number of new fields."""
        encode = self.codec.encode
        fields = {check_key(f): encode(v, field_key(key, f)) for f, v in mapping.items()}
        return int(await self._run("hset", 0, key, self._client.hset, self._full(key), None,
                                   None, fields))

    async def hget(self, key: str, field: str, default: object = MISSING) -> object:
        """One field of the hash at ``key``, else ``default``."""
        raw = await self._run("hget", None, key, self._client.hget, self._full(key), field)
        return self._decode(raw, default, field_key(key, field))

    async def hgetall(self, key: str) -> dict[str, object]:
        """Every field of the hash at ``key`` (``{}`` if absent)."""
        return self._hash_items(await self._run("hgetall", {}, key, self._client.hgetall,
                                                self._full(key)), key)

    async def hdel(self, key: str, *fields: str) -> int:
        """Remove fields; how many existed."""
        return int(await self._run("hdel", 0, key, self._client.hdel, self._full(key), *fields))

    async def hincr(self, key: str, field: str, delta: int = 1) -> int:
        """``HINCRBY``: add ``delta`` to an integer field; the new value."""
        return int(await self._run("hincr", RAISE, key, self._client.hincrby, self._full(key),
                                   field, delta))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class AsyncRedisClusterBackend(ClusterArgs, AsyncRedisBackend):
    """A backend on a Redis Cluster (redis-py ``RedisCluster``).

    ``url`` names any node, or pass ``startup_nodes=[(host, port), ...]``.  Multi-key
    operations are split by slot and pipelined per node.  Keys that must live together
    share a hash tag: ``backend.set(RedisClusterBackend.tagged("user:42", "cart"), ...)``.
    """

    _cluster = True

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        nodes = options.pop("startup_nodes", None)
        if nodes is not None:
            node: Any = ClusterNode  # the sync face's constructors are untyped
            cluster: Any = RedisCluster
            return cluster(startup_nodes=[node(h, p) for h, p in nodes], **options)
        return RedisCluster.from_url(url, **options)

    async def _mget(self, full: list[str]) -> list[Any]:
        # One write of GET commands per node, replies read in order: redis-py's
        # mget_nonatomic builds a pipeline of one MGET per slot (~40 us of Python per key;
        # 1,000 random keys touch ~1,000 slots).  An error reply (a slot moved: MOVED/ASK)
        # hands the batch to mget_nonatomic, which follows redirections.
        client = self._client
        groups: dict[str, tuple[Any, list[int]]] = {}
        for i, k in enumerate(full):
            node = client.get_node_from_key(k)
            group = groups.get(node.name)
            if group is None:
                groups[node.name] = group = (node, [])
            group[1].append(i)
        values: list[Any] = [None] * len(full)
        for node, indices in groups.values():
            replies = await self._node_gets(node, [full[i] for i in indices])
            if replies is None:
                moved: list[Any] = await client.mget_nonatomic(full)
                return moved
            for i, reply in zip(indices, replies, strict=True):
                values[i] = reply
        return values

    async def _node_gets(self, node: Any, keys: list[str]) -> list[Any] | None:
        # unasync: pool = self._client.get_redis_connection(node).connection_pool
        pool = node
        # unasync: conn = pool.get_connection()
        conn = node.acquire_connection()
        try:
            parts = []
            for k in keys:
                kb = k.encode()
                parts.append(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(kb), kb))
            await conn.send_packed_command([b"".join(parts)])
            return [await conn.read_response() for _ in keys]
        except self._response_error:
            await conn.disconnect()  # replies left unread
            return None
        except BaseException:
            await conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def _scan_targets(self) -> list[Any]:
        nodes: list[Any] = self._client.get_primaries()
        return nodes

    async def _scan_page(self, node: Any, cursor: int) -> tuple[int, list[bytes]]:
        # the cluster's SCAN reply callback maps the cursor by node: {name: cursor}
        raw_cursor, keys = await self._client.execute_command(
            "SCAN", cursor, "MATCH", self.namespace.glob(), "COUNT", SCAN_COUNT,
            target_nodes=node)
        return int(raw_cursor[node.name] if isinstance(raw_cursor, dict) else raw_cursor), keys
