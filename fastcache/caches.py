"""The cache classes: cachetools-compatible mappings over the selected implementation."""

from __future__ import annotations

from ._impl import impl
from ._layer import build

globals().update(build(impl, __name__))

# defined by build() above; fastcache/caches.pyi declares them for type checkers
__all__ = ["Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "TLRUCache", "TTLCache"]  # noqa: F822
