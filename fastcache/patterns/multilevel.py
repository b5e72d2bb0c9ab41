"""Multi-level caching: fast per-process levels over shared ones over a data source.

``MultiLevelCache([Level(MemoryBackend(), ttl=5), Level(RedisBackend(...), ttl=300)],
source, invalidator=RedisInvalidator(url))``

- **Reads** try each level in order. A hit at level *i* is promoted into levels 0..i-1,
  each with its own TTL; a miss everywhere loads from the source once per key at a time
  (single flight) and fills every level. Fills use ``add`` and are skipped if the key was
  written or invalidated in this process while loading.
- **Writes and deletes** go to the source, then invalidate every level, slowest first (so
  a faster level cannot be refilled from a slower one still holding the old value), then
  publish the key to the other processes.
- **Other processes' local levels** (levels with ``local=True``; by default the in-process
  ``MemoryBackend`` ones) are invalidated by an invalidator:

  - :class:`RedisInvalidator` (Redis pub/sub): every write publishes its key, every process
    drops it from its local levels when the message arrives. **Staleness bound**: the
    pub/sub delivery time while the subscription is up. Measured between two processes on
    one host (``tests/patterns/test_multilevel.py``, 20 updates): p50 about 1 ms, max about
    10 ms on a loaded 2-core machine; the stated bound, which that test asserts, is
    **250 ms** after ``set()``/``delete()`` returns. When the subscription breaks, local
    levels are cleared and bypassed (reads go to the shared levels) until it is back,
    because messages sent meanwhile are lost. In every case an entry lives no longer than
    its level's TTL.
  - :class:`VersionCheckInvalidator` (any shared backend with ``incr``, e.g. memcached):
    every write increments one shared version counter; every process reads it every
    ``interval`` seconds and clears its local levels when it moved. **Staleness bound**:
    ``interval`` plus one round trip; local levels are bypassed while the counter cannot
    be read.

Without an invalidator nothing crosses processes: then a local level's TTL is the bound.

The cache is written once, for asyncio, in ``_async_multilevel.py`` (the threaded face is
generated from it by ``tools/unasync.py``); the invalidators live in ``invalidators.py``.
"""

from __future__ import annotations

from ._async_multilevel import AsyncMultiLevelCache
from ._levels import Level
from ._sync_multilevel import MultiLevelCache
from .invalidators import Invalidator, RedisInvalidator, VersionCheckInvalidator

__all__ = [
    "AsyncMultiLevelCache",
    "Invalidator",
    "Level",
    "MultiLevelCache",
    "RedisInvalidator",
    "VersionCheckInvalidator",
]
