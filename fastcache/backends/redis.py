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
``hgetall``, ``hdel``, ``hincr`` (hash fields), ``incr_float`` (float counters), on both faces.

The async classes are written once in ``_async_redis.py``; ``_sync_redis.py`` is generated from
it by ``tools/unasync.py``; what does not touch the network is in ``_redis_common.py``.
"""

from __future__ import annotations

from ._async_redis import AsyncRedisBackend, AsyncRedisClusterBackend
from ._sync_redis import RedisBackend, RedisClusterBackend

__all__ = [
    "AsyncRedisBackend",
    "AsyncRedisClusterBackend",
    "RedisBackend",
    "RedisClusterBackend",
]
