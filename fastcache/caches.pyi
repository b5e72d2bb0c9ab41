"""Types of the public cache classes (built at import by ``fastcache._layer.build``).

As at runtime, each class is the implementation's class plus ``MutableMapping``'s mixins;
the members (``maxsize``, ``currsize``, ``getsizeof``, ``popitem``, ``peek``, ``expire``,
``set``, ``remaining_ttl``, ``stats``, ...) are declared in ``_core.pyi``, which both
implementations follow (docs/core-spec.md).
"""

from collections.abc import MutableMapping
from inspect import Signature
from typing import ClassVar, TypeVar

from . import _core

__all__ = ["Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "S3FIFOCache", "SIEVECache",
           "TLRUCache", "TTLCache", "WTinyLFUCache"]

_KT = TypeVar("_KT")
_VT = TypeVar("_VT")

class Cache(_core.Cache[_KT, _VT], MutableMapping[_KT, _VT]):
    """Mutable mapping with a maximum size; evicts in insertion order (cachetools' Cache)."""

    # the compiled classes' parameters, annotated as the twin's (see fastcache/caches.py)
    __signature__: ClassVar[Signature]

class LRUCache(_core.LRUCache[_KT, _VT], Cache[_KT, _VT]):
    """Least Recently Used cache."""

class LFUCache(_core.LFUCache[_KT, _VT], Cache[_KT, _VT]):
    """Least Frequently Used cache; ties go to the least recently used entry."""

class FIFOCache(_core.FIFOCache[_KT, _VT], Cache[_KT, _VT]):
    """First In First Out cache: evicts the entry inserted (or replaced) first."""

class RRCache(_core.RRCache[_KT, _VT], Cache[_KT, _VT]):
    """Random Replacement cache: evicts ``choice(keys)``."""

class SIEVECache(_core.SIEVECache[_KT, _VT], Cache[_KT, _VT]):
    """SIEVE cache: a hit sets a visited bit; a hand evicts the first unvisited entry."""

class S3FIFOCache(_core.S3FIFOCache[_KT, _VT], Cache[_KT, _VT]):
    """S3-FIFO cache: small and main FIFOs with 2-bit frequencies, a ghost of hashes."""

class TTLCache(_core.TTLCache[_KT, _VT], Cache[_KT, _VT]):
    """LRU cache whose entries expire ``ttl`` timer units after they were written."""

class TLRUCache(_core.TLRUCache[_KT, _VT], Cache[_KT, _VT]):
    """LRU cache whose entries expire at ``ttu(key, value, now)``."""

class WTinyLFUCache(_core.WTinyLFUCache[_KT, _VT], Cache[_KT, _VT]):
    """Window TinyLFU cache: a small LRU window in front of a segmented LRU."""
