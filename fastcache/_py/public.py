"""The public layer over the twin, whatever implementation ``fastcache.caches`` selected.

Its classes are importable and picklable as ``fastcache._py.public.LRUCache`` etc., so tests
(and users who want the twin explicitly) can use both implementations in one process.
"""

from __future__ import annotations

from typing import Any

import fastcache._py
from fastcache._layer import build

_classes = build(fastcache._py, __name__)
Cache: Any = _classes["Cache"]
FIFOCache: Any = _classes["FIFOCache"]
LFUCache: Any = _classes["LFUCache"]
LRUCache: Any = _classes["LRUCache"]
RRCache: Any = _classes["RRCache"]
TLRUCache: Any = _classes["TLRUCache"]
TTLCache: Any = _classes["TTLCache"]
SIEVECache: Any = _classes["SIEVECache"]
S3FIFOCache: Any = _classes["S3FIFOCache"]
WTinyLFUCache: Any = _classes["WTinyLFUCache"]
del _classes

__all__ = ["Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "S3FIFOCache", "SIEVECache",
           "TLRUCache", "TTLCache", "WTinyLFUCache"]
