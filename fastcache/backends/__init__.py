"""Cache backends: one protocol (``Backend`` / ``AsyncBackend``), several stores.

``MemoryBackend`` (in process, over the compiled caches), ``RedisBackend``,
``RedisClusterBackend`` and ``MemcachedBackend``, each with an ``Async...`` twin.  The
Redis and memcached modules import their client libraries (redis-py, pymemcache) only when
one of their classes is first used, so ``import fastcache.backends`` needs neither.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import (
    MISSING,
    AsyncBackend,
    Backend,
    BackendError,
    BackendUnavailable,
    check_key,
    check_ttl,
)
from .memory import AsyncMemoryBackend, MemoryBackend

if TYPE_CHECKING:
    from .failure import CircuitBreaker
    from .memcached import AsyncMemcachedBackend, MemcachedBackend
    from .redis import (
        AsyncRedisBackend,
        AsyncRedisClusterBackend,
        RedisBackend,
        RedisClusterBackend,
    )

_LAZY = {
    "CircuitBreaker": ".failure",
    "RedisBackend": ".redis",
    "AsyncRedisBackend": ".redis",
    "RedisClusterBackend": ".redis",
    "AsyncRedisClusterBackend": ".redis",
    "MemcachedBackend": ".memcached",
    "AsyncMemcachedBackend": ".memcached",
}

__all__ = [
    "MISSING",
    "AsyncBackend",
    "AsyncMemcachedBackend",
    "AsyncMemoryBackend",
    "AsyncRedisBackend",
    "AsyncRedisClusterBackend",
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "CircuitBreaker",
    "MemcachedBackend",
    "MemoryBackend",
    "RedisBackend",
    "RedisClusterBackend",
    "check_key",
    "check_ttl",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
