"""Memoizing decorators: ``lru_cache``/``cache`` as ``functools``, the rest as ``cachetools``.

Structure as ``functools``: the public decorators here validate their arguments, choose a
wrapper at decoration time and call ``update_wrapper`` once; the hot call wrapper is
``fastcache._core._lru_cache_wrapper`` (compiled, ``csrc/wrapper.c``) or its pure-Python
twin ``fastcache._py.wrapper._lru_cache_wrapper`` (``FASTCACHE_PURE_PYTHON=1``, or no
compiler). ``WRAPPER_IMPLEMENTATION`` says which (``"c"`` or ``"py"``).

- ``lru_cache``, ``cache``: ``functools`` semantics (``cache_info``, ``cache_clear``,
  ``cache_parameters``, ``typed``, keyword order significant). One documented difference:
  with ``typed=False``, ``f(3)`` and ``f(3.0)`` share one entry (the documentation of
  ``functools`` says they usually do; its int/str key shortcut makes them two entries).
- ``lfu_cache``, ``fifo_cache``, ``ttl_cache`` (compiled policies of the same wrapper),
  ``rr_cache``, ``tlru_cache`` (over ``fastcache.RRCache``/``TLRUCache``): the signatures and
  ``cache_info`` of ``cachetools.func``; single flight (one computation per missing key,
  other threads wait) is on by default, as ``cachetools.func``'s condition variable gives.
- ``cached``, ``cachedmethod``: ``cachetools.cached``/``cachedmethod`` over any mapping.
- An ``async def`` given to any of them caches the awaited result, never the coroutine, and
  concurrent callers share one in-flight computation (``fastcache._async``).
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import random
import threading
import time
from collections.abc import Callable, Hashable, MutableMapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, ParamSpec, Protocol, TypeVar, overload

from . import keys as _keys
from ._py import wrapper as _pywrapper

__all__ = [
    "WRAPPER_IMPLEMENTATION",
    "CacheInfo",
    "cache",
    "cached",
    "cachedmethod",
    "fifo_cache",
    "lfu_cache",
    "lru_cache",
    "rr_cache",
    "tlru_cache",
    "ttl_cache",
]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

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

_wrapper_factory: Callable[..., Any]
_mapping_factory: Callable[..., Any] | None = None  # compiled cached(); None: Python closures
WRAPPER_IMPLEMENTATION: str
if os.environ.get("FASTCACHE_PURE_PYTHON", "") not in ("", "0"):
    _wrapper_factory, WRAPPER_IMPLEMENTATION = _pywrapper._lru_cache_wrapper, "py"
else:
    try:
        from ._core import _cached_wrapper, _lru_cache_wrapper
    except ImportError:  # not compiled here: the twin is complete
        _wrapper_factory, WRAPPER_IMPLEMENTATION = _pywrapper._lru_cache_wrapper, "py"
    else:
        _wrapper_factory, WRAPPER_IMPLEMENTATION = _lru_cache_wrapper, "c"
        _mapping_factory = _cached_wrapper


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


def _check_maxsize(maxsize: object) -> int | None:
    """``maxsize`` as ``functools`` takes it: an int (negative means 0) or None."""
    if maxsize is None:
        return None
    if isinstance(maxsize, int):
        return max(maxsize, 0)
    raise TypeError("Expected first argument to be an integer, a callable, or None")


def _check_ttl(ttl: object, name: str = "ttl") -> float:
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise TypeError(f"{name} must be a real number, not {type(ttl).__name__}")
    if not ttl > 0:
        raise ValueError(f"{name} must be positive")
    return ttl


def _check_callable(obj: object, name: str) -> None:
    if not callable(obj):
        raise TypeError(f"{name} must be callable, not {type(obj).__name__}")


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
    _check_callable(user_function, "the decorated object")
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
    if isinstance(maxsize, int):
        maxsize = max(maxsize, 0)
    elif callable(maxsize) and isinstance(typed, bool):
        return _decorate(maxsize, 128, typed, single_flight=single_flight)
    elif maxsize is not None:
        raise TypeError("Expected first argument to be an integer, a callable, or None")

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
    size = _check_maxsize(maxsize)
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
    ttl = _check_ttl(ttl)
    _check_callable(timer, "timer")
    return _policy_decorator(maxsize, typed, policy="ttl", ttl=ttl, timer=timer,
                             single_flight=single_flight)


def _mapping_decorator(make_cache: Callable[[int | None], MutableMapping[Any, Any]],
                       maxsize: Any, typed: bool) -> Any:
    """``cachetools.func._cache``: ``cached(cache, key, condition, info=True)``."""
    if callable(maxsize) and not isinstance(maxsize, int):
        return _mapping_decorator(make_cache, 128, typed)(maxsize)
    size = _check_maxsize(maxsize)
    if not isinstance(typed, bool):
        raise TypeError("typed must be a bool")

    def decorating_function(user_function: Callable[..., Any]) -> Any:
        key = _keys.typedkey if typed else _keys.hashkey
        # single flight, as cachetools.func's condition variable; no lock: fastcache's own
        # caches are atomic per operation
        wrapper: Any = _cached(make_cache(size), key, None, None, True, True)(user_function)
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
    _check_callable(choice, "choice")

    def make(size: int | None) -> MutableMapping[Any, Any]:
        from .caches import RRCache

        return RRCache(math.inf if size is None else size, choice)

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
    _check_callable(ttu, "ttu")
    _check_callable(timer, "timer")

    def make(size: int | None) -> MutableMapping[Any, Any]:
        from .caches import TLRUCache

        return TLRUCache(math.inf if size is None else size, ttu, timer)

    return _mapping_decorator(make, maxsize, typed)


# ---------------------------------------------------------------------------------------
# cached / cachedmethod: cachetools' semantics over any mutable mapping

def _make_info(cache: Any, hits: int, misses: int) -> CacheInfo:
    """``cachetools.CacheInfo._make_info``: maxsize/currsize of a cache, None/len of a dict."""
    maxsize = getattr(cache, "maxsize", None)
    if maxsize is not None and hasattr(cache, "currsize"):
        if maxsize == math.inf:
            maxsize = None
        return CacheInfo(hits, misses, maxsize, cache.currsize)
    return CacheInfo(hits, misses, None, len(cache))


class _Lookup:
    """Hit and miss counters of one wrapper."""

    __slots__ = ("hits", "misses")

    def __init__(self) -> None:
        self.hits = self.misses = 0


def _cached_call(
    func: Callable[..., Any], get_cache: Callable[[], MutableMapping[Any, Any]],
    key: Callable[..., Any], lock: AbstractContextManager[Any] | None,
    cond: Any, counts: _Lookup,
) -> Callable[..., Any]:
    """The sync call wrapper of ``cached``, one specialisation per lock/condition choice."""
    if lock is None and cond is None:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            c = get_cache()
            k = key(*args, **kwargs)
            try:
                result = c[k]
                counts.hits += 1
                return result
            except KeyError:
                counts.misses += 1
            val = func(*args, **kwargs)
            try:
                c[k] = val
            except ValueError:
                pass  # value too large
            return val

    elif cond is None:
        assert lock is not None
        guard = lock

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            c = get_cache()
            k = key(*args, **kwargs)
            with guard:
                try:
                    result = c[k]
                    counts.hits += 1
                    return result
                except KeyError:
                    counts.misses += 1
            val = func(*args, **kwargs)
            with guard:
                try:
                    # another thread may have stored a value meanwhile: prefer it
                    return c.setdefault(k, val)
                except ValueError:
                    return val  # value too large

    else:
        guard = lock if lock is not None else cond
        pending: dict[Any, int] = {}  # key -> thread computing it
        get_ident = threading.get_ident

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            c = get_cache()
            k = key(*args, **kwargs)
            me = get_ident()
            with guard:
                while pending.get(k, me) != me:
                    cond.wait()
                try:
                    result = c[k]
                    counts.hits += 1
                    return result
                except KeyError:
                    counts.misses += 1
                mine = k not in pending  # recursion into our own key: do not wait on us
                pending[k] = me
            try:
                val = func(*args, **kwargs)
                with guard:
                    try:
                        c[k] = val
                    except ValueError:
                        pass  # value too large
                    return val
            finally:
                if mine:
                    with guard:
                        del pending[k]
                        cond.notify_all()

    return wrapper


def _attach(wrapper: Any, func: Callable[..., Any], get_cache: Callable[[], Any],
            lock: Any, counts: _Lookup, info: bool) -> None:
    def cache_clear() -> None:
        if lock is not None:
            with lock:
                get_cache().clear()
                counts.hits = counts.misses = 0
        else:
            get_cache().clear()
            counts.hits = counts.misses = 0

    wrapper.cache_clear = cache_clear
    if info:

        def cache_info() -> CacheInfo:
            if lock is not None:
                with lock:
                    return _make_info(get_cache(), counts.hits, counts.misses)
            return _make_info(get_cache(), counts.hits, counts.misses)

        wrapper.cache_info = cache_info


class _CachedDecorator(Protocol):
    def __call__(self, func: Callable[P, R], /) -> Callable[P, R]: ...


def cached(
    cache: MutableMapping[Any, Any],
    key: Callable[..., Hashable] = _keys.hashkey,
    lock: AbstractContextManager[Any] | None = None,
    condition: Any = None,
    info: bool = False,
) -> _CachedDecorator:
    """Decorator memoizing a function in ``cache``, as ``cachetools.cached``.

    ``key(*args, **kwargs)`` builds the key (default :func:`fastcache.keys.hashkey`);
    ``lock`` (a context manager) guards the cache; ``condition`` (a
    ``threading.Condition``) also makes threads wait for a key being computed (single
    flight); ``info=True`` adds ``cache_info()``. The wrapper has ``cache``,
    ``cache_key``, ``cache_lock``, ``cache_condition`` and ``cache_clear()``. An ``async
    def`` is supported: the awaited result is stored.
    """
    if cache is None:
        raise TypeError("cache must not be None")
    _check_callable(key, "key")
    return _cached(cache, key, lock, condition, info, condition is not None)


def _cached(cache: MutableMapping[Any, Any], key: Callable[..., Hashable],
            lock: AbstractContextManager[Any] | None, condition: Any, info: bool,
            single_flight: bool) -> _CachedDecorator:
    def decorator(func: Callable[..., Any]) -> Any:
        _check_callable(func, "the decorated object")
        counts = _Lookup()
        guard = lock if lock is not None else condition
        cond = condition
        if single_flight and cond is None:
            cond = threading.Condition()

        def get_cache() -> MutableMapping[Any, Any]:
            return cache

        # update_wrapper first, so that a wrapped wrapper's __dict__ cannot override ours
        if inspect.iscoroutinefunction(func):
            from ._async import make_async_wrapper

            wrapper, async_counts, reset = make_async_wrapper(
                func, lambda a, kw: key(*a, **kw), _mapping_get(cache), _mapping_put(cache),
                guard)
            functools.update_wrapper(wrapper, func)

            def cache_clear() -> None:
                with guard if guard is not None else _NOLOCK:
                    cache.clear()
                    reset()

            wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
            if info:
                def cache_info() -> CacheInfo:
                    with guard if guard is not None else _NOLOCK:
                        return _make_info(cache, *async_counts())

                wrapper.cache_info = cache_info  # type: ignore[attr-defined]
        elif _mapping_factory is not None:
            # compiled: single flight waits on the GIL's terms, the lock guards the cache
            wrapper = _mapping_factory(func, cache, key, _make_info if info else None,
                                       lock=guard, single_flight=single_flight,
                                       fast_hashkey=key is _keys.hashkey)
            functools.update_wrapper(wrapper, func)
        else:
            wrapper = _cached_call(func, get_cache, key, lock, cond, counts)
            functools.update_wrapper(wrapper, func)
            _attach(wrapper, func, get_cache, guard if guard is not None else cond, counts,
                    info)
        if _mapping_factory is None or inspect.iscoroutinefunction(func):
            wrapper.cache = cache  # type: ignore[attr-defined]
        wrapper.cache_key = key  # type: ignore[attr-defined]
        wrapper.cache_lock = guard  # type: ignore[attr-defined]
        wrapper.cache_condition = condition  # type: ignore[attr-defined]
        return wrapper

    return decorator


class _NoLock(AbstractContextManager[None]):
    def __exit__(self, *exc: object) -> None:
        return None


_NOLOCK = _NoLock()


def _mapping_get(cache: MutableMapping[Any, Any]) -> Callable[[Any, Any], Any]:
    def get(key: Any, missing: Any) -> Any:
        try:
            return cache[key]
        except KeyError:
            return missing

    return get


def _mapping_put(cache: MutableMapping[Any, Any]) -> Callable[[Any, Any], None]:
    def put(key: Any, value: Any) -> None:
        try:
            cache[key] = value
        except ValueError:
            pass  # value too large

    return put


def _attribute_of_self(self: Any) -> Any:
    return self.attribute  # the shape of `lambda self: self.cache`, compiled here


# *args, **kwargs, generator, coroutine, async generator: not a plain attribute read
_SPECIAL_CODE_FLAGS = 0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200


def _attribute_getter_name(func: object) -> str | None:
    """``name`` when ``func`` is exactly ``lambda self: self.<name>`` (or a def of that
    body): the compiled wrapper then reads the attribute itself, the same lookup without a
    Python frame. None for anything else (then ``func(self)`` is called)."""
    code = getattr(func, "__code__", None)
    ref = _attribute_of_self.__code__
    if (code is None or type(func) is not type(_attribute_of_self)
            or code.co_code != ref.co_code or code.co_argcount != 1
            or code.co_kwonlyargcount or code.co_posonlyargcount or len(code.co_names) != 1
            or code.co_flags & _SPECIAL_CODE_FLAGS or code.co_consts[1:] != ref.co_consts[1:]
            or getattr(func, "__closure__", None)):
        return None
    name: str = code.co_names[0]
    return name


class _BoundCachedMethod:
    """``obj.method`` of a ``cachedmethod``: calls through the instance's cache."""

    def __init__(self, descriptor: _CachedMethod[..., Any], obj: Any) -> None:
        d = descriptor
        self.__wrapped__ = d.method
        self.__obj = obj
        self.__descriptor = d
        self.cache_key = functools.partial(d.key, obj)
        method = d.method.__get__(obj, type(obj))
        counts = _Lookup()
        lock = d.lock(obj) if d.lock is not None else None
        cond = d.condition(obj) if d.condition is not None else None

        def get_cache() -> MutableMapping[Any, Any]:
            return d.cache(obj)  # type: ignore[no-any-return]

        if inspect.iscoroutinefunction(d.method):
            guard = lock if lock is not None else cond
            from ._async import make_async_wrapper

            awrapper, async_counts, reset = make_async_wrapper(
                method, lambda a, kw: d.key(obj, *a, **kw),
                lambda k, m: _mapping_get(get_cache())(k, m),
                lambda k, v: _mapping_put(get_cache())(k, v), guard)
            self._call: Callable[..., Any] = awrapper

            def cache_clear() -> None:
                with guard if guard is not None else _NOLOCK:
                    get_cache().clear()
                    reset()

            self.cache_clear = cache_clear
            if d.info:
                self.cache_info = lambda: _make_info(get_cache(), *async_counts())
        else:
            self._call = _cached_call(method, get_cache, self.cache_key, lock, cond, counts)
            _attach(self, method, get_cache, lock if lock is not None else cond, counts, d.info)
        functools.update_wrapper(self, d.method)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    @property
    def cache(self) -> MutableMapping[Any, Any]:
        return self.__descriptor.cache(self.__obj)  # type: ignore[no-any-return]

    @property
    def cache_lock(self) -> Any:
        d = self.__descriptor
        return d.lock(self.__obj) if d.lock is not None else None

    @property
    def cache_condition(self) -> Any:
        d = self.__descriptor
        return d.condition(self.__obj) if d.condition is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__descriptor.__get__, (self.__obj,))

    def __repr__(self) -> str:
        return f"<cachedmethod {self.__wrapped__!r} of {object.__repr__(self.__obj)}>"


class _CachedMethod(Generic[P, R]):
    """The class attribute made by ``cachedmethod``; binds per instance, once.

    The bound wrapper is stored in the instance ``__dict__`` under the attribute's name (as
    cachetools 8 does), so later lookups find it directly and ``cache_info`` counts per
    instance.
    """

    def __init__(self, method: Callable[..., Any], cache: Callable[[Any], Any],
                 key: Callable[..., Hashable], lock: Callable[[Any], Any] | None,
                 condition: Callable[[Any], Any] | None, info: bool) -> None:
        self.method = method
        self.cache = cache
        self.key = key
        self.lock = lock
        self.condition = condition
        self.info = info
        self.attrname: str | None = None
        self.owner: type | None = None
        self.cache_attr = _attribute_getter_name(cache)
        functools.update_wrapper(self, method)

    def __set_name__(self, owner: type, name: str) -> None:
        if self.attrname is None:
            self.owner = owner
            self.attrname = name
        elif name != self.attrname:
            raise TypeError("Cannot assign the same cachedmethod to two different names "
                            f"({self.attrname!r} and {name!r}).")

    def _bind(self, obj: Any) -> Any:
        """The wrapper for ``obj``: compiled (the cache asked for once per call) when it can."""
        if _mapping_factory is None or inspect.iscoroutinefunction(self.method):
            return _BoundCachedMethod(self, obj)
        lock = self.lock(obj) if self.lock is not None else None
        cond = self.condition(obj) if self.condition is not None else None
        cache_key = functools.partial(self.key, obj)
        wrapper = _mapping_factory(
            self.method.__get__(obj, type(obj)), self.cache, cache_key,
            _make_info if self.info else None, lock=lock if lock is not None else cond,
            single_flight=cond is not None, fast_hashkey=self.key is _keys.methodkey,
            owner=obj, cache_attr=self.cache_attr)
        functools.update_wrapper(wrapper, self.method)
        wrapper.cache_key = cache_key
        wrapper.cache_lock = lock if lock is not None else cond
        wrapper.cache_condition = cond
        descriptor = self
        # pickled as cachetools does: the descriptor binds it again
        wrapper.__reduce__ = lambda: (descriptor.__get__, (obj,))
        return wrapper

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        bound = self._bind(obj)
        if self.attrname is not None:
            try:
                return obj.__dict__.setdefault(self.attrname, bound)
            except AttributeError:
                pass  # __slots__: bind on every access
        return bound

    def __reduce__(self) -> tuple[Any, ...]:
        # by reference, as cachetools: the class attribute it is
        return (_lookup_attribute, (self.owner, self.attrname))

    def __call__(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """``Class.method(obj, ...)``: call through ``obj``'s cache."""
        return self.__get__(obj)(*args, **kwargs)


def _lookup_attribute(owner: type, name: str) -> Any:
    return owner.__dict__[name]


def cachedmethod(
    cache: Callable[[Any], MutableMapping[Any, Any]],
    key: Callable[..., Hashable] = _keys.methodkey,
    lock: Callable[[Any], AbstractContextManager[Any]] | None = None,
    condition: Callable[[Any], Any] | None = None,
    info: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    """Decorator memoizing a method in ``cache(self)``, as ``cachetools.cachedmethod``.

    ``key(self, *args, **kwargs)`` builds the key (default
    :func:`fastcache.keys.methodkey`, which ignores ``self``); ``lock(self)`` and
    ``condition(self)`` as for :func:`cached`. ``obj.method.cache``, ``.cache_key``,
    ``.cache_lock``, ``.cache_clear()`` and (``info=True``) ``.cache_info()``.
    """
    _check_callable(cache, "cache")
    _check_callable(key, "key")

    def decorator(method: Callable[..., Any]) -> Any:
        return _CachedMethod(method, cache, key, lock, condition, info)

    return decorator
