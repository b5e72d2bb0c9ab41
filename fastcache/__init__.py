"""fastcache: compiled caches, decorators, patterns and distributed backends.

The whole public API is importable from here; ``__all__`` lists it.
"""

from __future__ import annotations

from ._impl import IMPLEMENTATION
from ._types import DELETED, EVICTED, EXPIRED, REPLACED, CacheStats
from .caches import Cache, FIFOCache, LFUCache, LRUCache, RRCache, TLRUCache, TTLCache

__version__ = "0.1.0"

__all__ = [
    "DELETED",
    "EVICTED",
    "EXPIRED",
    "IMPLEMENTATION",
    "REPLACED",
    "Cache",
    "CacheStats",
    "FIFOCache",
    "LFUCache",
    "LRUCache",
    "RRCache",
    "TLRUCache",
    "TTLCache",
    "__version__",
]
