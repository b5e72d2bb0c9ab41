"""A package named ``cachetools`` that is fastcache: cachetools 8.0's test suite runs on it.

Put ``tests/cachetools_shim`` first on ``sys.path`` (``tests/decorators/
test_dropin_cachetools8.py`` does, in a subprocess) and ``import cachetools`` gives the names
a cachetools user imports, served by fastcache: the cache classes, ``CacheInfo``, ``cached``,
``cachedmethod``, ``keys`` and ``func``. Nothing here adapts fastcache: a test that fails
through this shim fails for a cachetools user who changed the import.
"""

from fastcache import (
    Cache,
    CacheInfo,
    FIFOCache,
    LFUCache,
    LRUCache,
    RRCache,
    TLRUCache,
    TTLCache,
    cached,
    cachedmethod,
)

from . import keys  # noqa: F401  (cachetools.keys, as cachetools imports it)

FASTCACHE_SHIM = True

__all__ = (
    "Cache",
    "CacheInfo",
    "FIFOCache",
    "LFUCache",
    "LRUCache",
    "RRCache",
    "TLRUCache",
    "TTLCache",
    "cached",
    "cachedmethod",
)
__version__ = "8.0.0"
