"""fastcache: compiled caches, decorators, patterns and distributed backends.

The whole public API is importable from here and listed in ``__all__``:

- cache classes (cachetools-compatible mappings over the compiled core): ``Cache``,
  ``LRUCache``, ``LFUCache``, ``FIFOCache``, ``RRCache``, ``TTLCache``, ``TLRUCache``,
  ``SIEVECache``, ``S3FIFOCache``, ``WTinyLFUCache``;
- decorators: ``lru_cache``/``cache`` (as ``functools``), ``lfu_cache``, ``fifo_cache``,
  ``rr_cache``, ``ttl_cache``, ``tlru_cache``, ``cached``, ``cachedmethod`` (as
  ``cachetools``), ``sieve_cache``, ``s3fifo_cache``, ``wtinylfu_cache`` (the same shape over
  the newer policies), sync and async; key functions in ``fastcache.keys``;
- the exceptions (``fastcache.exceptions``: ``BackendError``, ``BackendUnavailable``,
  ``SerializationError``, ``QueueFullError``, ``PurePythonWarning``), each under its built-in;
- backends (``MemoryBackend``, ``RedisBackend``, ``RedisClusterBackend``,
  ``MemcachedBackend`` and their ``Async`` twins), serialisers, data sources and the cache
  patterns (``CacheAside``, ``ReadThrough``, ``WriteThrough``, ``WriteBehind``,
  ``WriteAround``, ``MultiLevelCache``).

The backends, serialisers, sources and patterns are imported on first use, so
``import fastcache`` stays fast and never imports redis, pymemcache, msgpack or asyncio.
"""

from __future__ import annotations

from importlib import import_module as _import_module
from typing import TYPE_CHECKING

from . import exceptions, keys
from ._impl import IMPLEMENTATION
from ._types import DELETED, EVICTED, EXPIRED, REPLACED, CacheStats
from .caches import (
    Cache,
    FIFOCache,
    LFUCache,
    LRUCache,
    RRCache,
    S3FIFOCache,
    SIEVECache,
    TLRUCache,
    TTLCache,
    WTinyLFUCache,
)
from .decorators import (
    WRAPPER_IMPLEMENTATION,
    CacheInfo,
    cache,
    cached,
    cachedmethod,
    fifo_cache,
    lfu_cache,
    lru_cache,
    rr_cache,
    s3fifo_cache,
    sieve_cache,
    tlru_cache,
    ttl_cache,
    wtinylfu_cache,
)
from .exceptions import (
    BackendError,
    BackendUnavailable,
    JournalError,
    JournalLockedError,
    PurePythonWarning,
    QueueFullError,
    SerializationError,
)

if TYPE_CHECKING:
    from .backends import (
        MISSING,
        AsyncBackend,
        AsyncMemcachedBackend,
        AsyncMemoryBackend,
        AsyncRedisBackend,
        AsyncRedisClusterBackend,
        Backend,
        CircuitBreaker,
        MemcachedBackend,
        MemoryBackend,
        RedisBackend,
        RedisClusterBackend,
    )
    from .patterns import (
        AsyncCacheAside,
        AsyncMultiLevelCache,
        AsyncReadThrough,
        AsyncWriteAround,
        AsyncWriteBehind,
        AsyncWriteThrough,
        CacheAside,
        Invalidator,
        Level,
        MultiLevelCache,
        ReadThrough,
        RedisInvalidator,
        VersionCheckInvalidator,
        WriteAround,
        WriteBehind,
        WriteThrough,
        install_signal_handlers,
    )
    from .serializers import (
        JSONSerializer,
        MsgpackSerializer,
        PickleSerializer,
        Serializer,
        SignedSerializer,
        versioned_key,
    )
    from .sources import AsyncDataSource, AsyncSourceAdapter, DataSource, SQLSource

__version__ = "0.1.0"

__all__ = [
    "DELETED",
    "EVICTED",
    "EXPIRED",
    "IMPLEMENTATION",
    "MISSING",
    "REPLACED",
    "WRAPPER_IMPLEMENTATION",
    "AsyncBackend",
    "AsyncCacheAside",
    "AsyncDataSource",
    "AsyncMemcachedBackend",
    "AsyncMemoryBackend",
    "AsyncMultiLevelCache",
    "AsyncReadThrough",
    "AsyncRedisBackend",
    "AsyncRedisClusterBackend",
    "AsyncSourceAdapter",
    "AsyncWriteAround",
    "AsyncWriteBehind",
    "AsyncWriteThrough",
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "Cache",
    "CacheAside",
    "CacheInfo",
    "CacheStats",
    "CircuitBreaker",
    "DataSource",
    "FIFOCache",
    "Invalidator",
    "JSONSerializer",
    "JournalError",
    "JournalLockedError",
    "LFUCache",
    "LRUCache",
    "Level",
    "MemcachedBackend",
    "MemoryBackend",
    "MsgpackSerializer",
    "MultiLevelCache",
    "PickleSerializer",
    "PurePythonWarning",
    "QueueFullError",
    "RRCache",
    "ReadThrough",
    "RedisBackend",
    "RedisClusterBackend",
    "RedisInvalidator",
    "S3FIFOCache",
    "SIEVECache",
    "SQLSource",
    "SerializationError",
    "Serializer",
    "SignedSerializer",
    "TLRUCache",
    "TTLCache",
    "VersionCheckInvalidator",
    "WTinyLFUCache",
    "WriteAround",
    "WriteBehind",
    "WriteThrough",
    "__version__",
    "cache",
    "cached",
    "cachedmethod",
    "exceptions",
    "fifo_cache",
    "install_signal_handlers",
    "keys",
    "lfu_cache",
    "lru_cache",
    "rr_cache",
    "s3fifo_cache",
    "sieve_cache",
    "tlru_cache",
    "ttl_cache",
    "versioned_key",
    "wtinylfu_cache",
]

# Names served on first use, by the submodule that defines them.
_LAZY = {
    **dict.fromkeys(
        ["MISSING", "AsyncBackend", "AsyncMemcachedBackend", "AsyncMemoryBackend",
         "AsyncRedisBackend", "AsyncRedisClusterBackend", "Backend", "CircuitBreaker",
         "MemcachedBackend", "MemoryBackend", "RedisBackend", "RedisClusterBackend"], "backends"),
    **dict.fromkeys(
        ["AsyncCacheAside", "AsyncMultiLevelCache", "AsyncReadThrough", "AsyncWriteAround",
         "AsyncWriteBehind", "AsyncWriteThrough", "CacheAside", "Invalidator", "Level",
         "MultiLevelCache", "ReadThrough", "RedisInvalidator",
         "VersionCheckInvalidator", "WriteAround", "WriteBehind", "WriteThrough",
         "install_signal_handlers"], "patterns"),
    **dict.fromkeys(
        ["JSONSerializer", "MsgpackSerializer", "PickleSerializer", "Serializer",
         "SignedSerializer", "versioned_key"], "serializers"),
    **dict.fromkeys(
        ["AsyncDataSource", "AsyncSourceAdapter", "DataSource", "SQLSource"], "sources"),
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fastcache' has no attribute {name!r}")
    value = getattr(_import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API (``__all__``), not the names this module uses to build it."""
    return sorted(__all__)


del TYPE_CHECKING
