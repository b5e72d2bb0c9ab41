"""Pure-Python twin of the compiled cache core (``csrc/cache.c``): ``Cache``, ``FIFOCache``,
``LRUCache`` and ``RRCache`` (``LFUCache`` is in ``lfu.py``, the timed caches in ``timed.py``,
``SIEVECache`` and ``S3FIFOCache`` in ``sieve.py`` and ``s3fifo.py`` over ``Marking``).

The behaviour is the contract in docs/core-spec.md; this module is its executable reference.

How it is built:

1. Storage is one ``dict`` from key to an entry record (``_Entry``: key, value, size and the
   policy's links), the only structure a key's ``__hash__``/``__eq__`` ever runs in: everything
   else (the eviction order, an ``OrderedDict`` of entries; RR's list; LFU's buckets; the
   deadline heap) holds records, hashed and compared by identity, so no user code runs while
   they change (the C's rule: user code runs in the table lookup, before the structure is
   touched). An ``OrderedDict`` must never hold user keys: CPython's crashes when a key's
   ``__eq__`` mutates it during ``pop``/``move_to_end``/``__setitem__``. The order
   ``OrderedDict``'s order *is* the eviction order (``move_to_end`` and taking the first entry
   are O(1) in C).
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
   the comparison to the outer operation. User code runs in three ``dict`` operations only: the
   lookup (``get``), the insertion (``setdefault``: insert-if-absent in one step) and a removal
   (``pop``); what follows each is re-validated: an ``__init__`` during the lookup restarts
   the write (``_gen``, as the C; a ``clear()`` is simply seen by it); a removal finding another
   record (or none) removes that one (or nothing); an insertion finding the key stored meanwhile
   replaces it; nested writes that overfill the cache meanwhile are evicted after. A restore
   (``__setstate__``) makes each entry's room after its insertion's lookup, the entry out of
   the ``dict`` while user code runs (``_restore_one``), as the C's ``restore_entry``.
6. Removed keys and values are kept referenced by locals until the structure is consistent again,
   so a ``__del__`` that touches the cache sees a consistent cache; the listener ``on_evict`` and
   ``__missing__`` run after the lock is released.
7. Removal runs the key's ``__hash__``/``__eq__`` (a ``dict`` pops by key); the C removes by
   entry with the stored hash. So expiry (run by ``len()``, ``currsize``, ``cache_info()``)
   can raise a key's own exception here, never in C. A write that needs room while the only
   entry is the one an outer write is storing (a nested write from its hooks) raises
   ``ValueError`` (``cached()`` then does not store it).
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


class _Entry:
    """One entry: the storage maps its key to it; the policy structures hold it (hashed and
    compared by identity: no user code). ``live`` is cleared when it leaves the cache.
    ``index`` is RR's position, SIEVE's visited bit or S3-FIFO's frequency; ``item`` the timed
    caches' heap item or, for S3-FIFO, the key's hash (its ghost remembers hashes)."""

    __slots__ = ("bucket", "index", "item", "key", "live", "size", "value")

    def __init__(self, key: Any, value: Any, size: int) -> None:
        self.key = key
        self.value = value
        self.size = size
        self.live = True
        self.item: Any = None  # the timed caches' heap item
        self.bucket: Any = None  # LFU's bucket
        self.index = -1  # RR's position in its list


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
        "_order",
        "_own_popitem",
        "_pinned",
        "_sized",
        "_sizefn",
        "_stats",
    )

    getsizeof: Any = _GetSizeOf()
    _on_evict: Callable[[Any, Any, str], object] | None
    _lock: Any  # set once, at the first initialisation (_setup)
    # The eviction order is an OrderedDict of entries where eviction takes the first: a dict
    # would make next(iter(d)) skip the deleted slots at its front, O(n) per eviction.
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
            # __init__ again: emptied in place, as clear(); the old entries are released after,
            # once the cache is consistent
            old = self._empty() if hasattr(self, "_data") else None
            self._gen = getattr(self, "_gen", 0) + 1  # a write in progress starts again
            self._configure(maxsize, sizefn, on_evict, stats)
        finally:
            self._leave(depth)
        del old, lock

    def _configure(self, maxsize: Any, sizefn: Any, on_evict: Any, stats: Any) -> None:
        self._maxsize = maxsize
        self._sizefn = sizefn
        self._on_evict = on_evict
        cls_sizeof = type(self).getsizeof
        self._sized = sizefn is not None or cls_sizeof is not default_getsizeof
        if not hasattr(self, "_data"):
            self._new_storage()
        self._currsize: Any = 0
        self._pinned: Any = MISSING
        self._own_popitem = type(self).popitem in _OWN_POPITEMS
        self._p_config()
        self._stats = bool(stats)
        self._fast_paths()
        self._reset_counters()

    def _fast_paths(self) -> None:
        """Choose the fast paths (at each configuration; the timed caches again when their
        times turn out to be datetimes)."""
        # __setitem__'s fast path: unit sizes, no popitem() override, room for one entry
        self._fast = not self._sized and self._own_popitem and self._maxsize >= 1
        # The lock-free read fast path (no stats to count) takes keys of exactly these types;
        # with stats, no key's type is _NoFastPath and every read takes the general path.
        self._fint: type = _NoFastPath if self._stats else int
        self._fstr: type = _NoFastPath if self._stats else str

    def _new_storage(self) -> None:
        """The storage, created once (``clear()`` and ``__init__`` again empty it in place: an
        operation in progress keeps seeing it); ``_mte`` is the order's ``move_to_end`` (a bound
        method called from a local is cheaper than the method lookup)."""
        self._data: dict[Any, _Entry] = {}
        if self._ordered:
            self._order: Any = collections.OrderedDict()
            self._mte: Any = self._order.move_to_end
        else:
            self._order = None
            self._mte = None
        self._p_init()

    def _empty(self) -> list[_Entry]:
        """Remove every entry in place (lock held); return them, to be released once the cache
        is consistent."""
        data = self._data
        old = list(data.values())
        for entry in old:
            entry.live = False
        # Emptied entry by entry (popitem: no user code), never by dict.clear(): clear()
        # swaps in the shared empty key table, and a dict insertion in progress (this ran from
        # its key's __eq__) then stores a non-str key in a str-only table, which no lookup
        # finds again (CPython 3.11 to 3.13).
        popitem = data.popitem
        while data:
            popitem()
        if self._order is not None:
            self._order.clear()
        self._currsize = 0
        self._p_clear()
        return old

    def _reset_counters(self) -> None:
        self._hits = itertools.count()
        self._misses = itertools.count()
        self._evictions = 0
        self._expirations = 0

    # -- policy hooks (overridden per policy; no user code runs in them) ---------------------

    def _p_init(self) -> None:
        """Create the policy's structures (once)."""

    def _p_config(self) -> None:
        """(Re)read the configuration (each ``__init__``, before the fast path is chosen)."""

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        """A new entry was stored (as the newest; ``deadline``: the timed caches')."""
        self._order[entry] = None

    #: ``_p_replace(entry, deadline)``: ``c[k] = v`` over an existing entry; ``None``: nothing.
    _p_replace: Callable[[_Entry, Any], None] | None = None

    def _p_unlink(self, entry: _Entry) -> None:
        """An entry left the storage."""
        del self._order[entry]

    def _p_keyhash(self, key: Any) -> Any:
        """What a write needs of its key before the lookup (S3-FIFO: its hash)."""
        return None

    def _p_admit(self, keyhash: Any) -> Any:
        """A new key's write, before anything is evicted for it (S3-FIFO: its ghost); what
        it returns goes to the new entry's ``item`` for ``_p_link``."""
        return None

    def _p_first(self) -> _Entry:
        """The entry the policy evicts next, never ``self._pinned``. A lock-free reader's
        ``move_to_end`` (LRU, the timed caches) between two steps of the walk makes the next
        step raise ``RuntimeError`` ("OrderedDict mutated during iteration"): walked again."""
        pinned = self._pinned
        order = self._order
        entry: _Entry
        while True:
            try:
                for entry in order:
                    if entry is not pinned:
                        return entry
            except RuntimeError:
                continue
            raise KeyError(f"{type(self).__name__} is empty") from None

    def _p_victim(self) -> _Entry:
        """The entry the policy itself evicts next (no user code: RR's uniform pick where
        ``_p_first`` calls ``choice``)."""
        return self._p_first()

    def _p_order(self) -> list[_Entry]:
        """The entries in eviction order."""
        return list(self._order)

    def _p_clear(self) -> None:
        """Empty the policy's structures in place."""

    def _p_check(self) -> None:
        order = self._order
        _require(len(order) == len(self._data), "order length")
        _require({id(e) for e in order} == {id(e) for e in self._data.values()},
                 "order and data disagree")

    def _p_state(self) -> Any:
        return None

    def _p_restore_extras(self, extra: Any, n: int) -> list[Any]:
        """The policy's part of each of ``n`` pickled entries (validated)."""
        return [None] * n

    def _p_restore_one(self, entry: _Entry, extra: Any) -> None:
        """Link a restored entry (stored last)."""
        self._p_link(entry)

    def _p_restore_end(self, extra: Any) -> None:
        """After the entries are restored."""

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

    def _unlink(self, entry: _Entry) -> None:
        """Take an entry the storage no longer maps out of the size and the policy."""
        entry.live = False
        self._currsize -= entry.size
        self._p_unlink(entry)

    def _remove(self, entry: _Entry) -> _Entry | None:
        """Remove ``entry``'s key; return the entry removed. The ``pop`` runs the key's
        ``__hash__``/``__eq__`` (the cache consistent meanwhile): a nested operation may have
        removed the entry (``None``), or replaced it by another, which is the one removed."""
        got = self._data.pop(entry.key, None)
        if got is not None:
            self._unlink(got)
        return got

    def _discard(self, key: Any) -> Any:
        """Remove ``key`` and return its value, or ``MISSING`` if absent."""
        got = self._data.pop(key, None)
        if got is None:
            return MISSING
        self._unlink(got)
        return got.value

    def _take(self, key: Any) -> Any:
        """``pop``'s removal: ``_discard`` (the timed caches leave expired entries)."""
        return self._discard(key)

    def _evict_one(self) -> tuple[Any, Any]:
        """Remove the entry the policy evicts next; ``KeyError`` if there is none."""
        while True:
            got = self._remove(self._p_first())
            if got is not None:
                return got.key, got.value

    def _evict_for_room(self) -> tuple[Any, Any] | None:
        """``_evict_one`` for a write that needs room: None when user code run by a removal
        (a key's ``__eq__``, a value's ``__del__``) emptied the cache meanwhile."""
        try:
            return self._evict_one()
        except KeyError:
            if self._currsize < self._maxsize:
                return None
            if not self._data:  # empty and still no room (maxsize 0): as _size_of says
                raise ValueError("value too large") from None
            pinned = self._pinned
            if len(self._data) == 1 and pinned is not MISSING and pinned.live:
                # a nested write (from the outer write's key or value hooks) needs room the
                # outer write's own entry holds: it cannot be stored (cached() skips it)
                raise ValueError("no room: the only entry is being written") from None
            raise

    def _size_of(self, value: Any) -> int:
        fn = self._sizefn
        size = check_size(fn(value) if fn is not None else self.getsizeof(value))
        if size > self._maxsize:
            raise ValueError("value too large")
        return size

    def _popitem_until_fits(self, key: Any, size: int, notes: list[Note]) -> None:
        """cachetools' protocol (a ``popitem()`` override, RR's ``choice``): ``self.popitem()``
        until the value fits, the key looked up anew each round (the override may remove
        it), never evicting it (``_pinned``)."""
        data = self._data
        while True:
            entry = data.get(key)
            need = size if entry is None else size - entry.size
            cur = self._currsize
            if need <= self._maxsize - cur or not data:
                return
            count = len(data)
            outer = self._pinned  # a nested write keeps the outer one's
            self._pinned = MISSING if entry is None else entry
            try:
                pair = self.popitem()
            finally:
                self._pinned = outer
            if isinstance(pair, tuple) and len(pair) == 2:
                notes.append((pair[0], pair[1], EVICTED))
                self._evictions += 1
            if len(data) >= count and self._currsize >= cur:
                raise RuntimeError("popitem() did not remove an item")

    def _evict_for(self, grow: int, pinned: Any, notes: list[Note]) -> None:
        """Evict the policy's victims, never ``pinned``, until ``grow`` more fits."""
        data = self._data
        outer = self._pinned  # a nested write keeps the outer one's
        self._pinned = pinned
        try:
            while grow > self._maxsize - self._currsize:
                if len(data) <= (pinned is not MISSING and pinned.live):
                    return  # nothing else to evict
                got = self._evict_for_room()
                if got is None:  # user code emptied the cache meanwhile
                    return
                notes.append((*got, EVICTED))
                self._evictions += 1
        finally:
            self._pinned = outer

    def _store(self, key: Any, value: Any, size: int, notes: list[Note],
               deadline: Any = None) -> None:
        """``c[key] = value`` with the lock held; appends listener notes (as the C's
        ``cache_set_hashed``). ``deadline`` (the timed caches') travels with the write."""
        gen = self._gen
        if not self._own_popitem:
            self._popitem_until_fits(key, size, notes)
        keyhash = self._p_keyhash(key)
        entry = self._data.get(key)
        if self._gen != gen:  # __init__ ran meanwhile
            raise _Restart
        grow = size - (0 if entry is None else entry.size)
        if grow > MAX_SIZE - self._currsize and self._maxsize > MAX_SIZE:
            # unbounded (nothing evicted to make room): the total must stay a Py_ssize_t
            raise OverflowError("cache size overflow")
        if entry is not None:  # evictions first, never of the key written
            self._evict_for(grow, entry, notes)
            if entry.live:
                self._replace(key, entry, value, size, notes, deadline)
                return
        admit = self._p_admit(keyhash)
        self._evict_for(size, MISSING, notes)
        new = _Entry(key, value, size)
        new.item = admit
        got = self._data.setdefault(key, new)  # inserts iff absent, after its user code
        if got is new:
            self._currsize += size
            self._p_link(new, deadline)
        else:  # stored meanwhile by a nested write: this write replaces it
            self._replace(key, got, value, size, notes, deadline)
        self._trim(got, notes)

    def _trim(self, entry: _Entry, notes: list[Note]) -> None:
        """Evict what nested writes (from the key's ``__hash__``/``__eq__`` in the insertion)
        added beyond maxsize, never ``entry``, the one just written; if that fails (a hook
        raising), the write is undone: its entry is removed and the error raised."""
        if self._currsize <= self._maxsize:
            return
        try:
            self._evict_for(0, entry, notes)
        except BaseException:
            if entry.live:
                self._remove(entry)
            raise

    def _replace(self, key: Any, entry: _Entry, value: Any, size: int, notes: list[Note],
                 deadline: Any) -> None:
        old = entry.value
        entry.value = value
        self._currsize += size - entry.size
        entry.size = size
        notes.append((entry.key, old, REPLACED))
        replace = self._p_replace
        if replace is not None:
            replace(entry, deadline)

    # -- mapping operations -------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no access to record, no stats: no lock
            try:
                return self._data[key].value
            except KeyError:
                pass
            return self.__missing__(key)
        return self._read(key)  # with stats, or another key type

    def _read(self, key: Any) -> Any:
        """``c[key]`` off the lock-free path: with stats, or a key of another type than the
        fast path's (a plain one is still read without the lock)."""
        if type(key) in PLAIN:
            return self._counted(key, self._lookup(key))
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
        entry = self._data.get(key)
        return MISSING if entry is None else entry.value

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
        notes = None
        outcome: Any = None
        gen = self._gen
        try:
            data = self._data
            entry = data.get(key)
            if self._gen != gen:
                raise _Restart
            if entry is None:
                old = MISSING
                if self._currsize >= self._maxsize:  # the order is the eviction order
                    evicted = self._evict_for_room()
                    self._evictions += evicted is not None
                new = _Entry(key, value, 1)
                got = data.setdefault(key, new)
                if got is new and self._currsize < self._maxsize:
                    self._order[new] = None
                    self._currsize += 1
                else:  # nested writes meanwhile (from the key's __hash__/__eq__)
                    notes = [] if evicted is None else [(*evicted, EVICTED)]
                    evicted = None
                    self._settle(new, got, notes)
            else:
                old = entry.value
                entry.value = value
                if self._reorder:
                    mte = self._mte
                    mte(entry)
        except _Restart:
            outcome = _Restart
        except BaseException as exc:
            outcome = exc
        finally:
            self._depth = depth
            lock.release()
        if outcome is not None:
            self._fail(outcome, notes, evicted, key, value)
            return
        self._reported(notes, key, old, evicted)

    def _settle(self, new: _Entry, got: _Entry, notes: list[Note], deadline: Any = None
                ) -> None:
        """A fast-path insertion after nested writes: ``got`` is what ``setdefault`` found
        (``new``, or the entry stored meanwhile, replaced); then evict what overflows."""
        if got is new:
            self._currsize += new.size
            self._p_link(new, deadline)
        else:
            self._replace(new.key, got, new.value, new.size, notes, deadline)
        self._trim(got, notes)

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
        outcome: Any = None
        depth = self._enter(True)
        try:
            self._store(key, value, size, notes)
        except _Restart:
            outcome = _Restart
        except BaseException as exc:
            outcome = exc
        finally:
            self._leave(depth)
        self._finish(notes, outcome, key, value)

    def _finish(self, notes: list[Note] | None, outcome: Any, key: Any, value: Any,
                ttl: Any = None) -> None:
        """The end of a write, lock released (the C's ``fc_pending_finish``): the listener
        hears what left the cache, whatever happened next; then a write interrupted by
        ``__init__`` (``outcome`` ``_Restart``) starts again (with ``ttl``, ``TTLCache.set``'s
        own argument, if any), a failed one raises its error (the listener's own errors give
        way to it)."""
        if outcome is None:
            if notes and self._on_evict is not None:
                self._notify(notes)
            return
        if outcome is _Restart:
            if notes:
                self._notify(notes)
            self._restart_write(key, value, ttl)
            return
        if notes:
            try:
                self._notify(notes)
            except Exception:  # the write's own error is the one raised
                pass
        raise outcome

    def _reported(self, notes: list[Note] | None, key: Any, old: Any,
                  evicted: tuple[Any, Any] | None) -> None:
        """The listener's reports of a fast-path write that completed: the notes gathered
        after nested writes, else its one eviction or replacement."""
        if notes is not None:
            self._notify(notes)
        elif self._on_evict is not None:
            self._report(key, old, evicted)

    def _fail(self, outcome: Any, notes: list[Note] | None, evicted: tuple[Any, Any] | None,
              key: Any, value: Any) -> None:
        """``_finish`` of a fast-path write that did not complete."""
        if notes is None:
            notes = []
        if evicted is not None:
            notes.append((*evicted, EVICTED))
        self._finish(notes, outcome, key, value)

    def _restart_write(self, key: Any, value: Any, ttl: Any = None) -> None:
        """A write interrupted by ``__init__``: again, under the new configuration (a key
        re-initialising the cache at every comparison: RuntimeError, as a lookup's bound)."""
        self._churn += 1
        if self._churn > _MAX_RESTARTS:
            raise RuntimeError("cache changed during lookup")
        self._write_again(key, value, ttl)

    def _write_again(self, key: Any, value: Any, ttl: Any) -> None:
        """The restarted write (``TTLCache``: with its ``set()``'s own ttl, as the C's)."""
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

    def _iter_live(self, entries: list[_Entry]) -> Iterator[Any]:
        for entry in entries:
            key = entry.key
            if key in self:
                yield key

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no access to record, no stats: no lock
            entry = self._data.get(key)
            return default if entry is None else entry.value
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
            entry = self._data.get(key)
        finally:
            self._leave(depth)
        return default if entry is None else entry.value

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
            # structure is consistent again. A write in progress goes on (as the C's): what it
            # looked up is looked up again or re-validated.
            old = self._empty()
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
            items = {entry.key: entry.value for entry in self._p_order()}
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
            entries = [(e.key, e.value, e.size) for e in self._p_order()]
            counters = (count_value(self._hits), count_value(self._misses),
                        self._evictions, self._expirations)
            extra = self._p_state()
        finally:
            self._leave(depth)
        return (self._params(), entries, counters, extra, getattr(self, "__dict__", None))

    def __setstate__(self, state: Any) -> None:
        """Restore a ``__getstate__`` state (everything in it checked: it may be crafted).
        User code runs while it loads (a key's ``__hash__``/``__eq__`` in the lookups, a
        value's ``__del__``); what it does to this cache is kept, and whatever it wrote, the
        cache stays within ``maxsize``: the room for each restored entry is checked after
        its lookup, and made by evicting the policy's own victims (never through ``choice``
        or a ``popitem()`` override: as the C's ``victim()``; reported to the listener).
        An ``__init__`` meanwhile stops the restore: ``RuntimeError``."""
        params, entries, counters, extra, user_dict = state
        self._setup_from(params)
        if not (isinstance(counters, tuple) and len(counters) == 4
                and all(type(n) is int and n >= 0 for n in counters)):
            raise ValueError("invalid cache state: counters")
        entries = list(entries)
        extras = self._p_restore_extras(extra, len(entries))
        notes: list[Note] = []
        outcome: BaseException | None = None
        depth = self._enter(True)
        try:
            # the counters first (as the C's _restore): nested operations count on them
            self._hits = itertools.count(counters[0])
            self._misses = itertools.count(counters[1])
            self._evictions, self._expirations = counters[2], counters[3]
            gen = self._gen
            total = 0  # the state's own sizes: checked apart from what nested writes add
            for (key, value, size), more in zip(entries, extras, strict=True):
                size = check_size(size)
                if not self._sized and size != 1:
                    raise ValueError("invalid cache state: entry size")
                total += size
                if total > self._maxsize:
                    raise ValueError("invalid cache state: entries larger than maxsize")
                entry = _Entry(key, value, size)
                entry.item = self._p_keyhash(key)  # user code (S3-FIFO: the hash): first
                self._restore_one(entry, more, gen, notes)
            self._p_restore_end(extra)
        except BaseException as exc:
            outcome = exc
        finally:
            self._leave(depth)
        self._finish(notes, outcome, None, None)  # the listener hears evictions, then errors
        if user_dict:
            self.__dict__.update(user_dict)

    def _restore_one(self, entry: _Entry, more: Any, gen: int, notes: list[Note]) -> None:
        """Store and link a restored entry (lock held), with room made for it in between, where
        no user code runs. User code runs in the dict operations only, while the entry is out
        of the dict: if the insertion's lookup found the room taken (nested writes from the
        key's ``__eq__``), the entry is taken out again (``popitem``: the last inserted, no
        user code), room is made and it is stored anew."""
        data = self._data
        size = entry.size
        while self._gen == gen:
            self._own_evictions(size, notes)  # the pops run user code
            if self._gen != gen:
                break
            got = data.setdefault(entry.key, entry)  # inserts iff absent: user code
            if got is entry:
                if self._gen == gen and size <= self._maxsize - self._currsize:
                    if size > MAX_SIZE - self._currsize:  # unbounded: the total as _store's
                        data.popitem()
                        raise OverflowError("cache size overflow")
                    self._currsize += size
                    self._p_restore_one(entry, more)
                    return
                data.popitem()  # the entry, inserted last
            if self._gen != gen:
                break
            if got is not entry:
                raise ValueError("invalid cache state: duplicate key")
        raise RuntimeError("cache re-initialised during __setstate__")

    def _own_evictions(self, size: int, notes: list[Note]) -> None:
        """Evict the policy's own victims (``_p_victim``: no ``choice``, no ``popitem()``
        override) until ``size`` fits. A removal runs the victim key's ``__hash__`` and
        ``__eq__``; nested writes there are evicted in turn (each counts against
        ``_MAX_RESTARTS``)."""
        data = self._data
        while size > self._maxsize - self._currsize and data:
            got = self._remove(self._p_victim())
            if got is not None:
                notes.append((got.key, got.value, EVICTED))
                self._evictions += 1

    def _setup_from(self, params: dict[str, Any]) -> None:
        self._setup(params["maxsize"], params["getsizeof"], params["on_evict"],
                    params["stats"])

    # -- debugging ----------------------------------------------------------------------------

    def _check(self) -> None:
        """Verify the internal invariants; raise ``AssertionError`` if one is broken."""
        data = self._data
        _require(all(e.key is k and e.live for k, e in data.items()), "entry not its key's")
        if not self._sized:
            _require(all(e.size == 1 for e in data.values()), "unit sizes")
            _require(self._currsize == len(data), "currsize != len(data)")
            _require(len(data) <= self._maxsize, "len above maxsize")
        else:
            _require(sum(e.size for e in data.values()) == self._currsize, "sizes do not add up")
        _require(self._currsize <= self._maxsize, "currsize above maxsize")
        _require(self._depth == 0, "depth not restored")
        _require(self._pinned is MISSING, "pinned key left set")
        mte = self._mte
        _require(mte is None or mte.__self__ is self._order,
                 "_mte is not the order's move_to_end")
        self._p_check()


def _pick(entries: list[_Entry]) -> _Entry:
    """A uniformly random entry (RR's own victim; ``entries`` not empty)."""
    return entries[int(_random() * len(entries))]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


class FIFOCache(Cache):
    """First In First Out cache: evicts the entry inserted (or replaced) first."""

    __slots__ = ()

    def _move_to_end(self, entry: _Entry, deadline: Any = None) -> None:
        self._order.move_to_end(entry)

    _p_replace = _move_to_end
    _reorder = True


class LRUCache(FIFOCache):
    """Least Recently Used cache."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free (two atomic calls)
            try:
                entry = self._data[key]
                mte = self._mte
                mte(entry)
                return entry.value
            except KeyError:  # absent, or removed meanwhile by another thread
                pass
            return self.__missing__(key)
        return self._read(key)  # with stats, or another key type

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free
            entry = self._data.get(key)
            if entry is not None:
                try:
                    mte = self._mte
                    mte(entry)
                    return entry.value
                except KeyError:  # removed meanwhile by another thread
                    pass
            return default
        return self._get_lookup(key, default)

    def _lookup(self, key: Any) -> Any:
        entry = self._data.get(key)
        if entry is not None:
            try:
                mte = self._mte
                mte(entry)
                return entry.value
            except KeyError:  # removed meanwhile by another thread
                pass
        return MISSING


class RRCache(Cache):
    """Random Replacement cache: evicts ``choice(keys)``."""

    __slots__ = ("_choice", "_entries", "_uniform")
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
        self._entries: list[_Entry] = []  # entry.index is its position

    def _p_config(self) -> None:
        # random.choice is a new bound method at each access: compare, do not test identity
        self._uniform = self._choice == random.choice
        if not self._uniform:  # evictions call choice(): cachetools' popitem() protocol
            self._own_popitem = False

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self._fast:
            self._setitem_general(key, value)
            return
        # As Cache.__setitem__, with _p_first (uniform choice) and _p_link inlined.
        gen = self._gen
        depth = self._enter(True)
        evicted = None
        notes = None
        outcome: Any = None
        try:
            data = self._data
            entry = data.get(key)
            if self._gen != gen:
                raise _Restart
            if entry is None:
                old = MISSING
                if self._currsize >= self._maxsize:
                    evicted = self._evict_for_room()
                    self._evictions += evicted is not None
                new = _Entry(key, value, 1)
                got = data.setdefault(key, new)
                if got is new and self._currsize < self._maxsize:
                    entries = self._entries
                    new.index = len(entries)
                    entries.append(new)
                    self._currsize += 1
                else:  # nested writes meanwhile (from the key's __hash__/__eq__)
                    notes = [] if evicted is None else [(*evicted, EVICTED)]
                    evicted = None
                    self._settle(new, got, notes)
            else:
                old = entry.value
                entry.value = value
        except _Restart:
            outcome = _Restart
        except BaseException as exc:
            outcome = exc
        finally:
            self._leave(depth)
        if outcome is not None:
            self._fail(outcome, notes, evicted, key, value)
            return
        self._reported(notes, key, old, evicted)

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        entries = self._entries
        entry.index = len(entries)
        entries.append(entry)

    def _p_unlink(self, entry: _Entry) -> None:
        entries = self._entries
        last = entries.pop()
        index = entry.index
        if last is not entry:
            entries[index] = last
            last.index = index

    def _p_first(self) -> _Entry:
        entries = self._entries
        pinned = self._pinned
        if pinned is not MISSING:  # hidden from choice() while making room for it
            entries = [e for e in entries if e is not pinned]
        if not entries:
            raise KeyError(f"{type(self).__name__} is empty") from None
        if self._uniform:  # the default choice: uniform, without the Python call
            return _pick(entries)
        key = self._choice([e.key for e in entries])  # may change the cache
        for entry in entries:
            if entry.key is key and entry.live:
                return entry
        found = self._data.get(key)
        if found is None or found is pinned:
            raise KeyError(f"choice() returned {key!r}, which is not a key of the cache")
        return found

    def _p_victim(self) -> _Entry:
        entries = self._entries  # no entry pinned: restores only
        if not entries:
            raise KeyError(f"{type(self).__name__} is empty")
        return _pick(entries)

    def _p_order(self) -> list[_Entry]:
        return list(self._data.values())

    def _p_clear(self) -> None:
        self._entries.clear()

    def _p_check(self) -> None:
        entries = self._entries
        _require(len(entries) == len(self._data), "keys list length")
        _require(all(e.index == i for i, e in enumerate(entries)), "index")
        _require({id(e) for e in entries} == {id(e) for e in self._data.values()},
                 "index and data disagree")

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["choice"] = None if self._choice == random.choice else self._choice
        return params

    def _setup_from(self, params: dict[str, Any]) -> None:
        choice = params["choice"]
        self._choice = random.choice if choice is None else choice
        super()._setup_from(params)

    def _p_state(self) -> Any:
        return [e.key for e in self._entries]

    def _p_restore_end(self, extra: Any) -> None:
        # extra: the keys in the list's order, the entries' own objects (pickle's and
        # deepcopy's memo); entries stored meanwhile by nested writes go last
        position = {id(key): i for i, key in enumerate(extra)}
        if len(position) != len(extra):
            raise ValueError("invalid cache state: keys")
        entries = self._entries
        entries.sort(key=lambda e: position.get(id(e.key), len(position)))
        for i, entry in enumerate(entries):
            entry.index = i


class Marking(Cache):
    """The base of the policies whose hit only marks its entry (``_hit``: SIEVE's visited
    bit, S3-FIFO's frequency): reads of ``int``/``str`` keys stay lock-free (the mark is one
    attribute store, as LRU's move); writes take the general path (a write over a present
    key is an access too: ``_p_replace``)."""

    __slots__ = ()

    def _hit(self, entry: _Entry) -> None:
        raise NotImplementedError

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free
            entry = self._data.get(key)
            if entry is not None:
                self._hit(entry)
                return entry.value
            return self.__missing__(key)
        return self._read(key)  # with stats, or another key type

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free
            entry = self._data.get(key)
            if entry is None:
                return default
            self._hit(entry)
            return entry.value
        return self._get_lookup(key, default)

    def _lookup(self, key: Any) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return MISSING
        self._hit(entry)
        return entry.value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._setitem_general(key, value)

    def _access(self, entry: _Entry, deadline: Any = None) -> None:
        self._hit(entry)

    _p_replace = _access

    def _p_first(self) -> _Entry:
        """The policy's victim, never ``self._pinned`` (``_victim``, which moves the policy's
        hand or queues on the way)."""
        pinned = self._pinned
        skip = pinned if pinned is not MISSING and pinned.live else None
        if len(self._data) <= (skip is not None):
            raise KeyError(f"{type(self).__name__} is empty") from None
        return self._victim(skip)

    def _victim(self, skip: _Entry | None) -> _Entry:
        raise NotImplementedError


#: ``popitem`` implementations of this package: eviction may bypass them (no override).
_OWN_POPITEMS: set[Any] = {Cache.popitem}
