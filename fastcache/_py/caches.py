"""Pure-Python twin of the compiled cache core (``csrc/cache.c``): ``Cache``, ``FIFOCache``,
``LRUCache`` and ``RRCache`` (``LFUCache`` is in ``lfu.py``, the timed caches in ``timed.py``).

The behaviour is the contract in docs/core-spec.md; this module is its executable reference.

How it is built:

1. Storage is one ``OrderedDict`` (``Cache``, ``FIFOCache``, ``LRUCache``, the timed caches) or
   ``dict`` (``RRCache``, ``LFUCache``) of key -> value; the ``OrderedDict``'s order *is* the
   eviction order (``move_to_end`` and taking the first key are O(1) in C). Sizes live in a
   second dict only when ``getsizeof`` is not the default (as cachetools).
2. LFU (``lfu.py``, the twin of ``csrc/lfu.c``) is the O(1) frequency-bucket list of Shah,
   Mitra and Matani (2010): a doubly linked list of buckets in increasing frequency, each an
   ``OrderedDict`` of keys in the order they reached that frequency, so ties go to the least
   recently used key. (The C keeps the same order as groups on its one eviction list.)
3. Threads: writes hold an ``RLock``; reads of keys of exact type ``int``/``str``/``bytes``/
   ``float`` are lock-free (one C dict operation each, atomic under the GIL), because an
   uncontended lock costs more than the read itself. Reads of other keys take the lock, so that a
   key whose ``__eq__`` mutates the same cache is seen (below). Hit/miss counters are
   ``itertools.count`` objects, whose ``next()`` is atomic.
4. Speed (``bench/bench_twin.py``: no slower than cachetools where the contract allows it):
   strategy is chosen at construction, not per call. Without stats, reads of ``int`` and ``str``
   keys take an inlined path (``type(key) is self._fint``; with stats ``_fint``/``_fstr`` are a
   type no key has); with unit sizes and no ``popitem()`` override, ``__setitem__`` is one
   inlined locked update per policy (``_fast``). ``OrderedDict`` method lookups are avoided on
   hot paths (``key in data``, the bound ``_mte = data.move_to_end``, ``popitem(False)``).
5. Reentrancy: ``_depth`` counts the operations of this cache on the current thread's stack (it
   is only written under the lock). A mutation made while another operation is in progress
   (from a key's ``__eq__``/``__hash__``, a value's ``__del__``, ``getsizeof``) counts as a
   restart of that operation's lookup (the ``dict`` restarts it); after ``_MAX_RESTARTS`` of them
   the mutation raises ``RuntimeError("cache changed during lookup")``, which propagates out of
   the comparison to the outer operation.
6. Removed keys and values are kept referenced by locals until the structure is consistent again,
   so a ``__del__`` that touches the cache sees a consistent cache; the listener ``on_evict`` and
   ``__missing__`` run after the lock is released.
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
import random
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .._types import DELETED, EVICTED, EXPIRED, REPLACED, CacheStats

__all__ = [
    "DELETED",
    "EVICTED",
    "EXPIRED",
    "REPLACED",
    "Cache",
    "CacheStats",
    "FIFOCache",
    "LRUCache",
    "RRCache",
]

MISSING: Any = object()
_random = random.random
#: Key types whose ``__hash__``/``__eq__`` never run Python code: reads of them need no lock.
PLAIN = frozenset({int, str, bytes, float})
_MAX_RESTARTS = 100

Note = tuple[Any, Any, str]


def check_maxsize(maxsize: Any) -> Any:
    """Validate ``maxsize``: an ``int`` >= 0 (not ``bool``) or ``math.inf``."""
    if isinstance(maxsize, bool):
        raise TypeError("maxsize must be an int or math.inf, not bool")
    if isinstance(maxsize, float):
        if maxsize != maxsize or maxsize < 0:
            raise ValueError("maxsize must be non-negative")
        if maxsize == math.inf:
            return maxsize
        raise TypeError(f"maxsize must be an int or math.inf, not {type(maxsize).__name__}")
    try:
        n = operator.index(maxsize)
    except TypeError:
        raise TypeError(
            f"maxsize must be an int or math.inf, not {type(maxsize).__name__}"
        ) from None
    if n < 0:
        raise ValueError("maxsize must be non-negative")
    return n


def check_callable(value: Any, name: str, optional: bool = True) -> Any:
    """Raise ``TypeError`` unless ``value`` is callable (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if not callable(value):
        raise TypeError(f"{name} must be callable{' or None' if optional else ''}, "
                        f"not {type(value).__name__}")
    return value


MAX_SIZE = sys.maxsize  # the compiled core keeps sizes (and their total) in a Py_ssize_t


def check_size(size: Any) -> int:
    """Validate a value size returned by ``getsizeof``."""
    if not isinstance(size, int):
        raise TypeError(f"value size must be an int, not {type(size).__name__}")
    if size < 0:
        raise ValueError("value size must be non-negative")
    if size > MAX_SIZE:
        raise ValueError("value too large")
    return size


def count_value(counter: itertools.count[int]) -> int:
    """The next value of an ``itertools.count`` without advancing it."""
    return int(repr(counter)[6:-1])


def default_getsizeof(value: Any) -> int:
    """Return the size of a cache element's value (always 1)."""
    return 1


class _GetSizeOf:
    """``getsizeof``: the static default, or the function given to the constructor."""

    def __get__(self, obj: Any, owner: Any = None) -> Callable[[Any], int]:
        if obj is not None:
            fn: Callable[[Any], int] | None = obj._sizefn
            if fn is not None:
                return fn
        return default_getsizeof


class _Restart(Exception):
    """Raised inside a write whose lookup ran ``__init__`` (from a key's ``__eq__``): the
    configuration it computed with is gone; the write starts again (as the C's generation)."""


class _NoFastPath:
    """Stands for the key types of the read fast path when it is disabled (no key has it)."""


class Cache:
    """Mutable mapping with a maximum size; evicts in insertion order (cachetools' ``Cache``)."""

    __slots__ = (
        "_churn",
        "_currsize",
        "_data",
        "_depth",
        "_evictions",
        "_expirations",
        "_fast",
        "_fint",
        "_fstr",
        "_gen",
        "_hits",
        "_lock",
        "_maxsize",
        "_misses",
        "_mte",
        "_on_evict",
        "_own_popitem",
        "_pinned",
        "_pop",
        "_sized",
        "_sizefn",
        "_sizes",
        "_stats",
    )

    getsizeof: Any = _GetSizeOf()
    _on_evict: Callable[[Any, Any, str], object] | None
    _lock: Any  # set once, at the first initialisation (_setup)
    # The storage is an OrderedDict where eviction takes the first key: a dict would make
    # next(iter(d)) skip the deleted slots at its front, O(n) per eviction between resizes.
    _ordered = True

    def __init__(self, maxsize: Any, getsizeof: Callable[[Any], int] | None = None, *,
                 on_evict: Callable[[Any, Any, str], object] | None = None,
                 stats: bool = False) -> None:
        self._setup(maxsize, getsizeof, on_evict, stats)

    # -- construction -------------------------------------------------------------------------

    def _setup(self, maxsize: Any, getsizeof: Any, on_evict: Any, stats: Any) -> None:
        """(Re)initialise: the arguments are checked first (a failure changes nothing); then,
        under the lock (kept from the first initialisation: ``__init__`` may be called again,
        even from a key's ``__eq__`` while an operation holds it), the cache starts afresh."""
        maxsize = check_maxsize(maxsize)
        sizefn = check_callable(getsizeof, "getsizeof")
        on_evict = check_callable(on_evict, "on_evict")
        try:
            lock = self._lock
        except AttributeError:  # the first initialisation
            lock = self._lock = threading.RLock()
            self._depth = 0
            self._churn = 0
        depth = self._enter(True)
        try:
            data = getattr(self, "_data", None)
            old = None if data is None else list(data.items())  # released after, consistent
            self._configure(maxsize, sizefn, on_evict, stats)
        finally:
            self._leave(depth)
        del old, lock

    def _configure(self, maxsize: Any, sizefn: Any, on_evict: Any, stats: Any) -> None:
        self._gen = getattr(self, "_gen", 0) + 1
        self._maxsize = maxsize
        self._sizefn = sizefn
        self._on_evict = on_evict
        cls_sizeof = type(self).getsizeof
        self._sized = sizefn is not None or cls_sizeof is not default_getsizeof
        self._sizes: dict[Any, int] | None = {} if self._sized else None
        if getattr(self, "_data", None) is None:
            self._new_storage()
        else:  # __init__ again: emptied in place, as clear() (_setup releases the entries)
            self._data.clear()
        self._currsize: Any = 0
        self._pinned: Any = MISSING
        self._own_popitem = type(self).popitem in _OWN_POPITEMS
        # __setitem__'s fast path: unit sizes, no popitem() override, room for one entry
        self._fast = not self._sized and self._own_popitem and self._maxsize >= 1
        self._stats = bool(stats)
        # The lock-free read fast path (no stats to count) takes keys of exactly these types;
        # with stats, no key's type is _NoFastPath and every read takes the general path.
        self._fint: type = _NoFastPath if self._stats else int
        self._fstr: type = _NoFastPath if self._stats else str
        self._reset_counters()
        self._p_init()

    def _new_storage(self) -> None:
        """A new, empty storage; ``_mte`` and ``_pop`` are its ``move_to_end`` and ``pop`` (a
        bound method called from a local is cheaper than the method lookup on an
        ``OrderedDict``)."""
        if self._ordered:
            self._data: Any = collections.OrderedDict()
            self._mte: Any = self._data.move_to_end
        else:
            self._data = {}
            self._mte = None
        self._pop: Any = self._data.pop

    def _reset_counters(self) -> None:
        self._hits = itertools.count()
        self._misses = itertools.count()
        self._evictions = 0
        self._expirations = 0

    # -- policy hooks (overridden per policy) -------------------------------------------------

    def _p_init(self) -> None:
        pass

    #: ``_p_link(key)``: a new key was stored (as the newest entry); ``None``: nothing to do.
    _p_link: Callable[[Any], None] | None = None

    #: ``_p_replace(key)``: ``c[k] = v`` over an existing key; ``None``: nothing to do.
    _p_replace: Callable[[Any], None] | None = None

    #: ``_p_unlink(key)``: a key was removed from the storage; ``None``: nothing to do.
    _p_unlink: Callable[[Any], None] | None = None

    def _p_first(self) -> Any:
        """The key the policy evicts next, never ``self._pinned``."""
        pinned = self._pinned
        for key in self._data:
            if pinned is MISSING or not (key is pinned or key == pinned):
                return key
        raise KeyError(f"{type(self).__name__} is empty") from None

    def _p_order(self) -> list[Any]:
        """The keys in eviction order."""
        return list(self._data)

    def _p_clear(self) -> None:
        pass

    def _p_check(self) -> None:
        pass

    def _p_state(self) -> Any:
        return None

    def _p_restore(self, extra: Any) -> None:
        pass

    # -- locking ------------------------------------------------------------------------------

    def _enter(self, mutating: bool) -> int:
        """Acquire the lock and account for reentrancy; return the depth to restore."""
        lock = self._lock
        lock.acquire()
        depth = self._depth
        if depth:
            if mutating:
                self._nested_write(lock)
        else:
            self._churn = 0
        self._depth = depth + 1
        return depth

    def _nested_write(self, lock: Any) -> None:
        """A mutation while another operation of this cache is in progress on this thread:
        one more restart of that operation's lookup."""
        self._churn += 1
        if self._churn > _MAX_RESTARTS:
            lock.release()
            raise RuntimeError("cache changed during lookup")

    def _leave(self, depth: int) -> None:
        self._depth = depth
        self._lock.release()

    def _notify(self, notes: list[Note] | None) -> None:
        """Deliver ``notes`` to the listener; the first exception is raised after all ran."""
        callback = self._on_evict
        if callback is None or not notes:
            return
        error: BaseException | None = None
        for key, value, cause in notes:
            try:
                callback(key, value, cause)
            except Exception as exc:
                if error is None:
                    error = exc
        if error is not None:
            raise error

    # -- internal structure updates (lock held) -----------------------------------------------

    def _discard(self, key: Any) -> Any:
        """Remove ``key`` and return its value, or ``MISSING`` if absent."""
        pop = self._pop
        value = pop(key, MISSING)
        if value is not MISSING:
            sizes = self._sizes
            self._currsize -= 1 if sizes is None else sizes.pop(key)
            unlink = self._p_unlink
            if unlink is not None:
                unlink(key)
        return value

    def _take(self, key: Any) -> Any:
        """``pop``'s removal: ``_discard`` (the timed caches leave expired entries)."""
        return self._discard(key)

    def _evict_one(self) -> tuple[Any, Any]:
        data = self._data
        if self._pinned is MISSING and data:  # the storage order is the eviction order
            key = next(iter(data))
        else:
            key = self._p_first()
        return key, self._discard(key)

    def _evict_chosen(self) -> tuple[Any, Any]:
        key = self._p_first()
        return key, self._discard(key)

    def _size_of(self, value: Any) -> int:
        fn = self._sizefn
        size = check_size(fn(value) if fn is not None else self.getsizeof(value))
        if size > self._maxsize:
            raise ValueError("value too large")
        return size

    def _make_room(self, size: int, pinned: Any, delta: int, notes: list[Note]) -> None:
        """Evict with ``popitem()`` until an entry of ``size`` fits (``delta`` if ``pinned``
        is stored and stays)."""
        data = self._data
        maxsize = self._maxsize
        self._pinned = pinned
        try:
            while True:
                cur = self._currsize
                if pinned is not MISSING and pinned in data:
                    if cur + delta <= maxsize:
                        return
                elif cur + size <= maxsize:
                    return
                if self._own_popitem:
                    key, value = self._evict_one()
                else:
                    count = len(data)
                    key, value = self.popitem()
                    if len(data) >= count and self._currsize >= cur:
                        raise RuntimeError("popitem() did not remove an item")
                notes.append((key, value, EVICTED))
                self._evictions += 1
        finally:
            self._pinned = MISSING

    def _store(self, key: Any, value: Any, size: int, notes: list[Note]) -> None:
        """``c[key] = value`` with the lock held; appends listener notes."""
        gen = self._gen
        data = self._data
        old = data.get(key, MISSING)
        if self._gen != gen:
            raise _Restart
        sizes = self._sizes
        grow = size - (0 if old is MISSING else 1 if sizes is None else sizes[key])
        if grow > MAX_SIZE - self._currsize and self._maxsize > MAX_SIZE:
            # unbounded (nothing evicted to make room): the total must stay a Py_ssize_t
            raise OverflowError("cache size overflow")
        if old is MISSING:
            maxsize = self._maxsize
            if self._currsize + size > maxsize:
                if self._own_popitem:
                    evict = self._evict_one
                    while self._currsize + size > maxsize:
                        evicted, evalue = evict()
                        notes.append((evicted, evalue, EVICTED))
                        self._evictions += 1
                else:
                    self._make_room(size, MISSING, 0, notes)
                    if self._gen != gen:  # popitem() cleared or re-initialised the cache
                        raise _Restart
            data[key] = value
            sizes = self._sizes
            if sizes is not None:
                sizes[key] = size
            self._currsize += size
            link = self._p_link
            if link is not None:
                link(key)
            return
        sizes = self._sizes
        oldsize = 1 if sizes is None else sizes[key]
        replace = self._p_replace
        if replace is not None:
            replace(key)
        if self._currsize - oldsize + size > self._maxsize:
            self._make_room(size, key, size - oldsize, notes)
            if key not in data:  # a popitem() override evicted it: store it anew
                self._store(key, value, size, notes)
                return
        data[key] = value
        if sizes is not None:
            sizes[key] = size
        self._currsize += size - oldsize
        notes.append((key, old, REPLACED))

    # -- mapping operations -------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no access to record, no stats: no lock
            try:
                return self._data[key]
            except KeyError:
                pass
            return self.__missing__(key)
        if t in PLAIN:  # with stats (or a bytes/float key): still no lock
            try:
                value = self._data[key]
            except KeyError:
                value = MISSING
            return self._counted(key, value)
        return self._counted(key, self._locked_lookup(key))

    def _counted(self, key: Any, value: Any) -> Any:
        """The end of ``c[key]`` once looked up (``MISSING``: absent): stats, ``__missing__``."""
        if value is not MISSING:
            if self._stats:
                next(self._hits)
            return value
        if self._stats:
            next(self._misses)
        return self.__missing__(key)

    def _lookup(self, key: Any) -> Any:
        """The value (an access) or ``MISSING``; lock held or key plain."""
        data = self._data
        if key in data:  # cheaper than OrderedDict.get
            try:
                return data[key]
            except KeyError:  # removed meanwhile by another thread
                pass
        return MISSING

    def _locked_lookup(self, key: Any) -> Any:
        depth = self._enter(False)
        try:
            return self._lookup(key)
        finally:
            self._leave(depth)

    def __missing__(self, key: Any) -> Any:
        raise KeyError(key)

    #: Whether ``c[k] = v`` over an existing key makes it the newest (FIFO, LRU) or not (Cache).
    _reorder = False

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self._fast:
            self._setitem_general(key, value)
            return
        # The common case, specialised: unit sizes (currsize == len), no popitem() override,
        # so one eviction makes room. The lock and reentrancy accounting are _enter inlined.
        # This is the storage-ordered policies' (Cache, FIFO, LRU); RR, LFU and the timed
        # caches have their own.
        lock = self._lock
        lock.acquire()
        depth = self._depth
        if depth:
            self._nested_write(lock)
        else:
            self._churn = 0
        self._depth = depth + 1
        evicted = None
        gen = self._gen
        try:
            data = self._data
            old = MISSING
            if key in data:  # cheaper than OrderedDict.get
                try:
                    old = data[key]
                except KeyError:  # removed meanwhile by a key's __eq__: an insert
                    pass
            if self._gen != gen:
                raise _Restart
            if old is MISSING:
                if self._currsize >= self._maxsize:  # the storage order is the eviction order
                    evicted = data.popitem(False)
                    self._evictions += 1
                else:
                    self._currsize += 1
                data[key] = value
            else:
                data[key] = value
                if self._reorder:
                    mte = self._mte
                    mte(key)
        except _Restart:
            gen = -1
        finally:
            self._depth = depth
            lock.release()
        if gen == -1:
            self._restart_write(key, value)
            return
        if self._on_evict is not None:
            self._report(key, old, evicted)

    def _report(self, key: Any, old: Any, evicted: tuple[Any, Any] | None) -> None:
        """The listener call of a fast-path ``__setitem__``: what it evicted or replaced."""
        callback = self._on_evict
        if callback is not None:
            if evicted is not None:
                callback(evicted[0], evicted[1], EVICTED)
            elif old is not MISSING:
                callback(key, old, REPLACED)

    def _setitem_general(self, key: Any, value: Any) -> None:
        """``c[key] = value`` with sizes, a ``popitem()`` override, or ``maxsize == 0``."""
        if self._sized:
            size = self._size_of(value)
        elif self._maxsize < 1:
            raise ValueError("value too large")
        else:
            size = 1
        notes: list[Note] = []
        depth = self._enter(True)
        try:
            self._store(key, value, size, notes)
        except _Restart:
            notes.append((key, value, ""))  # marks the restart (never reported)
        finally:
            self._leave(depth)
        if notes and notes[-1][2] == "":
            self._restart_write(key, value)
            return
        if notes and self._on_evict is not None:
            self._notify(notes)

    def _restart_write(self, key: Any, value: Any) -> None:
        """A write interrupted by ``__init__``: again, under the new configuration (a key
        re-initialising the cache at every comparison: RuntimeError, as a lookup's bound)."""
        self._churn += 1
        if self._churn > _MAX_RESTARTS:
            raise RuntimeError("cache changed during lookup")
        self[key] = value

    def __delitem__(self, key: Any) -> None:
        Cache.pop(self, key)  # the same removal (not a subclass's pop())

    def __contains__(self, key: Any) -> bool:
        if type(key) in PLAIN:
            return key in self._data
        depth = self._enter(False)
        try:
            return key in self._data
        finally:
            self._leave(depth)

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Any]:
        depth = self._enter(False)
        try:
            keys = self._p_order()
        finally:
            self._leave(depth)
        return self._iter_live(keys)

    def _iter_live(self, keys: list[Any]) -> Iterator[Any]:
        for key in keys:
            if key in self:
                yield key

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no access to record, no stats: no lock
            data = self._data
            if key in data:  # cheaper than OrderedDict.get, above all for a miss
                try:
                    return data[key]
                except KeyError:  # removed meanwhile by another thread
                    pass
            return default
        return self._get_lookup(key, default)

    def _get_lookup(self, key: Any, default: Any = None) -> Any:
        """``get`` through ``_lookup`` (with stats, or a key off the fast path)."""
        if type(key) in PLAIN:
            value = self._lookup(key)
        else:
            value = self._locked_lookup(key)
        if value is MISSING:
            if self._stats:
                next(self._misses)
            return default
        if self._stats:
            next(self._hits)
        return value

    def peek(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` without counting an access, else ``default``."""
        depth = self._enter(False)
        try:
            value = self._data.get(key, MISSING)
        finally:
            self._leave(depth)
        return default if value is MISSING else value

    def pop(self, key: Any, default: Any = MISSING) -> Any:
        """Remove ``key`` and return its value; ``default`` (or ``KeyError``) if absent."""
        lock = self._lock  # _enter and _leave inlined
        lock.acquire()
        depth = self._depth
        if depth:
            self._nested_write(lock)
        else:
            self._churn = 0
        self._depth = depth + 1
        try:
            value = self._take(key)
        finally:
            self._depth = depth
            lock.release()
        if value is MISSING:
            if default is MISSING:
                raise KeyError(key)
            return default
        if self._on_evict is not None:
            self._on_evict(key, value, DELETED)
        return value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else store and return ``default``."""
        value = self._locked_lookup(key)
        if value is MISSING:
            self[key] = value = default
        return value

    def popitem(self) -> tuple[Any, Any]:
        """Remove and return the ``(key, value)`` pair the policy evicts next."""
        depth = self._enter(False)
        try:
            return self._evict_one()
        finally:
            self._leave(depth)

    def clear(self) -> None:
        """Remove every entry (no listener calls)."""
        depth = self._enter(True)
        try:
            # Emptied in place, so that a dict lookup in progress (this clear() ran from its
            # key's __eq__) starts again, as the C's does; the entries are released once the
            # structure is consistent again. A write in progress starts again (_gen).
            old = list(self._data.items())
            self._gen += 1
            self._data.clear()
            if self._sizes is not None:
                self._sizes = {}
            self._currsize = 0
            self._p_clear()
        finally:
            self._leave(depth)
        del old

    @property
    def on_evict(self) -> Callable[[Any, Any, str], object] | None:
        """The listener called with ``(key, value, cause)`` when an entry leaves the cache."""
        return self._on_evict

    @property
    def maxsize(self) -> Any:
        """The maximum size of the cache."""
        return self._maxsize

    @property
    def currsize(self) -> Any:
        """The current size of the cache (the sum of the entries' sizes)."""
        return self._currsize

    def stats(self) -> CacheStats:
        """The counters of a cache created with ``stats=True``."""
        if not self._stats:
            raise RuntimeError("stats not enabled")
        return CacheStats(count_value(self._hits), count_value(self._misses),
                          self._evictions, self._expirations)

    def reset_stats(self) -> None:
        """Zero the counters."""
        if not self._stats:
            raise RuntimeError("stats not enabled")
        self._reset_counters()

    def __repr__(self) -> str:
        depth = self._enter(False)
        try:
            data = self._data
            items = {key: data[key] for key in self._p_order()}
            currsize = self._currsize
        finally:
            self._leave(depth)
        # the reprs of keys and values run user code: outside the lock
        return f"{type(self).__name__}({items!r}, maxsize={self._maxsize!r}, " \
               f"currsize={currsize!r})"

    # -- pickle / copy ------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {"maxsize": self._maxsize, "getsizeof": self._sizefn,
                "on_evict": self._on_evict, "stats": self._stats}

    def __getstate__(self) -> Any:
        depth = self._enter(False)
        try:
            sizes = self._sizes
            data = self._data
            entries = [(key, data[key], 1 if sizes is None else sizes[key])
                       for key in self._p_order()]
            counters = (count_value(self._hits), count_value(self._misses),
                        self._evictions, self._expirations)
            extra = self._p_state()
        finally:
            self._leave(depth)
        return (self._params(), entries, counters, extra, getattr(self, "__dict__", None))

    def __setstate__(self, state: Any) -> None:
        params, entries, counters, extra, user_dict = state
        self._setup_from(params)
        data = self._data
        sizes = self._sizes
        maxsize = self._maxsize
        for key, value, size in entries:  # everything a pickle says is checked (it may be crafted)
            size = check_size(size)
            if sizes is None and size != 1:
                raise ValueError("invalid cache state: entry size")
            if size > maxsize - self._currsize:
                raise ValueError("invalid cache state: entries larger than maxsize")
            if key in data:
                raise ValueError("invalid cache state: duplicate key")
            data[key] = value
            if sizes is not None:
                sizes[key] = size
            self._currsize += size
        if not (isinstance(counters, tuple) and len(counters) == 4
                and all(type(n) is int and n >= 0 for n in counters)):
            raise ValueError("invalid cache state: counters")
        self._hits = itertools.count(counters[0])
        self._misses = itertools.count(counters[1])
        self._evictions, self._expirations = counters[2], counters[3]
        self._p_restore((entries, extra))
        if user_dict:
            self.__dict__.update(user_dict)

    def _setup_from(self, params: dict[str, Any]) -> None:
        self._setup(params["maxsize"], params["getsizeof"], params["on_evict"],
                    params["stats"])

    # -- debugging ----------------------------------------------------------------------------

    def _check(self) -> None:
        """Verify the internal invariants; raise ``AssertionError`` if one is broken."""
        data = self._data
        sizes = self._sizes
        if sizes is None:
            _require(self._currsize == len(data), "currsize != len(data)")
            _require(len(data) <= self._maxsize, "len above maxsize")
        else:
            _require(sizes.keys() == data.keys(), "sizes and data disagree")
            _require(sum(sizes.values()) == self._currsize, "sizes do not add up")
        _require(self._currsize <= self._maxsize, "currsize above maxsize")
        _require(self._depth == 0, "depth not restored")
        _require(self._pinned is MISSING, "pinned key left set")
        mte = self._mte
        _require(mte is None or mte.__self__ is data, "_mte is not the storage's move_to_end")
        _require(self._pop.__self__ is data, "_pop is not the storage's pop")
        self._p_check()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


class FIFOCache(Cache):
    """First In First Out cache: evicts the entry inserted (or replaced) first."""

    __slots__ = ()

    def _move_to_end(self, key: Any) -> None:
        self._data.move_to_end(key)

    _p_replace = _move_to_end
    _reorder = True

    def _p_first(self) -> Any:
        try:
            return next(iter(self._data))
        except StopIteration:
            raise KeyError(f"{type(self).__name__} is empty") from None

    def _evict_one(self) -> tuple[Any, Any]:
        if not self._data:
            raise KeyError(f"{type(self).__name__} is empty") from None
        key, value = self._data.popitem(False)
        sizes = self._sizes
        self._currsize -= 1 if sizes is None else sizes.pop(key)
        return key, value


class LRUCache(FIFOCache):
    """Least Recently Used cache."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free (two atomic dict calls)
            try:
                value = self._data[key]
                mte = self._mte
                mte(key)
                return value
            except KeyError:  # absent, or removed meanwhile by another thread
                pass
            return self.__missing__(key)
        if t in PLAIN:  # with stats (or a bytes/float key): no lock
            return self._counted(key, self._lookup(key))
        return self._counted(key, self._locked_lookup(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free
            data = self._data
            if key in data:  # cheaper than OrderedDict.get, above all for a miss
                try:
                    value = data[key]
                    mte = self._mte
                    mte(key)
                    return value
                except KeyError:  # removed meanwhile by another thread
                    pass
            return default
        return self._get_lookup(key, default)

    def _lookup(self, key: Any) -> Any:
        data = self._data
        if key in data:  # cheaper than OrderedDict.get
            try:
                value = data[key]
                mte = self._mte
                mte(key)
                return value
            except KeyError:  # removed meanwhile by another thread
                pass
        return MISSING



class RRCache(Cache):
    """Random Replacement cache: evicts ``choice(keys)``."""

    __slots__ = ("_choice", "_index", "_keys", "_uniform")
    _ordered = False
    _choice: Callable[[Any], Any]

    def __init__(self, maxsize: Any, choice: Callable[[Any], Any] = random.choice,
                 getsizeof: Callable[[Any], int] | None = None, *,
                 on_evict: Callable[[Any, Any, str], object] | None = None,
                 stats: bool = False) -> None:
        self._choice = check_callable(choice, "choice", optional=False)
        self._setup(maxsize, getsizeof, on_evict, stats)

    @property
    def choice(self) -> Callable[[Any], Any]:
        """The ``choice`` function used by the cache."""
        return self._choice

    def _p_init(self) -> None:
        self._index: dict[Any, int] = {}
        self._keys: list[Any] = []
        # random.choice is a new bound method at each access: compare, do not test identity
        self._uniform = self._choice == random.choice

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self._fast:
            self._setitem_general(key, value)
            return
        # As Cache.__setitem__, with _p_first, _discard and _link inlined.
        gen = self._gen
        depth = self._enter(True)
        evicted = None
        try:
            data = self._data
            old = data.get(key, MISSING)
            if self._gen != gen:
                raise _Restart
            if old is MISSING:
                keys = self._keys
                index = self._index
                if self._currsize >= self._maxsize:
                    if self._uniform:  # the default choice: uniform, without the Python call
                        gone = keys[int(_random() * len(keys))]
                    else:
                        gone = self._p_first()
                    evicted = gone, data.pop(gone)
                    self._evictions += 1
                    i = index.pop(gone)
                    last = keys.pop()
                    if i != len(keys):
                        keys[i] = last
                        index[last] = i
                else:
                    self._currsize += 1
                data[key] = value
                index[key] = len(keys)
                keys.append(key)
            else:
                data[key] = value
        except _Restart:
            gen = -1
        finally:
            self._leave(depth)
        if gen == -1:
            self._restart_write(key, value)
            return
        if self._on_evict is not None:
            self._report(key, old, evicted)

    def _link(self, key: Any) -> None:
        self._index[key] = len(self._keys)
        self._keys.append(key)

    def _unlink(self, key: Any) -> None:
        keys = self._keys
        index = self._index.pop(key, None)
        if index is None:  # the key being written, hidden while making room for it
            return
        last = keys.pop()
        if index != len(keys):
            keys[index] = last
            self._index[last] = index

    _p_link = _link
    _p_unlink = _unlink
    _evict_one = Cache._evict_chosen

    def _p_first(self) -> Any:
        keys = self._keys
        if not keys:
            raise KeyError(f"{type(self).__name__} is empty") from None
        key = self._choice(keys)
        if key not in self._index:
            raise KeyError(f"choice() returned {key!r}, which is not a key of the cache")
        return key

    def _make_room(self, size: int, pinned: Any, delta: int, notes: list[Note]) -> None:
        if pinned is MISSING:
            super()._make_room(size, pinned, delta, notes)
            return
        self._unlink(pinned)  # hidden from choice() while making room for it
        try:
            super()._make_room(size, pinned, delta, notes)
        finally:
            if pinned in self._data:
                self._link(pinned)

    def _p_clear(self) -> None:
        self._p_init()

    def _p_check(self) -> None:
        _require(len(self._keys) == len(self._data), "keys list length")
        _require(all(self._index[k] == i for i, k in enumerate(self._keys)), "index")
        _require(self._index.keys() == self._data.keys(), "index and data disagree")

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["choice"] = None if self._choice == random.choice else self._choice
        return params

    def _setup_from(self, params: dict[str, Any]) -> None:
        choice = params["choice"]
        self._choice = random.choice if choice is None else choice
        super()._setup_from(params)

    def _p_state(self) -> Any:
        return list(self._keys)

    def _p_restore(self, extra: Any) -> None:
        self._keys = list(extra[1])
        self._index = {key: i for i, key in enumerate(self._keys)}


#: ``popitem`` implementations of this package: eviction may bypass them (no override).
_OWN_POPITEMS: set[Any] = {Cache.popitem}
