"""Redis and Redis Cluster backends on redis-py (sync and asyncio).

    RedisBackend("redis://localhost:6379/0", prefix="myapp", version=3)
    RedisBackend("rediss://cache:6380/0", username="app", password="...",
                 ssl_ca_certs="/etc/ssl/ca.pem")               # ACL user + TLS
    RedisClusterBackend("redis://node1:7000", ...)              # or startup_nodes=[(h, p)]
    AsyncRedisBackend(...), AsyncRedisClusterBackend(...)       # redis.asyncio clients

Extra keyword arguments go to redis-py's ``from_url``/constructor unchanged (``username``,
``password``, ``ssl_*``, ``max_connections``, ``health_check_interval``, ...); hiredis is used
by redis-py automatically when installed.  ``timeout``/``connect_timeout`` (seconds) apply to
every call; ``retries`` is how many times redis-py retries a failed connection at once
(default 1, so a server restart costs one reconnect instead of an error).

``get_many`` is one ``MGET`` (cluster: one pipelined batch per node, ``MGET`` per slot);
``set_many`` one pipeline (``MSET`` when there is no TTL); ``delete_many`` one ``DEL``.
Keys sharing a ``{hash tag}`` (``RedisClusterBackend.tagged(tag, key)``) live in one slot.
``clear()`` ``SCAN``s for ``<prefix>:<version>:*`` (every primary, in a cluster) and
``UNLINK``s what it finds: never ``FLUSHDB``.

Redis-only extras, with the backend's codec and plain Python types: ``hset``, ``hget``,
``hgetall``, ``hdel``, ``hincr`` (hash fields), ``incr_float`` (float counters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..serializers import Serializer
from ._remote import RemoteBase, ttl_ms
from .base import MISSING, AsyncBackend, Backend, BackendError, check_key
from .failure import RAISE, CircuitBreaker, OnFailure

__all__ = [
    "AsyncRedisBackend",
    "AsyncRedisClusterBackend",
    "RedisBackend",
    "RedisClusterBackend",
]

_SCAN_COUNT = 1000


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    from redis import exceptions as x

    return (x.ConnectionError, x.TimeoutError, x.ClusterError, x.TryAgainError,
            x.SlotNotCoveredError, x.RedisClusterException, OSError)


def _client_options(timeout: float, connect_timeout: float, retries: int,
                    options: dict[str, Any], retry_class: Any) -> dict[str, Any]:
    from redis.backoff import NoBackoff

    opts: dict[str, Any] = {"socket_timeout": timeout,
                            "socket_connect_timeout": connect_timeout}
    opts["retry"] = retry_class(NoBackoff(), retries)
    opts.update(options)
    return opts


def _map_response_error(e: Exception, key: str) -> Exception:
    text = str(e)
    if "not an integer" in text or "not a valid float" in text:
        return ValueError(f"value at {key!r} is not a number: {text}")
    if "WRONGTYPE" in text:
        return TypeError(f"key {key!r} holds another kind of Redis value: {text}")
    return BackendError(text)


def _field_key(key: str, field: str) -> str:
    """What a signed value in a hash field is bound to: the key and the field."""
    return f"{key}\x00{field}"


class _RedisCommon(RemoteBase):
    """Argument building and result decoding shared by the four Redis classes."""

    _client: Any

    def __init__(self, url: str = "redis://localhost:6379/0", *, client: Any = None,
                 prefix: str = "fastcache", version: int | str = 1,
                 serializer: Serializer | None = None, compress_threshold: int | None = None,
                 timeout: float = 1.0, connect_timeout: float = 1.0, retries: int = 1,
                 on_failure: OnFailure = "raise", breaker: CircuitBreaker | None = None,
                 **redis_options: Any) -> None:
        if client is None:
            client = self._make_client(url, _client_options(
                timeout, connect_timeout, retries, redis_options, self._retry_class()))
        self._init(client, f"{type(self).__name__}({url})", prefix, version, serializer,
                   compress_threshold, on_failure, breaker)

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        raise NotImplementedError  # each class makes its own redis-py client

    @classmethod
    def _retry_class(cls) -> Any:
        raise NotImplementedError  # redis-py's sync or asyncio Retry

    def _init(self, client: Any, name: str, prefix: str, version: int | str,
              serializer: Serializer | None, compress_threshold: int | None,
              on_failure: OnFailure, breaker: CircuitBreaker | None) -> None:
        from redis.exceptions import ResponseError

        self._client = client
        self._response_error = ResponseError
        self._setup(name, _unavailable_errors(), prefix=prefix, version=version,
                    serializer=serializer, compress_threshold=compress_threshold,
                    on_failure=on_failure, breaker=breaker)

    @property
    def client(self) -> Any:
        """The underlying redis-py client (for what the protocol does not cover)."""
        return self._client

    def _keys(self, keys: Iterable[str]) -> tuple[list[str], list[str]]:
        user = [check_key(k) for k in keys]
        head = self._head
        return user, [head + k for k in user]

    def _found(self, user: list[str], values: list[Any]) -> dict[str, object]:
        decode = self.codec.decode_or
        return {k: v for k, raw in zip(user, values, strict=False)
                if raw is not None and (v := decode(raw, MISSING, k)) is not MISSING}

    @staticmethod
    def _ttl_result(ms: int, key: str) -> float | None:
        if ms == -2:
            raise KeyError(key)
        return None if ms == -1 else ms / 1000.0

    def _hash_items(self, raw: Mapping[bytes, bytes], key: str) -> dict[str, object]:
        decode = self.codec.decode_or
        return {f: v for f, r in ((f.decode(), r) for f, r in raw.items())
                if (v := decode(r, MISSING, _field_key(key, f))) is not MISSING}


class _ClusterArgs(_RedisCommon):
    """The cluster classes' constructor: any node's ``url``, or ``startup_nodes``."""

    def __init__(self, url: str = "redis://localhost:7000", *,
                 startup_nodes: Iterable[tuple[str, int]] | None = None,
                 **options: Any) -> None:
        if startup_nodes is not None:
            options["startup_nodes"] = list(startup_nodes)
        super().__init__(url, **options)


class RedisBackend(_RedisCommon, Backend):
    """A ``Backend`` on one Redis server (redis-py ``Redis`` with a connection pool).

    Give ``url`` (``redis://``, ``rediss://`` for TLS, ``unix://``) or a ready ``client``.
    ``on_failure="degrade"`` turns an unreachable server into misses and skipped writes.
    """

    _cluster = False

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        import redis

        return redis.Redis.from_url(url, **options)

    @classmethod
    def _retry_class(cls) -> Any:
        from redis.retry import Retry

        return Retry

    def _run(self, op: str, fallback: object, key: str, fn: Any, *args: Any) -> Any:
        try:
            return self._guard.run(op, fallback, fn, *args)
        except self._response_error as e:
            raise _map_response_error(e, key) from e

    def get(self, key: str, default: object = MISSING) -> object:
        """The value at ``key``, else ``default``."""
        try:
            data = self._guard.run("get", None, self._client.get, self._head + key)
        except self._response_error as e:
            raise _map_response_error(e, key) from e
        if data is None:
            return default
        return self.codec.decode_or(data, default, key)

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` (``SET ... PX``)."""
        self._run("set", None, key, self._client.set, self._head + key,
                  self.codec.encode(value, key), None, ttl_ms(ttl))

    def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent (``SET ... NX PX``); True if stored."""
        return bool(self._run("add", False, key, self._client.set, self._head + key,
                              self.codec.encode(value, key), None, ttl_ms(ttl), True))

    def delete(self, key: str) -> bool:
        """``DEL``; True if the key existed."""
        return bool(self._run("delete", 0, key, self._client.delete, self._head + check_key(key)))

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """One ``MGET`` (cluster: one pipelined batch per node)."""
        user, full = self._keys(keys)
        if not full:
            return {}
        values = self._run("get_many", [], "", self._mget, full)
        return self._found(user, values)

    def _mget(self, full: list[str]) -> list[Any]:
        values: list[Any] = self._client.mget(full)
        return values

    def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """One round trip: ``MSET``, or a pipeline of ``SET ... PX``."""
        ms = ttl_ms(ttl)
        head, encode = self._head, self.codec.encode
        items = {head + k: encode(v, k)
                 for k, v in ((check_key(k), v) for k, v in mapping.items())}
        if items:
            self._run("set_many", None, "", self._mset, items, ms)

    def _mset(self, items: dict[str, bytes], ms: int | None) -> None:
        if ms is None and not self._cluster:
            self._client.mset(items)
            return
        pipe = self._client.pipeline(transaction=False)
        for k, v in items.items():
            pipe.set(k, v, px=ms)
        pipe.execute()

    def delete_many(self, keys: Iterable[str]) -> int:
        """One ``DEL`` (cluster: split by slot, pipelined per node)."""
        _, full = self._keys(keys)
        return int(self._run("delete_many", 0, "", self._client.delete, *full)) if full else 0

    def incr(self, key: str, delta: int = 1) -> int:
        """``INCRBY`` (absent key: from 0; keeps the TTL)."""
        if type(delta) is not int:
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        return int(self._run("incr", RAISE, key, self._client.incrby, self._head + key, delta))

    def incr_float(self, key: str, delta: float) -> float:
        """``INCRBYFLOAT`` (Redis only); the new value."""
        return float(self._run("incr", RAISE, key, self._client.incrbyfloat,
                               self._head + key, float(delta)))

    def expire(self, key: str, ttl: float | None) -> bool:
        """``PEXPIRE`` (ttl None: ``PERSIST``); True if the key exists."""
        ms = ttl_ms(ttl)
        return bool(self._run("expire", False, key, self._expire, self._head + key, ms))

    def _expire(self, full: str, ms: int | None) -> bool:
        if ms is not None:
            return bool(self._client.pexpire(full, ms))
        pipe = self._client.pipeline(transaction=False)
        pipe.persist(full)
        pipe.exists(full)
        return bool(pipe.execute()[1])

    def ttl(self, key: str) -> float | None:
        """``PTTL`` in seconds; None without expiry; ``KeyError`` if absent."""
        return self._ttl_result(self._run("ttl", -2, key, self._client.pttl, self._head + key),
                                key)

    def exists(self, key: str) -> bool:
        """``EXISTS``."""
        return bool(self._run("exists", 0, key, self._client.exists, self._head + key))

    def clear(self) -> None:
        """``SCAN`` + ``UNLINK`` every key of this namespace (never ``FLUSHDB``)."""
        self._run("clear", None, "", self._clear)

    def _clear(self) -> None:
        for node in self._scan_targets():
            batch: list[bytes] = []
            for k in self._scan_iter(node):
                batch.append(k)
                if len(batch) >= _SCAN_COUNT:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)

    def _scan_targets(self) -> list[Any]:
        return [None]

    def _scan_iter(self, node: Any) -> Iterable[bytes]:
        keys: Iterable[bytes] = self._client.scan_iter(match=self.namespace.glob(),
                                                       count=_SCAN_COUNT)
        return keys

    # -- Redis extras ----------------------------------------------------------------------

    def hset(self, key: str, mapping: Mapping[str, object]) -> int:
        """Set hash fields of ``key``; the number of new fields."""
        encode = self.codec.encode
        fields = {check_key(f): encode(v, _field_key(key, f)) for f, v in mapping.items()}
        return int(self._run("hset", 0, key, self._client.hset, self._head + key, None, None,
                             fields))

    def hget(self, key: str, field: str, default: object = MISSING) -> object:
        """One field of the hash at ``key``, else ``default``."""
        raw = self._run("hget", None, key, self._client.hget, self._head + key, field)
        return self._decode(raw, default, _field_key(key, field))

    def hgetall(self, key: str) -> dict[str, object]:
        """Every field of the hash at ``key`` (``{}`` if absent)."""
        return self._hash_items(self._run("hgetall", {}, key, self._client.hgetall,
                                          self._head + key), key)

    def hdel(self, key: str, *fields: str) -> int:
        """Remove fields; how many existed."""
        return int(self._run("hdel", 0, key, self._client.hdel, self._head + key, *fields))

    def hincr(self, key: str, field: str, delta: int = 1) -> int:
        """``HINCRBY``: add ``delta`` to an integer field; the new value."""
        return int(self._run("hincr", RAISE, key, self._client.hincrby, self._head + key,
                             field, delta))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class RedisClusterBackend(_ClusterArgs, RedisBackend):
    """A ``Backend`` on a Redis Cluster (redis-py ``RedisCluster``).

    ``url`` names any node, or pass ``startup_nodes=[(host, port), ...]``.  Multi-key
    operations are split by slot and pipelined per node.  Keys that must live together
    share a hash tag: ``backend.set(RedisClusterBackend.tagged("user:42", "cart"), ...)``.
    """

    _cluster = True

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        from redis.cluster import ClusterNode, RedisCluster

        nodes = options.pop("startup_nodes", None)
        if nodes is not None:
            return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in nodes], **options)  # type: ignore[no-untyped-call]
        return RedisCluster.from_url(url, **options)

    @staticmethod
    def tagged(tag: str, key: str) -> str:
        """``{tag}key``: every key with the same tag hashes to the same slot."""
        if "{" in tag or "}" in tag:
            raise ValueError("a hash tag cannot contain braces")
        return f"{{{tag}}}{key}"

    def _mget(self, full: list[str]) -> list[Any]:
        # One write of GET commands per node, replies read in order: redis-py's
        # mget_nonatomic builds a ClusterPipeline of one MGET per slot (~40 us of Python per
        # key; 1,000 random keys touch ~1,000 slots).  An error reply (a slot moved:
        # MOVED/ASK) hands the batch to mget_nonatomic, which follows redirections.
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
            replies = self._node_gets(node, [full[i] for i in indices])
            if replies is None:
                moved: list[Any] = client.mget_nonatomic(full)
                return moved
            for i, reply in zip(indices, replies, strict=True):
                values[i] = reply
        return values

    def _node_gets(self, node: Any, keys: list[str]) -> list[Any] | None:
        pool = self._client.get_redis_connection(node).connection_pool
        conn = pool.get_connection()
        try:
            parts = []
            for k in keys:
                kb = k.encode()
                parts.append(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(kb), kb))
            conn.send_packed_command([b"".join(parts)])
            read = conn.read_response
            return [read() for _ in keys]
        except self._response_error:
            conn.disconnect()  # replies left unread
            return None
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def _scan_targets(self) -> list[Any]:
        nodes: list[Any] = self._client.get_primaries()
        return nodes

    def _scan_iter(self, node: Any) -> Iterable[bytes]:
        keys: Iterable[bytes] = self._client.get_redis_connection(node).scan_iter(
            match=self.namespace.glob(), count=_SCAN_COUNT)
        return keys


class AsyncRedisBackend(_RedisCommon, AsyncBackend):
    """The asyncio twin of ``RedisBackend`` (``redis.asyncio.Redis``), same arguments."""

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
            raise _map_response_error(e, key) from e

    async def get(self, key: str, default: object = MISSING) -> object:
        """The value at ``key``, else ``default``."""
        try:
            data = await self._guard.arun("get", None, self._client.get, self._head + key)
        except self._response_error as e:
            raise _map_response_error(e, key) from e
        if data is None:
            return default
        return self.codec.decode_or(data, default, key)

    async def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` (``SET ... PX``)."""
        await self._run("set", None, key, self._client.set, self._head + key,
                        self.codec.encode(value, key), None, ttl_ms(ttl))

    async def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent (``SET ... NX PX``); True if stored."""
        return bool(await self._run("add", False, key, self._client.set, self._head + key,
                                    self.codec.encode(value, key), None, ttl_ms(ttl), True))

    async def delete(self, key: str) -> bool:
        """``DEL``; True if the key existed."""
        return bool(await self._run("delete", 0, key, self._client.delete,
                                    self._head + check_key(key)))

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
        if type(delta) is not int:
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        return int(await self._run("incr", RAISE, key, self._client.incrby, self._head + key,
                                   delta))

    async def expire(self, key: str, ttl: float | None) -> bool:
        """``PEXPIRE`` (ttl None: ``PERSIST``); True if the key exists."""
        ms = ttl_ms(ttl)
        return bool(await self._run("expire", False, key, self._expire, self._head + key, ms))

    async def _expire(self, full: str, ms: int | None) -> bool:
        if ms is not None:
            return bool(await self._client.pexpire(full, ms))
        await self._client.persist(full)
        return bool(await self._client.exists(full))

    async def ttl(self, key: str) -> float | None:
        """``PTTL`` in seconds; None without expiry; ``KeyError`` if absent."""
        return self._ttl_result(await self._run("ttl", -2, key, self._client.pttl,
                                                self._head + key), key)

    async def exists(self, key: str) -> bool:
        """``EXISTS``."""
        return bool(await self._run("exists", 0, key, self._client.exists, self._head + key))

    async def clear(self) -> None:
        """``SCAN`` + ``UNLINK`` every key of this namespace (never ``FLUSHDB``)."""
        await self._run("clear", None, "", self._clear)

    async def _clear(self) -> None:
        batch: list[bytes] = []
        async for k in self._client.scan_iter(match=self.namespace.glob(), count=_SCAN_COUNT):
            batch.append(k)
            if len(batch) >= _SCAN_COUNT:
                await self._client.unlink(*batch)
                batch.clear()
        if batch:
            await self._client.unlink(*batch)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class AsyncRedisClusterBackend(_ClusterArgs, AsyncRedisBackend):
    """The asyncio twin of ``RedisClusterBackend`` (``redis.asyncio.cluster.RedisCluster``)."""

    _cluster = True

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        nodes = options.pop("startup_nodes", None)
        if nodes is not None:
            return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in nodes], **options)
        return RedisCluster.from_url(url, **options)

    tagged = staticmethod(RedisClusterBackend.tagged)

    async def _mget(self, full: list[str]) -> list[Any]:
        values: list[Any] = await self._client.mget_nonatomic(full)
        return values

    async def _clear(self) -> None:
        match = self.namespace.glob()
        for node in self._client.get_primaries():
            cursor = 0
            while True:
                # the SCAN reply callback maps the cursor by node: {name: cursor}
                raw_cursor, keys = await self._client.execute_command(
                    "SCAN", cursor, "MATCH", match, "COUNT", _SCAN_COUNT, target_nodes=node)
                cursor = int(raw_cursor[node.name] if isinstance(raw_cursor, dict)
                             else raw_cursor)
                if keys:
                    await self._client.unlink(*keys)
                if cursor == 0:
                    break
