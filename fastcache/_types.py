"""Small shared types: the compiled core's and the twin's constants, the decorators' CacheInfo."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, NamedTuple

__all__ = ["DELETED", "EVICTED", "EXPIRED", "REPLACED", "CacheInfo", "CacheStats", "process_seed"]

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


if TYPE_CHECKING:

    class CacheInfo(NamedTuple):
        """Statistics of a decorated function: ``functools``' own named tuple."""

        hits: int
        misses: int
        maxsize: int | None
        currsize: int

else:
    # The very class functools returns, so that results compare (and isinstance) alike.
    # (functools' class cannot be pickled, its name not matching its attribute: a
    # functools bug that comes along; convert with tuple() to pickle.)
    CacheInfo = functools._CacheInfo


_process_seed: list[int] = []


def process_seed() -> int:
    """The sketch seed of every ``WTinyLFUCache(seed=None)`` of this process, compiled or twin
    alike: random (``os.urandom``), drawn at its first use."""
    if not _process_seed:
        _process_seed.append(int.from_bytes(os.urandom(8), "little"))
    return _process_seed[0]
