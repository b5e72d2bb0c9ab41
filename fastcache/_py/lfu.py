"""Pure-Python twin of the compiled LFU policy (``csrc/lfu.c``): ``LFUCache``.

Frequency buckets (Shah, Mitra and Matani, "An O(1) algorithm for implementing the LFU cache
eviction scheme", 2010): a doubly linked list of buckets in increasing frequency, each an
``OrderedDict`` of keys in the order they reached that frequency, so ties go to the least
recently used key. The C keeps the same order as contiguous groups on its one eviction list
(``csrc/lfu.h``); both evict the least recently promoted key of the lowest frequency.
"""

from __future__ import annotations

import collections
from typing import Any

from .._types import EVICTED
from .caches import MISSING, Cache, _Entry, _require, _Restart

__all__ = ["LFUCache"]

_PENDING_MAX = 64


class _Bucket:
    """The entries used ``count`` times, least recently used first."""

    __slots__ = ("count", "entries", "next", "prev")

    def __init__(self, count: int) -> None:
        self.count = count
        self.entries: collections.OrderedDict[_Entry, None] = collections.OrderedDict()
        self.next: _Bucket = self
        self.prev: _Bucket = self


class LFUCache(Cache):
    """Least Frequently Used cache; ties go to the least recently used entry."""

    # Hits of plain keys are lock-free: they append the entry to ``_pending`` (a deque: append
    # and popleft are atomic), and the frequency structure applies those accesses, in order,
    # under the lock before it is next read or changed (Caffeine's read buffer).
    __slots__ = ("_pending", "_root")
    _ordered = False

    def _p_init(self) -> None:
        self._root = _Bucket(0)  # sentinel: root.next has the lowest count
        self._pending: collections.deque[_Entry] = collections.deque()

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free, the access buffered
            try:
                entry = self._data[key]
            except KeyError:
                pass
            else:
                pending = self._pending
                pending.append(entry)
                if len(pending) > _PENDING_MAX:
                    self._drain_locked()
                return entry.value
            return self.__missing__(key)
        return self._read(key)  # with stats, or another key type

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free, the access buffered
            entry = self._data.get(key)
            if entry is None:
                return default
            pending = self._pending
            pending.append(entry)
            if len(pending) > _PENDING_MAX:
                self._drain_locked()
            return entry.value
        return self._get_lookup(key, default)

    def _drain_locked(self) -> None:
        lock = self._lock
        lock.acquire()
        try:
            self._drain()
        finally:
            lock.release()

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self._fast:
            self._setitem_general(key, value)
            return
        # As Cache.__setitem__, with _p_link inlined.
        gen = self._gen
        depth = self._enter(True)
        evicted = None
        notes = None
        outcome: Any = None
        try:
            if self._pending:
                self._drain()
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
                    self._currsize += 1
                    self._p_link(new)
                else:  # nested writes meanwhile (from the key's __hash__/__eq__)
                    notes = [] if evicted is None else [(*evicted, EVICTED)]
                    evicted = None
                    self._settle(new, got, notes)
            else:
                old = entry.value
                entry.value = value
                self._pending.append(entry)
                self._drain()
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

    def _lookup(self, key: Any) -> Any:
        """The value (an access, buffered) or ``MISSING``."""
        entry = self._data.get(key)
        if entry is None:
            return MISSING
        pending = self._pending
        pending.append(entry)
        if len(pending) > _PENDING_MAX:
            self._drain_locked()
        return entry.value

    def _drain(self) -> None:
        """Apply the pending accesses, in order (lock held): each moves its entry to the bucket
        of the next count, created if needed; a bucket left empty is unlinked."""
        pending = self._pending
        popleft = pending.popleft
        while pending:
            entry = popleft()
            bucket = entry.bucket
            # removed since the access, or not linked yet: a lock-free reader found it in the
            # dict between a writer's insertion and its _p_link (which drains right now)
            if not entry.live or bucket is None:
                continue
            nxt = bucket.next
            count = bucket.count + 1
            entries = bucket.entries
            if nxt.count != count:
                if len(entries) == 1:
                    bucket.count = count
                    continue
                new = _Bucket(count)
                new.prev = bucket
                new.next = nxt
                nxt.prev = new
                bucket.next = new
                nxt = new
            nxt.entries[entry] = None
            del entries[entry]
            if not entries:
                prev = bucket.prev
                prev.next = nxt
                nxt.prev = prev
            entry.bucket = nxt

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        if self._pending:
            self._drain()
        root = self._root
        bucket = root.next
        if bucket.count != 1:
            bucket = _Bucket(1)
            bucket.prev = root
            bucket.next = root.next
            root.next.prev = bucket
            root.next = bucket
        bucket.entries[entry] = None
        entry.bucket = bucket

    def _p_replace(self, entry: _Entry, deadline: Any = None) -> None:
        self._pending.append(entry)
        self._drain()

    def _p_unlink(self, entry: _Entry) -> None:
        if self._pending:
            self._drain()
        bucket = entry.bucket
        del bucket.entries[entry]
        if not bucket.entries:
            bucket.prev.next = bucket.next
            bucket.next.prev = bucket.prev

    def _p_first(self) -> _Entry:
        if self._pending:
            self._drain()
        root = self._root
        bucket = root.next
        pinned = self._pinned
        while bucket is not root:
            for entry in bucket.entries:
                if entry is not pinned:
                    return entry
            bucket = bucket.next
        raise KeyError(f"{type(self).__name__} is empty") from None

    def _p_order(self) -> list[_Entry]:
        if self._pending:
            self._drain()
        entries: list[_Entry] = []
        root = self._root
        bucket = root.next
        while bucket is not root:
            entries.extend(bucket.entries)
            bucket = bucket.next
        return entries

    def _p_clear(self) -> None:
        root = self._root  # in place: an operation in progress holds it
        root.next = root.prev = root
        self._pending.clear()

    def _p_check(self) -> None:
        if self._pending:
            self._drain()
        root = self._root
        bucket = root.next
        seen = 0
        last = 0
        stored = {id(e) for e in self._data.values()}
        while bucket is not root:
            _require(bucket.next.prev is bucket, "bucket links")
            _require(bucket.count > last, "bucket counts not increasing")
            _require(len(bucket.entries) > 0, "empty bucket kept")
            for entry in bucket.entries:
                _require(entry.bucket is bucket, "key in the wrong bucket")
                _require(id(entry) in stored, "bucket entry not stored")
            seen += len(bucket.entries)
            last = bucket.count
            bucket = bucket.next
        _require(seen == len(self._data), "bucket population")

    def frequency(self, key: Any) -> int:
        """How many times ``key`` was used (stored or accessed) since it was inserted."""
        depth = self._enter(False)
        try:
            if self._pending:
                self._drain()
            entry = self._data.get(key)
            if entry is None:
                raise KeyError(key)
            return int(entry.bucket.count)
        finally:
            self._leave(depth)

    def _p_state(self) -> Any:
        return [e.bucket.count for e in self._p_order()]

    def _p_restore_extras(self, extra: Any, n: int) -> list[Any]:
        counts = list(extra)
        if len(counts) != n or not all(type(k) is int and k >= 1 for k in counts):
            raise ValueError("invalid cache state: LFU frequency")
        return counts

    def _p_restore_one(self, entry: _Entry, extra: Any) -> None:
        # the bucket of its count, from the highest (restored in ascending counts)
        root = self._root
        bucket = root.prev
        while bucket is not root and bucket.count > extra:
            bucket = bucket.prev
        if bucket.count != extra:
            new = _Bucket(extra)
            new.prev = bucket
            new.next = bucket.next
            bucket.next.prev = new
            bucket.next = new
            bucket = new
        bucket.entries[entry] = None
        entry.bucket = bucket
