"""Cache patterns over any backend (``fastcache.backends``) and any data source
(``fastcache.sources``): cache-aside, read-through, write-through, write-behind,
write-around and multi-level caching, each with an asyncio twin (``Async...``).

Every read path loads a missing key once at a time (single flight across threads, or
across tasks for the async classes) and can remember "not found" (``negative_ttl``).
"""

from __future__ import annotations

from ._common import NOT_FOUND
from .journal import Journal, JournalError, JournalLockedError
from .multilevel import (
    AsyncMultiLevelCache,
    Invalidator,
    Level,
    MultiLevelCache,
    RedisInvalidator,
    VersionCheckInvalidator,
)
from .readwrite import (
    AsyncCacheAside,
    AsyncReadThrough,
    AsyncWriteAround,
    AsyncWriteThrough,
    CacheAside,
    ReadThrough,
    WriteAround,
    WriteThrough,
)
from .write_behind import (
    TOMBSTONE,
    AsyncWriteBehind,
    PickleCodec,
    QueueFullError,
    WriteBehind,
    install_signal_handlers,
)

__all__ = [
    "NOT_FOUND",
    "TOMBSTONE",
    "AsyncCacheAside",
    "AsyncMultiLevelCache",
    "AsyncReadThrough",
    "AsyncWriteAround",
    "AsyncWriteBehind",
    "AsyncWriteThrough",
    "CacheAside",
    "Invalidator",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "Level",
    "MultiLevelCache",
    "PickleCodec",
    "QueueFullError",
    "ReadThrough",
    "RedisInvalidator",
    "VersionCheckInvalidator",
    "WriteAround",
    "WriteBehind",
    "WriteThrough",
    "install_signal_handlers",
]
