"""The pure-Python twin of the compiled core ``fastcache._core``: the same classes and constants,
the same behaviour (docs/core-spec.md). ``fastcache._impl`` falls back to it when the extension
cannot be imported, and ``FASTCACHE_PURE_PYTHON=1`` selects it.
"""

from __future__ import annotations

from .._types import DELETED, EVICTED, EXPIRED, REPLACED, CacheStats
from .caches import Cache, FIFOCache, LRUCache, RRCache
from .lfu import LFUCache
from .s3fifo import S3FIFOCache
from .sieve import SIEVECache
from .timed import TLRUCache, TTLCache
from .wtinylfu import WTinyLFUCache

__all__ = [
    "DELETED",
    "EVICTED",
    "EXPIRED",
    "REPLACED",
    "Cache",
    "CacheStats",
    "FIFOCache",
    "LFUCache",
    "LRUCache",
    "RRCache",
    "S3FIFOCache",
    "SIEVECache",
    "TLRUCache",
    "TTLCache",
    "WTinyLFUCache",
]
