"""Small shared types used by both the compiled core and the pure-Python twin."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DELETED", "EVICTED", "EXPIRED", "REPLACED", "CacheStats"]

EVICTED = "evicted"
EXPIRED = "expired"
REPLACED = "replaced"
DELETED = "deleted"


class CacheStats(NamedTuple):
    """Counters of a cache created with ``stats=True``."""

    hits: int
    misses: int
    evictions: int
    expirations: int
