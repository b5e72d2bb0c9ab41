"""The pure-Python twin of the compiled core ``fastcache._core``: the same classes and constants,
the same behaviour (docs/core-spec.md). ``fastcache._impl`` falls back to it when the extension
cannot be imported, and ``FASTCACHE_PURE_PYTHON=1`` selects it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._types import DELETED, EVICTED, EXPIRED, REPLACED, CacheStats

if TYPE_CHECKING:
    from .caches import Cache, FIFOCache, LRUCache, RRCache
    from .lfu import LFUCache
    from .s3fifo import S3FIFOCache
    from .sieve import SIEVECache
    from .timed import TLRUCache, TTLCache
    from .wtinylfu import WTinyLFUCache

# Each class is imported at its first use (PEP 562): a program on the compiled core never
# loads the twin's modules, a third of the time `import fastcache` took.
_HOMES = {"Cache": "caches", "FIFOCache": "caches", "LRUCache": "caches", "RRCache": "caches",
          "LFUCache": "lfu", "S3FIFOCache": "s3fifo", "SIEVECache": "sieve",
          "TLRUCache": "timed", "TTLCache": "timed", "WTinyLFUCache": "wtinylfu"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))

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
