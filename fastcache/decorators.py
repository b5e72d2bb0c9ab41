"""Memoizing decorators: ``lru_cache``/``cache`` as ``functools``, the rest as ``cachetools``.

Structure as ``functools``: the public decorators here validate their arguments, choose a
wrapper at decoration time and call ``update_wrapper`` once; the hot call wrapper is
the compiled ``fastcache._core._lru_cache_wrapper`` (``csrc/wrapper.c``) or its pure-Python twin
``fastcache._py.wrapper._lru_cache_wrapper``, as ``fastcache._impl`` chose (the one place
that does). ``WRAPPER_IMPLEMENTATION`` says which (``"c"`` or ``"py"``).

- ``lru_cache``, ``cache``: ``functools`` semantics (``cache_info``, ``cache_clear``,
  ``cache_parameters``, ``typed``, keyword order significant). One documented difference:
  with ``typed=False``, ``f(3)`` and ``f(3.0)`` share one entry (the documentation of
  ``functools`` says they usually do; its int/str key shortcut makes them two entries).
- ``lfu_cache``, ``fifo_cache``, ``ttl_cache`` (compiled policies of the same wrapper),
  ``rr_cache``, ``tlru_cache`` (over ``fastcache.RRCache``/``TLRUCache``): the signatures and
  ``cache_info`` of ``cachetools.func``; single flight (one computation per missing key,
  other threads wait) is on by default, as ``cachetools.func``'s condition variable gives.
- ``sieve_cache``, ``s3fifo_cache``, ``wtinylfu_cache``: the same over ``SIEVECache``,
  ``S3FIFOCache`` and ``WTinyLFUCache`` (their defaults), in ``cachetools.func``'s shape.
- ``cached``, ``cachedmethod``: ``cachetools.cached``/``cachedmethod`` over any mapping
  (defined in ``fastcache._cached``, re-exported here).
- An ``async def`` given to any of them caches the awaited result, never the coroutine, and
  concurrent callers share one in-flight computation (``fastcache._async``).
"""

from __future__ import annotations

import functools
import inspect
import math
import random
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any, ParamSpec, Protocol, TypeVar, overload

from . import _validate
from . import keys as _keys
from ._cached import _cached, _CachedFunction, _CachedMethod, cached, cachedmethod
from ._impl import WRAPPER_IMPLEMENTATION
from ._impl import cached_wrapper as _cached_factory
from ._impl import lru_cache_wrapper as _wrapper_factory
from ._py import wrapper as _pywrapper
from ._types import CacheInfo

__all__ = [
    "WRAPPER_IMPLEMENTATION",
    "WRAPPER_TYPES",
    "CacheInfo",
    "cache",
    "cached",
    "cachedmethod",
    "fifo_cache",
    "lfu_cache",
    "lru_cache",
    "rr_cache",
    "s3fifo_cache",
    "sieve_cache",
    "tlru_cache",
    "ttl_cache",
    "wtinylfu_cache",
]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

#: The classes of what the decorators put in a class body (the compiled wrappers, the Python
#: ``cached`` wrapper, the ``cachedmethod`` descriptor): for pydantic, which accepts only
#: functions, descriptors it knows and ``functools``' own objects as non-field attributes,
#: ``model_config = ConfigDict(ignored_types=fastcache.decorators.WRAPPER_TYPES)``.
WRAPPER_TYPES: tuple[type, ...] = tuple(
    t for t in (_wrapper_factory, _cached_factory, _CachedFunction, _CachedMethod)
    if isinstance(t, type))


class BoundCachedFunction(Protocol[R_co]):
    """A decorated method, bound: the result type is kept (the receiver is taken)."""

    def __call__(self, *args: Any, **kwargs: Any) -> R_co: ...

    def cache_info(self) -> CacheInfo: ...

    def cache_clear(self) -> None: ...

    def cache_parameters(self) -> dict[str, Any]: ...


class CachedFunction(Protocol[P, R_co]):
    """What the decorators return: the function's own signature plus the cache methods."""

    @property
    def __wrapped__(self) -> Callable[P, R_co]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def cache_info(self) -> CacheInfo: ...

    def cache_clear(self) -> None: ...

    def cache_parameters(self) -> dict[str, Any]: ...

    @overload
    def __get__(self, obj: None, objtype: type | None = None, /) -> CachedFunction[P, R_co]: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None, /
                ) -> BoundCachedFunction[R_co]: ...



def _call_key(typed: bool) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    """Key of a call as ``functools`` builds it (keyword order significant)."""
    make_key = _pywrapper._make_key

    def key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return make_key(args, kwargs, typed)

    return key


def _async_policy_wrapper(
    user_function: Callable[..., Any],
    maxsize: int | None,
    typed: bool,
    policy: str,
    ttl: float | None,
    timer: Callable[[], float] | None,
) -> Callable[..., Any]:
    """The async twin of ``_wrapper_factory``: same stores, awaited results, shared calls."""
    store = _pywrapper.make_store(maxsize, policy, ttl, timer) if maxsize != 0 else None
    lock = threading.RLock()
    if store is None:  # maxsize == 0: share in-flight calls, store nothing

        def get(key: Any, missing: Any) -> Any:
            return missing

        def put(key: Any, value: Any) -> None:
            pass

    else:
        get, put = store.get, store.put
    from ._async import make_async_wrapper  # asyncio only when an async def is decorated

    wrapper, counts, reset = make_async_wrapper(user_function, _call_key(typed), get, put, lock)

    def cache_info() -> CacheInfo:
        with lock:
            hits, misses = counts()
            return CacheInfo(hits, misses, maxsize, store.size() if store is not None else 0)

    def cache_clear() -> None:
        with lock:
            if store is not None:
                store.clear()
            reset()

    wrapper.cache_info = cache_info  # type: ignore[attr-defined]
    wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
    return wrapper


def _decorate(
    user_function: Callable[..., Any],
    maxsize: int | None,
    typed: bool,
    *,
    policy: str = "lru",
    ttl: float | None = None,
    timer: Callable[[], float] | None = None,
    single_flight: bool = False,
) -> Any:
    _validate.callable_(user_function, "the decorated object")
    wrapper: Any
    if inspect.iscoroutinefunction(user_function):
        wrapper = _async_policy_wrapper(user_function, maxsize, typed, policy, ttl, timer)
    elif policy == "lru" and ttl is None and not single_flight:
        # the exact functools call, so the compiled wrapper's signature stays functools'
        wrapper = _wrapper_factory(user_function, maxsize, typed, CacheInfo)
    else:
        wrapper = _wrapper_factory(user_function, maxsize, typed, CacheInfo, policy=policy,
                                   ttl=ttl, timer=timer, single_flight=single_flight)
    params = {"maxsize": maxsize, "typed": typed}
    wrapper.cache_parameters = lambda: dict(params)
    return functools.update_wrapper(wrapper, user_function)


@overload
def lru_cache(maxsize: Callable[P, R], typed: bool = ..., *,
              single_flight: bool = ...) -> CachedFunction[P, R]: ...
@overload
def lru_cache(maxsize: int | None = ..., typed: bool = ..., *,
              single_flight: bool = ...) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def lru_cache(maxsize: Any = 128, typed: bool = False, *, single_flight: bool = False) -> Any:
    """Least-recently-used cache decorator, as ``functools.lru_cache``.

    If *maxsize* is None the cache grows without bound; 0 (or negative) caches nothing.
    If *typed* is true, arguments of different types are cached separately (``f(3)`` and
    ``f(3.0)``). ``f.cache_info()``, ``f.cache_clear()``, ``f.cache_parameters()`` and
    ``f.__wrapped__`` as in ``functools``. With ``single_flight=True``, threads asking for
    the same missing key run the function once and the others wait for its result (off by
    default: ``functools`` lets them all run).
    """
    if not isinstance(maxsize, int) and callable(maxsize) and isinstance(typed, bool):
        return _decorate(maxsize, 128, typed, single_flight=single_flight)
    maxsize = _validate.decorator_maxsize(maxsize)

    def decorating_function(user_function: Callable[..., Any]) -> Any:
        return _decorate(user_function, maxsize, typed, single_flight=single_flight)

    return decorating_function


def cache(user_function: Callable[P, R], /) -> CachedFunction[P, R]:
    """Simple lightweight unbounded cache, as ``functools.cache``."""
    return lru_cache(maxsize=None)(user_function)


def _policy_decorator(maxsize: Any, typed: bool, **options: Any) -> Any:
    """``cachetools.func`` argument handling: bare decorator, None, or an int."""
    if callable(maxsize) and not isinstance(maxsize, int):
        return _decorate(maxsize, 128, typed, **options)
    size = _validate.decorator_maxsize(maxsize)
    if not isinstance(typed, bool):
        raise TypeError("typed must be a bool")

    def decorating_function(user_function: Callable[..., Any]) -> Any:
        return _decorate(user_function, size, typed, **options)

    return decorating_function


@overload
def lfu_cache(maxsize: Callable[P, R], typed: bool = ..., *,
              single_flight: bool = ...) -> CachedFunction[P, R]: ...
@overload
def lfu_cache(maxsize: int | None = ..., typed: bool = ..., *,
              single_flight: bool = ...) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def lfu_cache(maxsize: Any = 128, typed: bool = False, *, single_flight: bool = True) -> Any:
    """Least-frequently-used cache decorator (ties evict the least recently used)."""
    return _policy_decorator(maxsize, typed, policy="lfu", single_flight=single_flight)


@overload
def fifo_cache(maxsize: Callable[P, R], typed: bool = ..., *,
               single_flight: bool = ...) -> CachedFunction[P, R]: ...
@overload
def fifo_cache(maxsize: int | None = ..., typed: bool = ..., *,
               single_flight: bool = ...) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def fifo_cache(maxsize: Any = 128, typed: bool = False, *, single_flight: bool = True) -> Any:
    """First-in-first-out cache decorator."""
    return _policy_decorator(maxsize, typed, policy="fifo", single_flight=single_flight)


@overload
def ttl_cache(maxsize: Callable[P, R], ttl: float = ..., timer: Callable[[], float] = ...,
              typed: bool = ..., *, single_flight: bool = ...) -> CachedFunction[P, R]: ...
@overload
def ttl_cache(maxsize: int | None = ..., ttl: float = ..., timer: Callable[[], float] = ...,
              typed: bool = ..., *, single_flight: bool = ...
              ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def ttl_cache(maxsize: Any = 128, ttl: float = 600, timer: Callable[[], float] = time.monotonic,
              typed: bool = False, *, single_flight: bool = True) -> Any:
    """LRU cache decorator whose results expire ``ttl`` timer units after they were stored.

    A result is stale when ``not timer() < stored_at + ttl``; a stale result is computed
    again. ``timer`` is called on every call (``time.monotonic`` is read in C directly).
    """
    ttl = _validate.ttl(ttl)
    _validate.callable_(timer, "timer")
    return _policy_decorator(maxsize, typed, policy="ttl", ttl=ttl, timer=timer,
                             single_flight=single_flight)


def _mapping_decorator(make_cache: Callable[[float], MutableMapping[Any, Any]],
                       maxsize: Any, typed: bool) -> Any:
    """``cachetools.func._cache``: ``cached(cache, key, condition, info=True)`` over
    ``make_cache(maxsize)`` (``math.inf`` for ``maxsize=None``)."""
    if callable(maxsize) and not isinstance(maxsize, int):
        return _mapping_decorator(make_cache, 128, typed)(maxsize)
    size = _validate.decorator_maxsize(maxsize)
    if not isinstance(typed, bool):
        raise TypeError("typed must be a bool")

    def decorating_function(user_function: Callable[..., Any]) -> Any:
        key = _keys.typedkey if typed else _keys.hashkey
        # single flight, as cachetools.func's condition variable; no lock: fastcache's own
        # caches are atomic per operation
        cache = make_cache(math.inf if size is None else size)
        wrapper: Any = _cached(cache, key, None, None, True, True)(user_function)
        wrapper.cache_parameters = lambda: {"maxsize": size, "typed": typed}
        return wrapper

    return decorating_function


@overload
def rr_cache(maxsize: Callable[P, R], choice: Callable[[Any], Any] = ...,
             typed: bool = ...) -> CachedFunction[P, R]: ...
@overload
def rr_cache(maxsize: int | None = ..., choice: Callable[[Any], Any] = ...,
             typed: bool = ...) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def rr_cache(maxsize: Any = 128, choice: Callable[[Any], Any] = random.choice,
             typed: bool = False) -> Any:
    """Random-replacement cache decorator (evicts ``choice(keys)``), over ``RRCache``."""
    _validate.callable_(choice, "choice")

    def make(size: float) -> MutableMapping[Any, Any]:
        from .caches import RRCache

        return RRCache(size, choice)

    return _mapping_decorator(make, maxsize, typed)


@overload
def tlru_cache(maxsize: Callable[P, R], ttu: Callable[[Any, Any, float], float] = ...,
               timer: Callable[[], float] = ..., typed: bool = ...) -> CachedFunction[P, R]: ...
@overload
def tlru_cache(maxsize: int | None = ..., ttu: Callable[[Any, Any, float], float] = ...,
               timer: Callable[[], float] = ..., typed: bool = ...
               ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def tlru_cache(maxsize: Any = 128, ttu: Callable[[Any, Any, float], float] | None = None,
               timer: Callable[[], float] = time.monotonic, typed: bool = False) -> Any:
    """LRU cache decorator whose results expire at ``ttu(key, result, now)``, over TLRUCache.

    ``ttu`` is required (keyword): ``tlru_cache(ttu=lambda k, v, now: now + 60)``.
    """
    if ttu is None:
        raise TypeError("tlru_cache() needs ttu, a function (key, value, now) -> deadline")
    _validate.callable_(ttu, "ttu")
    _validate.callable_(timer, "timer")

    def make(size: float) -> MutableMapping[Any, Any]:
        from .caches import TLRUCache

        return TLRUCache(size, ttu, timer)

    return _mapping_decorator(make, maxsize, typed)


def _policy_mapping_decorator(cls_name: str, maxsize: Any, typed: bool) -> Any:
    """A ``_mapping_decorator`` over ``fastcache.caches.<cls_name>(maxsize)``."""

    def make(size: float) -> MutableMapping[Any, Any]:
        from . import caches

        cache: MutableMapping[Any, Any] = getattr(caches, cls_name)(size)
        return cache

    return _mapping_decorator(make, maxsize, typed)


@overload
def sieve_cache(maxsize: Callable[P, R], typed: bool = ...) -> CachedFunction[P, R]: ...
@overload
def sieve_cache(maxsize: int | None = ..., typed: bool = ...
                ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def sieve_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """SIEVE cache decorator (NSDI'24: a FIFO with visited bits and a moving hand), over
    ``SIEVECache``; ``cachetools.func``'s shape (``cache_info``, single flight)."""
    return _policy_mapping_decorator("SIEVECache", maxsize, typed)


@overload
def s3fifo_cache(maxsize: Callable[P, R], typed: bool = ...) -> CachedFunction[P, R]: ...
@overload
def s3fifo_cache(maxsize: int | None = ..., typed: bool = ...
                 ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def s3fifo_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """S3-FIFO cache decorator (SOSP'23: small, main and ghost FIFOs), over ``S3FIFOCache``
    with its default fractions; ``cachetools.func``'s shape (``cache_info``, single flight)."""
    return _policy_mapping_decorator("S3FIFOCache", maxsize, typed)


@overload
def wtinylfu_cache(maxsize: Callable[P, R], typed: bool = ...) -> CachedFunction[P, R]: ...
@overload
def wtinylfu_cache(maxsize: int | None = ..., typed: bool = ...
                   ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...
def wtinylfu_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """W-TinyLFU cache decorator (Caffeine's policy, adaptive, a random sketch seed), over
    ``WTinyLFUCache``; ``cachetools.func``'s shape (``cache_info``, single flight)."""
    return _policy_mapping_decorator("WTinyLFUCache", maxsize, typed)
