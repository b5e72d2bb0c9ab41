"""Pure-Python call wrapper of the memoizing decorators: the reference for ``csrc/wrapper.c``.

``_lru_cache_wrapper(user_function, maxsize, typed, cache_info_type, *, policy, ttl, timer,
single_flight)`` returns the wrapper function that ``fastcache.decorators`` then passes to
``functools.update_wrapper``. As in ``functools``, the strategy is chosen here, once:
uncached (``maxsize == 0``), unbounded (``maxsize is None``) or bounded, and for bounded
caches the eviction policy: ``"lru"`` (least recently used), ``"fifo"`` (first in, first
out), ``"lfu"`` (least frequently used, ties to the least recent), ``"ttl"`` (LRU whose
entries expire ``ttl`` timer units after they were stored; also allowed unbounded).

Differences from ``functools._lru_cache_wrapper``, kept identical in the C wrapper:

1. Keys never take the single-argument shortcut (``f(3)`` keyed by ``3`` itself), so that
   ``f(3)`` and ``f(3.0)`` share an entry when ``typed`` is false, as the documentation of
   ``functools.lru_cache`` says they usually do (functools caches them separately because
   its shortcut changes the key's shape). Each argument is still hashed once per call.
2. ``single_flight=True``: threads asking for the same missing key run the function once;
   the others wait for the result (then count a hit), or, if it raised, try again
   themselves. A thread that re-enters the function for a key it is itself computing does
   not wait (no deadlock on recursion). Two threads each computing a key that the other
   one's computation asks for would wait for each other: avoid such cross recursion.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["_lru_cache_wrapper"]

# Marks the end of the positional arguments in a key; compared by identity.
_KWD_MARK = object()

_PREV, _NEXT, _KEY, _RESULT, _DEADLINE = 0, 1, 2, 3, 4


def _stack_bytes() -> int:
    """The C stack this thread can count on: threading.stack_size() (threads made after it
    was set), else RLIMIT_STACK (the main thread, and glibc's default for threads)."""
    size = threading.stack_size()
    if size and threading.current_thread() is not threading.main_thread():
        return size
    try:
        import resource
    except ImportError:  # Windows: 1 MiB by default
        return 1 << 20
    soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
    return soft if soft > 0 else 8 << 20


class _Depth(threading.local):
    """Per thread: how deep wrappers nest calls to user functions, and how deep they may.

    Calling the user function from a Python wrapper (``f(*args, **kwds)``) nests a C-level
    interpreter frame per level (~350 bytes on 3.11), so a memoised recursion deep enough
    would overflow the C stack however high ``sys.setrecursionlimit`` is. Allow one level
    per KiB of stack (the compiled wrapper measures the stack itself).
    """

    def __init__(self) -> None:
        self.depth = 0
        self.limit = max(_stack_bytes() // 1024, 200)


_tls = _Depth()


def _call(user_function: Callable[..., Any], args: tuple[Any, ...],
          kwds: dict[str, Any]) -> Any:
    """``user_function(*args, **kwds)``, refusing to nest beyond what the C stack holds."""
    tls = _tls
    if tls.depth >= tls.limit:
        raise RecursionError("maximum recursion depth exceeded (C stack) in a cached function")
    tls.depth += 1
    try:
        return user_function(*args, **kwds)
    finally:
        tls.depth -= 1


class _HashedSeq(list[Any]):
    """A key that hashes its items once, however many dict lookups it goes through."""

    __slots__ = ("hashvalue",)

    def __init__(self, tup: tuple[Any, ...]) -> None:
        self[:] = tup
        self.hashvalue = hash(tup)

    def __hash__(self) -> int:  # type: ignore[override]
        return self.hashvalue


_FASTTYPES = frozenset((int, str))


def _make_key(args: tuple[Any, ...], kwds: dict[str, Any], typed: bool,
              fasttypes: frozenset[type] = _FASTTYPES, type: type[type] = type,
              len: Callable[[Any], int] = len) -> Any:
    """Flat key of a call: args, then a mark and the keyword items in call order, then types;
    a single exact int or str argument (untyped) is its own key, as functools' _make_key
    (whose builtins it binds likewise: a cached ``len`` or ``type`` is not reentered)."""
    key = args
    if kwds:
        key += (_KWD_MARK,)
        for item in kwds.items():
            key += item
    if typed:
        key += tuple(type(v) for v in args)
        if kwds:
            key += tuple(type(v) for v in kwds.values())
    elif len(key) == 1 and type(key[0]) in fasttypes:
        return key[0]
    return _HashedSeq(key)


class _Store:
    """Storage and eviction policy of one bounded (or TTL) wrapper; the caller holds the lock.

    ``get`` counts an access and returns ``missing`` when absent (or expired); ``put``
    stores a value for a key known to be absent or expired, evicting as needed.
    """

    def __init__(self, maxsize: float) -> None:
        self.maxsize = maxsize
        self.map: dict[Any, list[Any]] = {}
        # not len(): the builtin may itself be a cached function (CPython test_functools)
        self.count = self.map.__len__

    def get(self, key: Any, missing: Any) -> Any:
        raise NotImplementedError

    def put(self, key: Any, value: Any) -> None:
        raise NotImplementedError

    def size(self) -> int:
        return self.count()

    def clear(self) -> None:
        _empty(self.map)


def _empty(mapping: dict[Any, Any]) -> None:
    """Empty a dict entry by entry (``popitem``: no user code), never by ``dict.clear()``:
    that swaps in the shared empty key table, and an insertion in progress (``cache_clear()``
    ran from its key's ``__eq__``) then stores a key that no lookup finds again."""
    popitem = mapping.popitem
    while mapping:
        popitem()


class _DictStore(_Store):
    """Unbounded, no order to keep: a plain dict."""

    def get(self, key: Any, missing: Any) -> Any:
        return self.map.get(key, missing)

    def put(self, key: Any, value: Any) -> None:
        self.map.setdefault(key, value)


# The stores below keep each entry's state in one link, found through ``map`` (the only dict
# where a key's ``__eq__`` runs, and so user code: ``get``, ``setdefault``, ``pop``); their
# other structures hold links (or ``id(link)``), so no user code runs while they change. A
# removal pops the key first, the structure consistent meanwhile, then unlinks what it popped
# (a nested call may have removed or replaced it); an insertion is one ``setdefault``, and what
# nested calls stored meanwhile beyond ``maxsize`` is evicted after.


class _LRUStore(_Store):
    """Least recently used (or, with ``move=False``, first in first out): functools' links."""

    def __init__(self, maxsize: float, move: bool = True) -> None:
        super().__init__(maxsize)
        self.move = move
        self.root: list[Any] = []
        self.root[:] = [self.root, self.root, None, None, None]

    def unlink(self, link: list[Any]) -> None:
        link[_PREV][_NEXT] = link[_NEXT]
        link[_NEXT][_PREV] = link[_PREV]

    def append(self, link: list[Any]) -> None:
        root = self.root
        last = root[_PREV]
        last[_NEXT] = root[_PREV] = link
        link[_PREV] = last
        link[_NEXT] = root

    def forget(self, link: list[Any]) -> None:
        """Take a link ``map`` no longer holds out of the order (marked: ``_PREV`` None)."""
        self.unlink(link)
        link[_PREV] = link[_NEXT] = None

    def drop(self, link: list[Any]) -> None:
        """Remove one entry (eviction, expiry)."""
        got = self.map.pop(link[_KEY], None)
        if got is not None:
            self.forget(got)

    def get(self, key: Any, missing: Any) -> Any:
        link = self.map.get(key)
        if link is None:
            return missing
        if self.move:
            self.unlink(link)
            self.append(link)
        return link[_RESULT]

    def oldest(self, keep: Any) -> list[Any] | None:
        """The link evicted next, never ``keep``; ``None`` if there is none."""
        root = self.root
        link = root[_NEXT]
        if link is keep:
            link = link[_NEXT]
        return None if link is root else link

    def put(self, key: Any, value: Any, deadline: Any = None) -> None:
        if key in self.map:  # stored meanwhile (recursion, another thread): keep it
            return
        while self.count() >= self.maxsize:
            victim = self.oldest(None)
            if victim is None:
                break
            self.drop(victim)
        link = [None, None, key, value, deadline]
        if self.map.setdefault(key, link) is not link:
            return  # stored meanwhile by the key's __eq__ (a recursive call): keep it
        self.link(link)
        while self.count() > self.maxsize:  # stored meanwhile by nested calls
            victim = self.oldest(link)
            if victim is None:
                break
            self.drop(victim)

    def link(self, link: list[Any]) -> None:
        """Link a new entry (``map`` holds it)."""
        self.append(link)

    def clear(self) -> None:
        for link in self.map.values():
            link[_PREV] = link[_NEXT] = None
        _empty(self.map)
        self.root[:] = [self.root, self.root, None, None, None]


class _TTLStore(_LRUStore):
    """LRU whose entries expire ``ttl`` after they were stored (``not now < deadline``).

    A second ordering by write time (= deadline order, the ttl being fixed) lets ``expire``
    reclaim exactly the expired entries, oldest first, without a scan.
    """

    def __init__(self, maxsize: float, ttl: float, timer: Callable[[], float]) -> None:
        super().__init__(maxsize)
        self.ttl = ttl
        self.timer = timer
        self.written: OrderedDict[int, list[Any]] = OrderedDict()  # id(link) -> link

    def get(self, key: Any, missing: Any) -> Any:
        now = self.timer()  # before the lookup (user code), as the C wrapper
        link = self.map.get(key)
        if link is None or not now < link[_DEADLINE]:
            return missing
        self.unlink(link)
        self.append(link)
        return link[_RESULT]

    def forget(self, link: list[Any]) -> None:
        super().forget(link)
        del self.written[id(link)]

    def link(self, link: list[Any]) -> None:
        super().link(link)
        self.written[id(link)] = link

    def expire(self, now: float) -> list[list[Any]]:
        """Remove the expired entries; the caller releases them (returned) when done."""
        written = self.written
        dead = []
        while written:
            link = next(iter(written.values()))
            if now < link[_DEADLINE]:
                break
            self.drop(link)  # gone from written, whatever a nested call did meanwhile
            dead.append(link)
        return dead

    def put(self, key: Any, value: Any, deadline: Any = None) -> None:
        now = self.timer()
        dead = self.expire(now)  # noqa: F841  (released when we return)
        link = self.map.get(key)
        if link is not None:
            if now < link[_DEADLINE]:  # stored meanwhile and still live: keep it
                return
            self.drop(link)  # expired, not reclaimed (a timer that went backwards)
        super().put(key, value, now + self.ttl)

    def size(self) -> int:
        dead = self.expire(self.timer())
        size = self.count()
        del dead
        return size

    def clear(self) -> None:
        super().clear()
        self.written.clear()


class _LFUStore(_Store):
    """Least frequently used, ties to the least recently used: O(1) frequency buckets."""

    def __init__(self, maxsize: float) -> None:
        super().__init__(maxsize)
        # frequency -> id(link) -> link, least recently promoted first; link: [key, value, freq]
        self.buckets: dict[int, OrderedDict[int, list[Any]]] = {}
        self.minfreq = 0

    def get(self, key: Any, missing: Any) -> Any:
        link = self.map.get(key)
        if link is None:
            return missing
        _key, value, freq = link
        bucket = self.buckets[freq]
        del bucket[id(link)]
        if not bucket:
            del self.buckets[freq]
            if self.minfreq == freq:
                self.minfreq = freq + 1
        link[2] = freq + 1
        self.buckets.setdefault(freq + 1, OrderedDict())[id(link)] = link
        return value

    def drop(self, link: list[Any]) -> None:
        got = self.map.pop(link[0], None)
        if got is None:
            return
        freq = got[2]
        bucket = self.buckets[freq]
        del bucket[id(got)]
        if not bucket:
            del self.buckets[freq]
            if self.minfreq == freq:
                self.minfreq = min(self.buckets, default=0)

    def victim(self, keep: Any) -> list[Any] | None:
        """The link evicted next, never ``keep``; ``None`` if there is none."""
        buckets = self.buckets
        lowest = (self.minfreq,) if keep is None and self.minfreq in buckets else sorted(buckets)
        for freq in lowest:
            for link in buckets[freq].values():
                if link is not keep:
                    return link
        return None

    def put(self, key: Any, value: Any) -> None:
        if key in self.map:
            return
        while self.count() >= self.maxsize:
            victim = self.victim(None)
            if victim is None:
                break
            self.drop(victim)
        link = [key, value, 1]
        if self.map.setdefault(key, link) is not link:
            return  # stored meanwhile by the key's __eq__ (a recursive call): keep it
        self.buckets.setdefault(1, OrderedDict())[id(link)] = link
        self.minfreq = 1
        while self.count() > self.maxsize:  # stored meanwhile by nested calls
            victim = self.victim(link)
            if victim is None:
                break
            self.drop(victim)

    def clear(self) -> None:
        _empty(self.map)
        self.buckets.clear()
        self.minfreq = 0


def make_store(
    maxsize: int | None,
    policy: str,
    ttl: float | None = None,
    timer: Callable[[], float] | None = None,
) -> _Store:
    """The store of a ``policy`` cache of ``maxsize`` entries (``None``: unbounded)."""
    bound = float("inf") if maxsize is None else maxsize
    if policy == "ttl":
        if ttl is None or timer is None:
            raise TypeError("the ttl policy needs ttl and timer")
        return _TTLStore(bound, ttl, timer)
    if policy not in ("lru", "fifo", "lfu"):
        raise ValueError(f"unknown policy {policy!r}")
    if maxsize is None:
        return _DictStore(bound)
    if policy == "lfu":
        return _LFUStore(bound)
    return _LRUStore(bound, move=policy == "lru")


class _Flight:
    """One in-flight computation: the thread running it, and an event made for waiters."""

    __slots__ = ("event", "owner")

    def __init__(self, owner: int) -> None:
        self.owner = owner
        self.event: threading.Event | None = None


def _lru_cache_wrapper(
    user_function: Callable[..., Any],
    maxsize: int | None,
    typed: bool,
    cache_info_type: Callable[[int, int, int | None, int], Any],
    *,
    policy: str = "lru",
    ttl: float | None = None,
    timer: Callable[[], float] | None = None,
    single_flight: bool = False,
) -> Callable[..., Any]:
    """Return the caching wrapper of ``user_function`` (no attributes copied yet)."""
    if not callable(user_function):
        raise TypeError("the first argument must be callable")
    if maxsize is not None:
        if not isinstance(maxsize, int):
            raise TypeError("maxsize should be integer or None")
        maxsize = max(int(maxsize), 0)  # an int: True reports 1, as functools' C wrapper
    if maxsize == 0:
        make_store(None, policy, ttl, timer)  # the same argument checks
        return _uncached_wrapper(user_function, cache_info_type)
    return _caching_wrapper(user_function, maxsize, typed, cache_info_type,
                            make_store(maxsize, policy, ttl, timer), single_flight)


def _uncached_wrapper(user_function: Callable[..., Any],
                      cache_info_type: Callable[[int, int, int | None, int], Any],
                      ) -> Callable[..., Any]:
    """``maxsize == 0``: no caching, just a statistics update."""
    misses = 0

    def wrapper(*args: Any, **kwds: Any) -> Any:
        nonlocal misses
        misses += 1
        return _call(user_function, args, kwds)

    def cache_info() -> Any:
        return cache_info_type(0, misses, 0, 0)

    def cache_clear() -> None:
        nonlocal misses
        misses = 0

    wrapper.cache_info = cache_info  # type: ignore[attr-defined]
    wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
    return wrapper


def _caching_wrapper(
    user_function: Callable[..., Any],
    maxsize: int | None,
    typed: bool,
    cache_info_type: Callable[[int, int, int | None, int], Any],
    store: _Store,
    single_flight: bool,
) -> Callable[..., Any]:
    sentinel = object()
    make_key = _make_key
    hits = misses = 0
    lock = threading.RLock()  # reentrant: a key's __eq__ may call the wrapper again

    get: Callable[[Any, Any], Any] = store.get
    if isinstance(store, _DictStore):
        get = store.map.get
    put, size, clear = store.put, store.size, store.clear

    if not single_flight:

        def wrapper(*args: Any, **kwds: Any) -> Any:
            nonlocal hits, misses
            key = make_key(args, kwds, typed)
            with lock:
                result = get(key, sentinel)
                if result is not sentinel:
                    hits += 1
                    return result
                misses += 1
            result = _call(user_function, args, kwds)
            with lock:
                put(key, result)
            return result

    else:
        inflight: dict[Any, _Flight] = {}
        get_ident = threading.get_ident

        def wrapper(*args: Any, **kwds: Any) -> Any:
            nonlocal hits, misses
            key = make_key(args, kwds, typed)
            me = get_ident()
            while True:
                with lock:
                    result = get(key, sentinel)
                    if result is not sentinel:
                        hits += 1
                        return result
                    flight = inflight.get(key)
                    if flight is None:
                        flight = inflight[key] = _Flight(me)
                        misses += 1
                        break
                    if flight.owner == me:  # recursion into a key this thread computes
                        misses += 1
                        flight = None
                        break
                    if flight.event is None:
                        flight.event = threading.Event()
                    event = flight.event
                event.wait()
            try:
                result = _call(user_function, args, kwds)
                with lock:
                    put(key, result)
                return result
            finally:
                if flight is not None:
                    with lock:
                        del inflight[key]
                    if flight.event is not None:
                        flight.event.set()

    def cache_info() -> Any:
        with lock:
            return cache_info_type(hits, misses, maxsize, size())

    def cache_clear() -> None:
        nonlocal hits, misses
        with lock:
            clear()
            hits = misses = 0

    wrapper.cache_info = cache_info  # type: ignore[attr-defined]
    wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
    return wrapper
