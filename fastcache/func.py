"""``cachetools.func``: ``functools.lru_cache``-compatible decorators over the cache classes.

The same five decorators as ``cachetools.func`` (``fifo_cache``, ``lfu_cache``,
``lru_cache``, ``rr_cache``, ``ttl_cache``), with its signatures and results: each is
``cached(Cache(maxsize), key=hashkey or typedkey, info=True)`` with single flight, over
fastcache's own cache class (``maxsize=None``: a ``dict``; ``ttl_cache(maxsize=None)``: an
unbounded ``TTLCache``), and ``cache_parameters()``. Keys are ``fastcache.keys.hashkey``'s,
so keyword order does not matter and ``f(1)``/``f(1.0)`` share an entry, as in
``cachetools.func``.

Note that ``fastcache.lru_cache`` (and ``fastcache.cache``) are ``functools.lru_cache``
(keyword order significant, negative ``maxsize`` meaning 0, no single flight by default);
``fastcache.func.lru_cache`` is ``cachetools.func.lru_cache``. A module that did
``from cachetools.func import lru_cache`` changes it to ``from fastcache.func import
lru_cache``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from . import keys as _keys
from ._cached import _cached
from .caches import FIFOCache, LFUCache, LRUCache, RRCache, TTLCache

__all__ = ["fifo_cache", "lfu_cache", "lru_cache", "rr_cache", "ttl_cache"]


def _decorator(make: Callable[[Any], MutableMapping[Any, Any]], maxsize: Any,
               typed: bool) -> Any:
    """``cachetools.func``'s argument handling: a bare decorator, None, or a size."""
    if maxsize is None:
        return _cache({}, None, typed)
    if callable(maxsize):
        return _cache(make(128), 128, typed)(maxsize)
    return _cache(make(maxsize), maxsize, typed)


def _cache(cache: MutableMapping[Any, Any], maxsize: Any, typed: bool) -> Any:
    def decorator(func: Callable[..., Any]) -> Any:
        key = _keys.typedkey if typed else _keys.hashkey
        # single flight, as cachetools.func's condition variable; no lock: fastcache's own
        # caches are atomic per operation
        wrapper: Any = _cached(cache, key, None, None, True, True)(func)
        wrapper.cache_parameters = lambda: {"maxsize": maxsize, "typed": typed}
        return wrapper

    return decorator


def fifo_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """Memoize up to ``maxsize`` results, evicting the first inserted (FIFO)."""
    return _decorator(FIFOCache, maxsize, typed)


def lfu_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """Memoize up to ``maxsize`` results, evicting the least frequently used (LFU)."""
    return _decorator(LFUCache, maxsize, typed)


def lru_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """Memoize up to ``maxsize`` results, evicting the least recently used (LRU)."""
    return _decorator(LRUCache, maxsize, typed)


def rr_cache(maxsize: Any = 128, choice: Callable[[Any], Any] = random.choice,
             typed: bool = False) -> Any:
    """Memoize up to ``maxsize`` results, evicting ``choice(keys)`` (random replacement)."""
    return _decorator(lambda size: RRCache(size, choice), maxsize, typed)


def ttl_cache(maxsize: Any = 128, ttl: Any = 600, timer: Callable[[], Any] = time.monotonic,
              typed: bool = False) -> Any:
    """Memoize up to ``maxsize`` results (LRU) for ``ttl`` timer units each."""
    if maxsize is None:  # unbounded, and still expiring: cache_info().maxsize reads None
        return _cache(TTLCache(math.inf, ttl, timer), None, typed)
    return _decorator(lambda size: TTLCache(size, ttl, timer), maxsize, typed)

