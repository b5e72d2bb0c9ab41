"""Pure-Python twin of the timed caches: ``TTLCache`` and ``TLRUCache``.

Entries are kept in LRU order (``caches.py``'s order of entry records); each has its own
deadline. Deadlines live in a binary heap of ``[deadline, seq, entry]`` items (``seq`` breaks
ties in scheduling order, so entries are never compared): scheduling is O(log n) even with
per-item TTLs, and ``expire()`` costs O(log n) per expired entry. A replaced or removed entry's
heap item is marked dead (``entry`` slot set to ``_DEAD``) and skipped; the heap is compacted
when more than half of it is dead. Expiry is exact: an access compares the entry's own deadline
with ``timer()``. Every operation calls the timer at most once (iteration: once per key
reached).

Fast paths (as in ``caches.py``, chosen at construction): without stats, ``c[k]`` and ``get`` of
``int``/``str`` keys run inline and lock-free; with unit sizes and no ``popitem()`` override,
``c[k] = v`` takes ``_write_fast``, which only calls ``_expire_into`` when the earliest deadline
in the heap is reached.

Times are real numbers, used as they are, or datetimes (a ``TTLCache`` whose ttl is a
``timedelta``, a ``TLRUCache`` whose timer returned a datetime first; ``_tmode``), held as the
int of their microseconds from the first time the cache read (``_origin``): the heap and the
comparisons stay those of numbers, exact at any distance (the compiled core holds a double,
exact within 285 years of the origin). A ``TTLCache``'s deadline is the timer's own
``now + ttl`` (``OverflowError`` past ``datetime.max``, as cachetools); ``remaining_ttl``
returns a ``timedelta``. The datetime path takes no fast path.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .._types import DELETED, EVICTED, EXPIRED, REPLACED
from .caches import (
    _OWN_POPITEMS,
    MISSING,
    PLAIN,
    Cache,
    Note,
    _Entry,
    _NoFastPath,
    _require,
    _Restart,
    check_callable,
)

__all__ = ["TLRUCache", "TTLCache"]

_DEAD: Any = object()
_COMPACT_MIN = 64

# What a timed cache's times are (csrc/core.h's TM_): real numbers; not decided yet (a
# TLRUCache's Python timer, until its first time); datetimes.
_NUMBER, _UNDECIDED, _DATETIME = 0, 1, 2
_NATIVE_TIMERS = (time.monotonic, time.time)


def check_time(value: Any, what: str = "timer", hint: str = "") -> Any:
    """Validate a time (the timer's result, ``expire(time)``, a deadline from ``ttu``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must return a real number, not {_type_name(value)}"
                        f"{hint if isinstance(value, date) else ''}")
    if value != value:
        raise ValueError(f"{what} returned NaN")
    return value


def check_ttl(ttl: Any) -> Any:
    """Validate a time to live: a real number > 0 (``math.inf`` allowed)."""
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise TypeError(f"ttl must be a real number, not {_type_name(ttl)}")
    if not ttl > 0:
        raise ValueError("ttl must be positive")
    return ttl


def check_delta_ttl(ttl: Any) -> Any:
    """Validate the time to live of a cache whose times are datetimes: a timedelta > 0."""
    if not isinstance(ttl, timedelta):
        raise TypeError(f"ttl must be a timedelta (the cache's ttl is one), "
                        f"not {_type_name(ttl)}")
    if not ttl > timedelta(0):
        raise ValueError("ttl must be positive")
    return ttl


def check_cache_ttl(ttl: Any) -> tuple[Any, int]:
    """A ``TTLCache``'s ttl and what it makes the times: a real number > 0 (numbers) or a
    ``timedelta`` > 0 (datetimes)."""
    if not isinstance(ttl, bool) and isinstance(ttl, (int, float)):
        return check_ttl(ttl), _NUMBER
    if not isinstance(ttl, timedelta):
        raise TypeError(f"ttl must be a real number or a timedelta, not {_type_name(ttl)}")
    return check_delta_ttl(ttl), _DATETIME


def _type_name(value: Any) -> str:
    """The type's name as the compiled core gives it (its ``tp_name``: ``str``,
    ``datetime.datetime``, a class's own name)."""
    t = type(value)
    if t.__module__ == "builtins" or t.__flags__ & (1 << 9):  # Py_TPFLAGS_HEAPTYPE
        return t.__name__
    return f"{t.__module__}.{t.__qualname__}"


class _Timer:
    """A timed cache's timer, as cachetools' ``_TimedCache._Timer``: calls ``timer``; inside
    ``with t:`` (nested) returns the time read on entering, and so does the cache."""

    __slots__ = ("__nesting", "__time", "__timer")

    def __init__(self, timer: Callable[[], Any]) -> None:
        self.__timer = timer
        self.__nesting = 0

    def __call__(self) -> Any:
        if self.__nesting == 0:
            return self.__timer()
        return self.__time

    def __enter__(self) -> Any:
        if self.__nesting == 0:
            now = self.__timer()
            if self.__nesting == 0:  # the timer may have entered this very _Timer
                self.__time = now
        self.__nesting += 1
        return self.__time

    def __exit__(self, *exc: object) -> None:
        if self.__nesting > 0:
            self.__nesting -= 1

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Timer, (self.__timer,))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__timer, name)


class _TimedCache(Cache):
    """LRU order plus a deadline per entry."""

    __slots__ = ("_dead", "_heap", "_origin", "_seq", "_tfloat", "_timer", "_tint", "_tmode")
    _timer: _Timer
    _tmode: int
    _origin: Any

    def _p_init(self) -> None:
        self._heap: list[list[Any]] = []
        self._seq = 0  # never reset: items of an operation in progress keep their order
        self._dead = 0

    @property
    def timer(self) -> _Timer:
        """The cache's timer (cachetools' ``_Timer``: ``with cache.timer as now:``)."""
        return self._timer

    def _set_timer(self, timer: Any, mode: int) -> None:
        """The timer and what the times are (``mode``; time.monotonic and time.time make a
        TLRUCache's numbers); no time read yet."""
        self._timer = _Timer(check_callable(timer, "timer", optional=False))
        self._set_mode(_NUMBER if mode == _UNDECIDED and timer in _NATIVE_TIMERS else mode)
        self._origin = None

    def _set_mode(self, mode: int) -> None:
        """What the times are; ``_now`` takes a time of type ``_tfloat``/``_tint`` as it is
        (``float``/``int`` when they are numbers, else no type)."""
        self._tmode = mode
        self._tfloat: type = float if mode == _NUMBER else _NoFastPath
        self._tint: type = int if mode == _NUMBER else _NoFastPath

    def _fast_paths(self) -> None:
        if self._tmode == _DATETIME:  # the datetime path takes none
            self._fast = False
            self._fint = self._fstr = _NoFastPath
        else:
            super()._fast_paths()

    def _now(self) -> Any:
        now = self._timer()
        if (type(now) is self._tfloat and now == now) or type(now) is self._tint:
            return now
        return self._time_of(now, "timer")

    def _times(self, raw: Any, now: Any, gen: int, deadline: Any, what: str
               ) -> tuple[Any, Any]:
        """A write's ``now`` (``raw``, the timer's time, in the cache's units) and ``deadline``
        (the time ``what``, user code, returned after ``raw`` was read) in the cache's units.
        An ``__init__`` meanwhile (from ``ttu``, or a datetime's ``+``; ``gen``: ``_gen``
        before): the answer stands in the new configuration, measured as ``raw`` is, from the
        origin set afresh: ``raw`` is taken again first (as the C's
        ``fc_timed_deadline_call``)."""
        if self._gen != gen:
            now = self._time_of(raw, "timer")
        return now, self._time_of(deadline, what)

    def _time_of(self, t: Any, what: str) -> Any:
        """A time ``t`` from ``what`` (the timer, ttu, expire's argument) in the cache's units:
        a number as it is; a datetime as its microseconds from the cache's first time."""
        if (type(t) is self._tfloat and t == t) or type(t) is self._tint:
            return t
        mode = self._tmode
        if mode == _UNDECIDED and not isinstance(t, bool) and isinstance(t, (int, float)):
            self._set_mode(mode := _NUMBER)  # the first time decides
        if mode == _NUMBER:
            return check_time(t, what, " (the cache's ttl is a number: a datetime timer needs "
                              "a timedelta ttl)" if isinstance(self, TTLCache) else
                              " (the cache's times are numbers: its timer returned one first)")
        if not isinstance(t, date):
            kind = ("real number or a datetime" if mode == _UNDECIDED
                    else "datetime (the cache's ttl is a timedelta)"
                    if isinstance(self, TTLCache)
                    else "datetime (the cache's times are datetimes: its timer returned one "
                         "first)")
            raise TypeError(f"{what} must return a {kind}, not {_type_name(t)}")
        origin = self._origin
        if origin is None:  # the first time: the origin of the others
            self._set_mode(_DATETIME)
            self._origin = t
            self._fast_paths()
            return 0
        d = t - origin  # naive and aware datetimes mixed: datetime's own TypeError
        if not isinstance(d, timedelta):
            raise TypeError(f"{what} returned a {_type_name(t)} whose difference with the "
                            f"cache's first time is a {_type_name(d)}, not a timedelta")
        return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds

    # -- the deadline heap (lock held) --------------------------------------------------------

    def _schedule(self, entry: _Entry, deadline: Any) -> None:
        old = entry.item
        entry.item = item = [deadline, self._seq, entry]
        self._seq += 1
        heapq.heappush(self._heap, item)
        if old is not None:
            self._bury(old)

    def _bury(self, item: list[Any]) -> None:
        item[2] = _DEAD
        self._dead += 1
        heap = self._heap
        if self._dead > _COMPACT_MIN and self._dead * 2 > len(heap):
            heap[:] = [e for e in heap if e[2] is not _DEAD]
            heapq.heapify(heap)
            self._dead = 0

    def _expire_into(self, now: Any, notes: list[Note]) -> None:
        heap = self._heap
        while heap:
            item = heap[0]
            entry = item[2]
            if entry is _DEAD:
                heapq.heappop(heap)
                self._dead -= 1
                continue
            if now < item[0]:
                break
            # buries item (popped as dead next round), whatever a nested operation did
            got = self._remove(entry)
            if got is not None:
                notes.append((got.key, got.value, EXPIRED))
                self._expirations += 1

    # -- policy hooks -------------------------------------------------------------------------

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        self._order[entry] = None
        self._schedule(entry, deadline)

    def _p_replace(self, entry: _Entry, deadline: Any = None) -> None:
        self._order.move_to_end(entry)
        self._schedule(entry, deadline)

    def _p_unlink(self, entry: _Entry) -> None:
        del self._order[entry]
        self._bury(entry.item)

    def _p_clear(self) -> None:
        self._heap.clear()  # in place: an expiry in progress sees it
        self._dead = 0

    def _p_check(self) -> None:
        super()._p_check()
        data = self._data
        live = [e for e in self._heap if e[2] is not _DEAD]
        _require(len(live) == len(data), "live heap entries")
        _require(len(self._heap) - len(live) == self._dead, "dead count")
        _require(all(e[2].item is e and e[2].live for e in live), "heap entry not the key's")
        heap = self._heap
        _require(all(not heap[i] < heap[(i - 1) // 2] for i in range(1, len(heap))),
                 "heap property")

    def _p_state(self) -> Any:
        # a copy of the order (one C call): lock-free readers reorder it
        return [e.item[:2] for e in self._p_order()]

    def _p_restore_extras(self, extra: Any, n: int) -> list[Any]:
        extras = list(extra)
        if len(extras) != n or not all(
                isinstance(x, list) and len(x) == 2 and type(x[1]) is int for x in extras):
            raise ValueError("invalid cache state: deadlines")
        for deadline, seq in extras:
            check_time(deadline, "a deadline")
            self._seq = max(self._seq, seq + 1)  # before any nested write schedules
        return extras

    def _p_restore_one(self, entry: _Entry, extra: Any) -> None:
        self._order[entry] = None
        entry.item = item = [extra[0], extra[1], entry]
        heapq.heappush(self._heap, item)

    # -- operations ---------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free, _lookup inlined
            entry = self._data.get(key)
            if entry is not None:
                mte = self._mte
                try:
                    mte(entry)  # an access even when expired, as cachetools
                except KeyError:  # removed meanwhile by another thread
                    pass
                else:
                    now = self._timer()
                    if (type(now) is not float and type(now) is not int) or now != now:
                        now = self._time_of(now, "timer")
                    item = entry.item  # None: not linked yet (see _live)
                    if item is not None and now < item[0]:
                        return entry.value
            return self.__missing__(key)
        return self._read(key)  # with stats, or another key type

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present and not expired, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free, _lookup inlined
            entry = self._data.get(key)
            if entry is None:
                return default
            mte = self._mte
            try:
                mte(entry)  # an access even when expired, as cachetools
            except KeyError:  # removed meanwhile by another thread
                return default
            now = self._timer()
            if (type(now) is not float and type(now) is not int) or now != now:
                now = self._time_of(now, "timer")
            item = entry.item  # None: not linked yet (see _live)
            if item is not None and now < item[0]:
                return entry.value
            return default
        return self._get_lookup(key, default)

    def _lookup(self, key: Any) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return MISSING
        mte = self._mte
        try:
            mte(entry)  # an access even when expired, as cachetools
        except KeyError:  # removed meanwhile by another thread
            return MISSING
        item = entry.item  # None: not linked yet (see _live)
        if item is not None and self._now() < item[0]:
            return entry.value
        return MISSING

    def _live(self, key: Any) -> _Entry | None:
        """The entry if present and not expired (no access), else ``None``. Without the lock
        (plain keys), the entry may be one a writer has stored but not linked yet (from its
        insertion in the dict to its scheduling, ``item`` is ``None``): absent, as the write
        has not happened for this reader (an LRU reader's ``move_to_end`` fails alike)."""
        entry = self._data.get(key)
        if entry is None:
            return None
        item = entry.item
        if item is None:
            return None
        return entry if self._now() < item[0] and entry.live else None

    def __contains__(self, key: Any) -> bool:
        if type(key) in PLAIN:
            return self._live(key) is not None
        depth = self._enter(False)
        try:
            return self._live(key) is not None
        finally:
            self._leave(depth)

    def peek(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` without counting an access, else ``default``."""
        depth = self._enter(False)
        try:
            entry = self._live(key)
        finally:
            self._leave(depth)
        return default if entry is None else entry.value

    def _write(self, key: Any, value: Any, size: int, now: Any, deadline: Any,
               ttl: Any = None) -> None:
        notes: list[Note] = []
        outcome: Any = None
        depth = self._enter(True)
        try:
            self._expire_into(now, notes)
            if now < deadline:
                self._store(key, value, size, notes, deadline)
            else:  # dead on arrival: the write removes the key and stores nothing
                old = self._discard(key)
                if old is not MISSING:
                    notes.append((key, old, REPLACED))
        except _Restart:
            outcome = _Restart
        except BaseException as exc:
            outcome = exc
        finally:
            self._leave(depth)
        self._finish(notes, outcome, key, value, ttl)

    def _write_fast(self, key: Any, value: Any, now: Any, deadline: Any) -> None:
        """``_write`` of the common case (unit sizes, no ``popitem()`` override, maxsize >= 1):
        ``_store`` and the heap scheduling inlined; the expiry only runs when the earliest
        deadline is reached."""
        if not now < deadline:  # dead on arrival: the general path
            self._write(key, value, 1, now, deadline)
            return
        notes: list[Note] | None = None
        evicted = None
        outcome: Any = None
        gen = self._gen
        depth = self._enter(True)
        try:
            heap = self._heap
            if heap and not now < heap[0][0]:
                notes = []
                self._expire_into(now, notes)
            data = self._data
            entry = data.get(key)
            if self._gen != gen:
                raise _Restart
            if entry is None:
                old = MISSING
                if self._currsize >= self._maxsize:  # the order is the LRU order
                    evicted = self._evict_for_room()
                    self._evictions += evicted is not None
                new = _Entry(key, value, 1)
                got = data.setdefault(key, new)
                if got is new and self._currsize < self._maxsize:
                    self._order[new] = None
                    self._currsize += 1
                    new.item = item = [deadline, self._seq, new]
                    self._seq += 1
                    heapq.heappush(heap, item)
                else:  # nested writes meanwhile (from the key's __hash__/__eq__)
                    if notes is None:
                        notes = []
                    if evicted is not None:
                        notes.append((*evicted, EVICTED))
                        evicted = None
                    self._settle(new, got, notes, deadline)
            else:
                old = entry.value
                entry.value = value
                mte = self._mte
                mte(entry)
                prev = entry.item
                entry.item = item = [deadline, self._seq, entry]
                self._seq += 1
                heapq.heappush(heap, item)
                self._bury(prev)
        except _Restart:
            outcome = _Restart
        except BaseException as exc:
            outcome = exc
        finally:
            self._leave(depth)
        if outcome is not None:
            self._fail(outcome, notes, evicted, key, value)
            return
        if self._on_evict is not None:
            if notes:  # EXPIRED first, then EVICTED or REPLACED
                if evicted is not None:
                    notes.append((evicted[0], evicted[1], EVICTED))
                elif old is not MISSING:
                    notes.append((key, old, REPLACED))
                self._notify(notes)
            else:
                self._report(key, old, evicted)

    def __delitem__(self, key: Any) -> None:
        depth = self._enter(True)
        expired = False
        try:
            entry = self._data.get(key)
            if entry is None:
                value = MISSING
            else:
                expired = not self._now() < entry.item[0]
                got = self._remove(entry)
                value = MISSING if got is None else got.value
                if expired and got is not None:
                    self._expirations += 1
        finally:
            self._leave(depth)
        if value is MISSING:
            raise KeyError(key)
        if self._on_evict is not None:
            self._on_evict(key, value, EXPIRED if expired else DELETED)
        if expired:
            raise KeyError(key)

    def _take(self, key: Any) -> Any:
        entry = self._live(key)  # an expired entry stays (reclaimed by expiry)
        if entry is None:
            return MISSING
        got = self._remove(entry)
        return MISSING if got is None else got.value

    def popitem(self) -> tuple[Any, Any]:
        """Remove and return the least recently used ``(key, value)`` pair not expired."""
        notes: list[Note] = []
        now = self._now()
        depth = self._enter(False)
        try:
            self._expire_into(now, notes)
            try:
                pair = self._evict_one()
            except KeyError:
                pair = None
        finally:
            self._leave(depth)
        self._notify(notes)
        if pair is None:
            raise KeyError(f"{type(self).__name__} is empty") from None
        return pair

    def expire(self, time: Any = None) -> list[tuple[Any, Any]]:
        """Remove the entries whose deadline is ``<= time`` (default ``timer()``); return the
        removed ``(key, value)`` pairs in deadline order."""
        now = self._now() if time is None else self._time_of(time, "expire(time)")
        notes: list[Note] = []
        depth = self._enter(True)
        try:
            self._expire_into(now, notes)
        finally:
            self._leave(depth)
        self._notify(notes)
        return [(key, value) for key, value, _cause in notes]

    def __len__(self) -> int:
        self.expire()
        return len(self._data)

    @property
    def currsize(self) -> Any:
        """The current size of the cache (expired entries are removed first)."""
        self.expire()
        return self._currsize

    def __repr__(self) -> str:
        self.expire()
        return super().__repr__()

    def remaining_ttl(self, key: Any) -> Any:
        """``deadline - now`` for a live entry (no access); ``KeyError`` if absent or
        expired."""
        depth = self._enter(False)
        try:
            entry = self._data.get(key)
            if entry is not None:
                now = self._now()
                if now < entry.item[0]:
                    left = entry.item[0] - now
                    return timedelta(microseconds=left) if self._tmode == _DATETIME else left
        finally:
            self._leave(depth)
        raise KeyError(key)

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["timer"] = self._timer.__reduce__()[1][0]  # the function, as in C
        params["time_mode"] = self._tmode
        params["origin"] = self._origin
        return params

    def _mode_from(self, params: dict[str, Any]) -> int:
        """What a pickle's times are."""
        raise NotImplementedError

    def _setup_from(self, params: dict[str, Any]) -> None:
        mode = self._mode_from(params)
        origin = params.get("origin")
        if origin is not None and not (mode == _DATETIME and isinstance(origin, date)):
            raise ValueError("invalid cache state: time origin")
        self._set_timer(params["timer"], mode)
        self._origin = origin
        super()._setup_from(params)


class TTLCache(_TimedCache):
    """LRU cache whose entries expire ``ttl`` timer units after they were written."""

    __slots__ = ("_ttl",)

    def __init__(self, maxsize: Any, ttl: Any, timer: Callable[[], Any] = time.monotonic,
                 getsizeof: Callable[[Any], int] | None = None, *,
                 on_evict: Callable[[Any, Any, str], object] | None = None,
                 stats: bool = False) -> None:
        self._ttl, mode = check_cache_ttl(ttl)
        self._set_timer(timer, mode)
        self._setup(maxsize, getsizeof, on_evict, stats)

    @property
    def ttl(self) -> Any:
        """The cache's time to live."""
        return self._ttl

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self._fast:
            self._set(key, value, self._ttl)
            return
        # The common case (unit sizes, no popitem() override): _set and _now inlined.
        t = type(key)
        if t is not int and t is not str:
            hash(key)  # an unhashable key fails before anything changes
        now = self._timer()
        if (type(now) is not float and type(now) is not int) or now != now:
            now = self._time_of(now, "timer")
        self._write_fast(key, value, now, now + self._ttl)

    def set(self, key: Any, value: Any, ttl: Any = None) -> None:
        """``c[key] = value`` with its own time to live (``None``: the cache's ``ttl``)."""
        if ttl is not None:
            ttl = check_delta_ttl(ttl) if self._tmode == _DATETIME else check_ttl(ttl)
        self._set(key, value, self._ttl if ttl is None else ttl, ttl)

    def _write_again(self, key: Any, value: Any, ttl: Any) -> None:
        if ttl is None:
            self[key] = value
        else:
            self.set(key, value, ttl)

    def _set(self, key: Any, value: Any, ttl: Any, own_ttl: Any = None) -> None:
        """A write living ``ttl``; ``own_ttl``: ``set()``'s argument, which a write restarted
        by ``__init__`` keeps (None: the cache's ttl then)."""
        hash(key)
        size = self._size_of(value) if self._sized else 1
        if size > self._maxsize:
            raise ValueError("value too large")
        if self._tmode == _NUMBER:
            now = self._now()
            deadline = now + ttl
        else:  # the timer's own now + ttl, as cachetools (OverflowError past datetime.max)
            raw = self._timer()
            now = self._time_of(raw, "timer")
            gen = self._gen
            now, deadline = self._times(raw, now, gen, raw + ttl, "timer() + ttl")
        self._write(key, value, size, now, deadline, own_ttl)

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["ttl"] = self._ttl
        return params

    def _mode_from(self, params: dict[str, Any]) -> int:
        self._ttl, mode = check_cache_ttl(params["ttl"])
        return mode


class TLRUCache(_TimedCache):
    """LRU cache whose entries expire at ``ttu(key, value, now)``."""

    __slots__ = ("_ttu",)
    _ttu: Callable[[Any, Any, Any], Any]

    def __init__(self, maxsize: Any, ttu: Callable[[Any, Any, Any], Any],
                 timer: Callable[[], Any] = time.monotonic,
                 getsizeof: Callable[[Any], int] | None = None, *,
                 on_evict: Callable[[Any, Any, str], object] | None = None,
                 stats: bool = False) -> None:
        self._ttu = check_callable(ttu, "ttu", optional=False)
        self._set_timer(timer, _UNDECIDED)
        self._setup(maxsize, getsizeof, on_evict, stats)

    @property
    def ttu(self) -> Callable[[Any, Any, Any], Any]:
        """The time-to-use function used by the cache."""
        return self._ttu

    def __setitem__(self, key: Any, value: Any) -> None:
        hash(key)
        size = self._size_of(value) if self._sized else 1
        if size > self._maxsize:
            raise ValueError("value too large")
        raw = self._timer()
        now = self._time_of(raw, "timer")
        gen = self._gen
        now, deadline = self._times(raw, now, gen, self._ttu(key, value, raw), "ttu")
        if self._fast:
            self._write_fast(key, value, now, deadline)
        else:
            self._write(key, value, size, now, deadline)

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["ttu"] = self._ttu
        return params

    def _mode_from(self, params: dict[str, Any]) -> int:
        mode = params.get("time_mode", _NUMBER)
        if mode not in (_NUMBER, _UNDECIDED, _DATETIME) or type(mode) is not int:
            raise ValueError("invalid cache state: time_mode")
        return mode

    def _setup_from(self, params: dict[str, Any]) -> None:
        self._ttu = params["ttu"]
        super()._setup_from(params)


_OWN_POPITEMS.add(_TimedCache.popitem)
