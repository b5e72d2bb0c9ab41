"""``cached`` and ``cachedmethod``: ``cachetools``' memoizing decorators over any mapping.

Kept apart from the ``functools`` family (``fastcache.decorators``), as ``cachetools`` keeps
its ``_cached.py``: these decorators store results in a mapping the caller gives (any
``MutableMapping``: a ``dict``, a ``fastcache.LRUCache``, a ``cachetools`` cache) and build a
specialised wrapper per lock/condition choice at decoration time. The compiled wrapper
(``_impl.cached_wrapper``) serves sync functions when the compiled core is in use; the
Python closures below are its twin. Public path: ``fastcache.decorators.cached`` /
``fastcache.cached`` (and ``cachedmethod``).
"""

from __future__ import annotations

import functools
import inspect
import math
import threading
from collections.abc import Callable, Hashable, MutableMapping
from contextlib import AbstractContextManager
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

from . import _validate
from . import keys as _keys
from ._impl import cached_wrapper as _mapping_factory
from ._types import CacheInfo

__all__ = ["cached", "cachedmethod"]

P = ParamSpec("P")
R = TypeVar("R")


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
    _validate.callable_(key, "key")
    return _cached(cache, key, lock, condition, info, condition is not None)


def _cached(cache: MutableMapping[Any, Any], key: Callable[..., Hashable],
            lock: AbstractContextManager[Any] | None, condition: Any, info: bool,
            single_flight: bool) -> _CachedDecorator:
    def decorator(func: Callable[..., Any]) -> Any:
        _validate.callable_(func, "the decorated object")
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
    _validate.callable_(cache, "cache")
    _validate.callable_(key, "key")

    def decorator(method: Callable[..., Any]) -> Any:
        return _CachedMethod(method, cache, key, lock, condition, info)

    return decorator
