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

import copy
import functools
import inspect
import math
import threading
import types
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
    key: Callable[..., Any], get_lock: Callable[[], Any] | None,
    get_cond: Callable[[], Any] | None, counts: _Lookup,
) -> Callable[..., Any]:
    """The sync call wrapper of ``cached``/``cachedmethod``: ``cachetools``' mixins.

    One specialisation per lock/condition choice. ``get_lock()``/``get_cond()`` are read on
    every call (``cachedmethod``'s ``lock(self)``/``condition(self)``, as in cachetools 8).
    With a condition, the user's condition is held: ``wait()`` while the key is being
    computed by another caller, ``notify_all()`` once the value is stored (or the call
    failed); a recursive call for the key a thread is itself computing does not wait on
    itself (cachetools would deadlock).
    """
    if get_lock is None and get_cond is None:

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

    elif get_cond is None:
        assert get_lock is not None
        lock_of = get_lock

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            c = get_cache()
            k = key(*args, **kwargs)
            guard = lock_of()
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
        cond_of = get_cond
        lock_of = get_lock if get_lock is not None else get_cond
        pending: dict[Any, int] = {}  # key -> thread computing it
        get_ident = threading.get_ident

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            c = get_cache()
            k = key(*args, **kwargs)
            guard = lock_of()
            cond = cond_of()
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


def _attach(wrapper: Any, get_cache: Callable[[], Any], get_lock: Callable[[], Any] | None,
            counts: _Lookup, info: bool) -> None:
    """``cache_clear()`` (and with ``info``, ``cache_info()``), under the lock if any."""

    def cache_clear() -> None:
        with get_lock() if get_lock is not None else _NOLOCK:
            get_cache().clear()
            counts.hits = counts.misses = 0

    wrapper.cache_clear = cache_clear
    if info:

        def cache_info() -> CacheInfo:
            with get_lock() if get_lock is not None else _NOLOCK:
                return _make_info(get_cache(), counts.hits, counts.misses)

        wrapper.cache_info = cache_info


class _CachedFunction:
    """A ``cached`` function in Python (the twin, a ``condition``, an ``async def``).

    As cachetools 8's wrapper: ``repr`` ``<cached <function ...>>``, binds as a method
    (``types.MethodType``, as ``functools.lru_cache``), pickles by qualified name.
    """

    def __init__(self, call: Callable[..., Any], func: Callable[..., Any]) -> None:
        # update first, so that a wrapped wrapper's __dict__ cannot override ours
        functools.update_wrapper(self, func)
        self._call = call

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    def __reduce__(self) -> str:
        return self.__qualname__  # type: ignore[attr-defined,no-any-return]

    def __repr__(self) -> str:
        return f"<cached {self.__wrapped__!r}>"  # type: ignore[attr-defined]


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
        guard = lock if lock is not None else condition
        wrapper: Any
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

            wrapper.cache_clear = cache_clear
            if info:
                def cache_info() -> CacheInfo:
                    with guard if guard is not None else _NOLOCK:
                        return _make_info(cache, *async_counts())

                wrapper.cache_info = cache_info
            wrapper.cache = cache
        elif _mapping_factory is not None and condition is None:
            # compiled; single flight (fastcache.func's) waits on the wrapper's own terms
            wrapper = _mapping_factory(func, cache, key, _make_info if info else None,
                                       lock=guard, single_flight=single_flight,
                                       fast_hashkey=key is _keys.hashkey)
            functools.update_wrapper(wrapper, func)
        else:
            # the twin, or the user's condition (held, waited on and notified as cachetools
            # does: only this path pays for it)
            cond = condition
            if cond is None and single_flight:
                cond = guard = threading.Condition()
            counts = _Lookup()
            get_lock = None if guard is None else functools.partial(_identity, guard)
            get_cond = None if cond is None else functools.partial(_identity, cond)
            get_cache = functools.partial(_identity, cache)
            wrapper = _CachedFunction(
                _cached_call(func, get_cache, key, get_lock, get_cond, counts), func)
            _attach(wrapper, get_cache, get_lock, counts, info)
            wrapper.cache = cache
        wrapper.cache_key = key
        wrapper.cache_lock = lock if lock is not None else condition
        wrapper.cache_condition = condition
        return wrapper

    return decorator


def _identity(value: Any) -> Any:
    return value


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
    """``obj.method`` of a ``cachedmethod`` in Python (the twin, a lock or a condition, an
    ``async def``): calls through ``cache(obj)``, ``lock(obj)``, ``condition(obj)``, each read
    on every call as cachetools 8 does."""

    def __init__(self, descriptor: _CachedMethod[..., Any], obj: Any) -> None:
        d = descriptor
        functools.update_wrapper(self, d.method)
        self.__obj = obj
        self.__descriptor = d
        self.cache_key = functools.partial(d.key, obj)
        method = types.MethodType(d.method, obj)
        counts = _Lookup()
        get_cache = functools.partial(d.cache, obj)
        get_lock = None if d.lock is None else functools.partial(d.lock, obj)
        get_cond = None if d.condition is None else functools.partial(d.condition, obj)
        guard = get_lock if get_lock is not None else get_cond

        if inspect.iscoroutinefunction(d.method):
            from ._async import make_async_wrapper

            awrapper, async_counts, reset = make_async_wrapper(
                method, lambda a, kw: d.key(obj, *a, **kw),
                lambda k, m: _mapping_get(get_cache())(k, m),
                lambda k, v: _mapping_put(get_cache())(k, v),
                guard() if guard is not None else None)
            self._call: Callable[..., Any] = awrapper

            def cache_clear() -> None:
                with guard() if guard is not None else _NOLOCK:
                    get_cache().clear()
                    reset()

            self.cache_clear = cache_clear
            if d.info:
                self.cache_info = lambda: _make_info(get_cache(), *async_counts())
        else:
            self._call = _cached_call(method, get_cache, self.cache_key, get_lock, get_cond,
                                      counts)
            _attach(self, get_cache, guard, counts, d.info)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    @property
    def cache(self) -> MutableMapping[Any, Any]:
        return self.__descriptor.cache(self.__obj)  # type: ignore[no-any-return]

    @property
    def cache_lock(self) -> Any:
        d = self.__descriptor
        lock = d.lock if d.lock is not None else d.condition
        return lock(self.__obj) if lock is not None else None

    @property
    def cache_condition(self) -> Any:
        d = self.__descriptor
        return d.condition(self.__obj) if d.condition is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        # bound again by the descriptor (counts start at zero), as cachetools does
        return (self.__descriptor.__get__, (self.__obj,))

    def __repr__(self) -> str:
        wrapped = self.__wrapped__  # type: ignore[attr-defined]
        return f"<cachedmethod {wrapped!r} of {object.__repr__(self.__obj)}>"


_SUPER_WRAPPERS = "__cachetools_cachedmethods"  # cachetools 8's name: pickles interchangeably


class _CachedMethod(Generic[P, R]):
    """The class attribute made by ``cachedmethod`` (cachetools 8's ``_MethodDescriptor``).

    ``obj.method`` binds once per instance: the bound wrapper is stored in the instance
    ``__dict__`` under the attribute's name, so ``cache_info`` counts per instance. When the
    attribute found on ``type(obj)`` is another one (a subclass overrides the method and
    calls ``super()``), this descriptor's wrapper is kept in ``obj.__dict__
    ["__cachetools_cachedmethods"]`` instead, one per descriptor. ``Class.method`` is an
    ``_Unbound`` callable (``Class.method(obj, x)``, a keyword receiver, autospec).
    fastcache's extensions: a ``__slots__`` instance without ``__dict__`` binds on every
    access (cachetools raises TypeError), and under ``classmethod`` the class is the
    receiver (cachetools raises TypeError).
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
        self._unbound: _Unbound | None = None
        functools.update_wrapper(self, method)

    def __set_name__(self, owner: type, name: str) -> None:
        if self.attrname is None:
            self.owner = owner
            self.attrname = name
        elif name != self.attrname:
            raise TypeError("Cannot assign the same descriptor to two different names "
                            f"({self.attrname!r} and {name!r}).")

    def _bind(self, obj: Any) -> Any:
        """The wrapper for ``obj``: compiled (the cache asked for once per call) when it can."""
        if (_mapping_factory is None or inspect.iscoroutinefunction(self.method)
                or self.lock is not None or self.condition is not None):
            return _BoundCachedMethod(self, obj)
        cache_key = functools.partial(self.key, obj)
        wrapper = _mapping_factory(
            types.MethodType(self.method, obj), self.cache, cache_key,
            _make_info if self.info else None, lock=None, single_flight=False,
            fast_hashkey=self.key is _keys.methodkey, owner=obj, cache_attr=self.cache_attr)
        functools.update_wrapper(wrapper, self.method)
        wrapper.cache_key = cache_key
        wrapper.cache_lock = wrapper.cache_condition = None
        descriptor = self
        # pickled and deep-copied as cachetools' wrapper: the descriptor binds it again (the
        # compiled type's own __deepcopy__ returns the wrapper itself, as functools' does)
        wrapper.__reduce__ = lambda: (descriptor.__get__, (obj,))
        wrapper.__deepcopy__ = lambda memo: descriptor.__get__(copy.deepcopy(obj, memo))
        return wrapper

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if isinstance(obj, type):
            # under classmethod (before 3.13, which calls __call__): the class is the receiver
            return self._bind(obj)
        name = self.attrname
        if name is None:
            raise TypeError("Cannot use descriptor instance without calling __set_name__ "
                            "on it") from None
        if obj is None:
            if self._unbound is None:
                self._unbound = _Unbound(self)
            return self._unbound
        for cls in type(obj).__mro__:
            if name in cls.__dict__:
                found = cls.__dict__[name]
                break
        else:
            found = None  # removed from the class after __set_name__
        try:
            if found is self:
                return obj.__dict__.setdefault(name, self._bind(obj))
            # reached through super(): neither reuse nor replace the override's wrapper
            wrappers = obj.__dict__.setdefault(_SUPER_WRAPPERS, {})
            wrapper = wrappers.get(self)
            if wrapper is None:
                wrapper = wrappers.setdefault(self, self._bind(obj))
            return wrapper
        except AttributeError:
            if hasattr(obj, "__dict__"):
                raise
            return self._bind(obj)  # __slots__ without __dict__: bind on every access
        except TypeError:
            raise TypeError(
                f"The '__dict__' attribute on {type(obj).__name__!r} instance does not "
                f"support item assignment for caching {name!r}") from None

    def __reduce__(self) -> tuple[Any, ...]:
        # by reference, as cachetools: the class attribute it is
        return (_lookup_attribute, (self.owner, self.attrname))

    def __call__(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Under ``classmethod`` (3.13+ calls the descriptor with the class)."""
        return self._bind(obj)(*args, **kwargs)


class _Unbound:
    """``Class.method``: calls ``method`` of the instance given first (or by keyword).

    Not a function (as cachetools 8): ``unittest.mock.create_autospec`` strips the receiver
    only from plain functions, so an autospec'd instance accepts the method's own arguments.
    """

    def __init__(self, descriptor: _CachedMethod[..., Any]) -> None:
        functools.update_wrapper(self, descriptor.method)
        self.__descriptor = descriptor
        self.__receiver: str | None = None  # the method's first parameter, by keyword

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__descriptor.__get__, (None,))

    def __repr__(self) -> str:
        return f"<cachedmethod {self.__wrapped__!r}>"  # type: ignore[attr-defined]

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        # an alias in another class body binds as the method does
        return self if obj is None else self.__descriptor.__get__(obj)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if args:
            obj, *rest = args
        else:
            obj, rest = self.__pop_receiver(kwargs), []
        return self.__descriptor.__get__(obj)(*rest, **kwargs)

    def __pop_receiver(self, kwargs: dict[str, Any]) -> Any:
        if self.__receiver is None:
            self.__receiver = ""
            try:
                param = next(iter(inspect.signature(self).parameters.values()))
            except (ValueError, StopIteration):
                pass  # no signature, or no parameters at all
            else:
                if param.kind is param.POSITIONAL_OR_KEYWORD:
                    self.__receiver = param.name
        try:
            return kwargs.pop(self.__receiver)
        except KeyError:
            raise TypeError("Cannot call @cachedmethod through the class without an "
                            "instance") from None


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
