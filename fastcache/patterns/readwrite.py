"""Read-through, cache-aside, write-through and write-around, sync and async.

All four share one read path: look in the backend; on a miss, load once per key at a time
(single flight across threads, or across tasks for the ``Async*`` classes), then fill the
backend with ``add`` (never ``set``) and only if no write of that key happened in this
process while loading, so that a slow reader never puts back a value older than a write
it raced with. With ``negative_ttl`` a key the source does not have is remembered as
"not found" for that long, so repeated lookups of missing rows do not reach the source.

They differ in what a write does:

==============  =====================================================================
ReadThrough     reads only; ``invalidate(key)`` drops a cached entry
CacheAside      write the source, then invalidate the cached entry
WriteAround     the same contract as CacheAside, named for code that writes around
                the cache (bulk loads, other services) and relies on invalidation
WriteThrough    write the source, then the cache; a source failure propagates and
                leaves the cache as it was
==============  =====================================================================

The classes are written once, for asyncio, in ``_async_readwrite.py``; the threaded ones in
``_sync_readwrite.py`` are generated from it by ``tools/unasync.py``.
"""

from __future__ import annotations

from ._async_readwrite import AsyncCacheAside, AsyncReadThrough, AsyncWriteAround, AsyncWriteThrough
from ._sync_readwrite import CacheAside, ReadThrough, WriteAround, WriteThrough

__all__ = [
    "AsyncCacheAside",
    "AsyncReadThrough",
    "AsyncWriteAround",
    "AsyncWriteThrough",
    "CacheAside",
    "ReadThrough",
    "WriteAround",
    "WriteThrough",
]
