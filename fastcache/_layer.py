"""The thin public layer over an implementation module (``_core`` or ``_py``).

Each public class adds the ``collections.abc.MutableMapping`` mixins (``keys``, ``items``,
``values``, ``update``, ``__eq__``, ...) to the implementation's class; everything on the
hot path comes from the implementation. ``build`` is called once for the selected
implementation (``fastcache.caches``) and once for the twin (``fastcache._py.public``), so
tests can run the same contract over both in one process, pickling included.
"""

from __future__ import annotations

import collections.abc
from types import ModuleType
from typing import Any

NAMES = ("Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "TTLCache", "TLRUCache",
         "SIEVECache", "S3FIFOCache", "WTinyLFUCache")

_DOCS = {
    "Cache": "Mutable mapping with a maximum size; evicts in insertion order (cachetools' Cache).",
    "FIFOCache": "First In First Out cache: evicts the entry inserted (or replaced) first.",
    "LFUCache": "Least Frequently Used cache; ties go to the least recently used entry.",
    "LRUCache": "Least Recently Used cache.",
    "RRCache": "Random Replacement cache: evicts ``choice(keys)``.",
    "TTLCache": "LRU cache whose entries expire ``ttl`` timer units after they were written.\n\n"
    "``set(key, value, ttl=...)`` gives one entry its own time to live;\n"
    "``remaining_ttl(key)`` reads what is left of it.",
    "TLRUCache": "LRU cache whose entries expire at ``ttu(key, value, now)``.",
    "SIEVECache": "SIEVE cache (NSDI'24): one FIFO queue; a hit sets the entry's visited bit;\n"
    "a hand moving from the oldest entry towards the newest clears visited bits and evicts\n"
    "the first unvisited entry, then stays there for the next eviction.",
    "S3FIFOCache": "S3-FIFO cache (SOSP'23): a small FIFO (``small_fraction`` of maxsize), a\n"
    "main FIFO and a ghost of the hashes of keys evicted from small (``ghost_fraction`` of\n"
    "maxsize); a hit counts up to 3; small's oldest moves to main if hit twice, else is\n"
    "evicted; main's oldest is reinserted with one less until it reaches 0. A new key whose\n"
    "hash is in the ghost goes straight to main.",
    "WTinyLFUCache": "Window TinyLFU cache: a small LRU window in front of a segmented LRU\n"
    "whose entries are admitted by a frequency sketch (the simulator's ``wtinylfu``, and with\n"
    "``adaptive=True`` its ``wtinylfu-hc``: a hill climber sizes the window).",
}


def build(impl: ModuleType, module_name: str) -> dict[str, Any]:
    """Return the public classes over ``impl``, named as members of ``module_name``."""
    out: dict[str, Any] = {}

    def make(name: str, bases: tuple[type, ...]) -> type:
        cls = type(name, bases, {"__module__": module_name, "__qualname__": name,
                                 "__doc__": _DOCS[name]})
        out[name] = cls
        return cls

    base = make("Cache", (impl.Cache, collections.abc.MutableMapping))
    for name in NAMES[1:]:
        make(name, (getattr(impl, name), base))
    return out
