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

from .caches import MISSING, PLAIN, Cache, _require, _Restart

__all__ = ["LFUCache"]

_PENDING_MAX = 64


class _Bucket:
    """The keys used ``count`` times, least recently used first."""

    __slots__ = ("count", "keys", "next", "prev")

    def __init__(self, count: int) -> None:
        self.count = count
        self.keys: collections.OrderedDict[Any, None] = collections.OrderedDict()
        self.next: _Bucket = self
        self.prev: _Bucket = self


class LFUCache(Cache):
    """Least Frequently Used cache; ties go to the least recently used entry."""

    # Hits of plain keys are lock-free: they append the key to ``_pending`` (a deque: append
    # and popleft are atomic), and the frequency structure applies those accesses, in order,
    # under the lock before it is next read or changed (Caffeine's read buffer).
    __slots__ = ("_buckets", "_pending", "_root")
    _ordered = False

    def _p_init(self) -> None:
        self._root = _Bucket(0)  # sentinel: root.next has the lowest count
        self._buckets: dict[Any, _Bucket] = {}
        self._pending: collections.deque[Any] = collections.deque()

    def __getitem__(self, key: Any) -> Any:
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free, the access buffered
            try:
                value = self._data[key]
            except KeyError:
                pass
            else:
                pending = self._pending
                pending.append(key)
                if len(pending) > _PENDING_MAX:
                    self._drain_locked()
                return value
            return self.__missing__(key)
        if t in PLAIN:  # with stats (or a bytes/float key): no lock
            return self._counted(key, self._lookup(key))
        return self._counted(key, self._locked_lookup(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else ``default``."""
        t = type(key)
        if t is self._fint or t is self._fstr:  # no stats: lock-free, the access buffered
            data = self._data
            if key in data:  # cheaper than get, above all for a miss
                try:
                    value = data[key]
                except KeyError:  # removed meanwhile by another thread
                    return default
                pending = self._pending
                pending.append(key)
                if len(pending) > _PENDING_MAX:
                    self._drain_locked()
                return value
            return default
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
        # As Cache.__setitem__, with _evict_one, _link and _p_touch inlined.
        gen = self._gen
        depth = self._enter(True)
        evicted = None
        try:
            if self._pending:
                self._drain()
            data = self._data
            old = data.get(key, MISSING)
            if self._gen != gen:
                raise _Restart
            if old is MISSING:
                root = self._root
                buckets = self._buckets
                if self._currsize >= self._maxsize:
                    bucket = root.next  # the lowest count; its first key is the least recent
                    bkeys = bucket.keys
                    gone = bkeys.popitem(last=False)[0]
                    evicted = gone, data.pop(gone)
                    self._evictions += 1
                    del buckets[gone]
                    if not bkeys:
                        root.next = nxt = bucket.next
                        nxt.prev = root
                else:
                    self._currsize += 1
                data[key] = value
                bucket = root.next
                if bucket.count != 1:
                    bucket = _Bucket(1)
                    bucket.prev = root
                    bucket.next = nxt = root.next
                    nxt.prev = bucket
                    root.next = bucket
                bucket.keys[key] = None
                buckets[key] = bucket
            else:
                data[key] = value
                self._pending.append(key)
                self._drain()
        except _Restart:
            gen = -1
        finally:
            self._leave(depth)
        if gen == -1:
            self._restart_write(key, value)
            return
        if self._on_evict is not None:
            self._report(key, old, evicted)

    def _lookup(self, key: Any) -> Any:
        """The value (an access, buffered) or ``MISSING``."""
        value = self._data.get(key, MISSING)
        if value is not MISSING:
            pending = self._pending
            pending.append(key)
            if len(pending) > _PENDING_MAX:
                self._drain_locked()
        return value

    def _drain(self) -> None:
        """Apply the pending accesses, in order (lock held): each moves its key to the bucket
        of the next count, created if needed; a bucket left empty is unlinked."""
        pending = self._pending
        popleft = pending.popleft
        buckets = self._buckets
        bucket_of = buckets.get
        while pending:
            key = popleft()
            bucket = bucket_of(key)
            if bucket is None:  # removed since the access
                continue
            nxt = bucket.next
            count = bucket.count + 1
            keys = bucket.keys
            if nxt.count != count:
                if len(keys) == 1:
                    bucket.count = count
                    continue
                new = _Bucket(count)
                new.prev = bucket
                new.next = nxt
                nxt.prev = new
                bucket.next = new
                nxt = new
            nxt.keys[key] = None
            del keys[key]
            if not keys:
                prev = bucket.prev
                prev.next = nxt
                nxt.prev = prev
            buckets[key] = nxt

    def _evict_one(self) -> tuple[Any, Any]:
        if self._pending:
            self._drain()
        if self._pinned is not MISSING:
            return super()._evict_one()
        root = self._root
        bucket = root.next
        if bucket is root:
            raise KeyError(f"{type(self).__name__} is empty") from None
        keys = bucket.keys
        key = next(iter(keys))
        value = self._data.pop(key)
        sizes = self._sizes
        self._currsize -= 1 if sizes is None else sizes.pop(key)
        del self._buckets[key]
        del keys[key]
        if not keys:
            root.next = bucket.next
            bucket.next.prev = root
        return key, value

    def _link(self, key: Any) -> None:
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
        bucket.keys[key] = None
        self._buckets[key] = bucket

    def _p_touch(self, key: Any) -> None:
        self._pending.append(key)
        self._drain()

    _p_replace = _p_touch
    _p_link = _link

    def _unlink(self, key: Any) -> None:
        if self._pending:
            self._drain()
        bucket = self._buckets.pop(key)
        del bucket.keys[key]
        if not bucket.keys:
            bucket.prev.next = bucket.next
            bucket.next.prev = bucket.prev

    _p_unlink = _unlink

    def _p_first(self) -> Any:
        if self._pending:
            self._drain()
        root = self._root
        bucket = root.next
        pinned = self._pinned
        while bucket is not root:
            for key in bucket.keys:
                if pinned is MISSING or not (key is pinned or key == pinned):
                    return key
            bucket = bucket.next
        raise KeyError(f"{type(self).__name__} is empty") from None

    def _p_order(self) -> list[Any]:
        if self._pending:
            self._drain()
        keys: list[Any] = []
        root = self._root
        bucket = root.next
        while bucket is not root:
            keys.extend(bucket.keys)
            bucket = bucket.next
        return keys

    def _p_clear(self) -> None:
        self._p_init()

    def _p_check(self) -> None:
        if self._pending:
            self._drain()
        root = self._root
        bucket = root.next
        seen = 0
        last = 0
        while bucket is not root:
            _require(bucket.next.prev is bucket, "bucket links")
            _require(bucket.count > last, "bucket counts not increasing")
            _require(len(bucket.keys) > 0, "empty bucket kept")
            for key in bucket.keys:
                _require(self._buckets[key] is bucket, "key in the wrong bucket")
            seen += len(bucket.keys)
            last = bucket.count
            bucket = bucket.next
        _require(seen == len(self._data) == len(self._buckets), "bucket population")

    def frequency(self, key: Any) -> int:
        """How many times ``key`` was used (stored or accessed) since it was inserted."""
        depth = self._enter(False)
        try:
            if self._pending:
                self._drain()
            return self._buckets[key].count
        finally:
            self._leave(depth)

    def _p_state(self) -> Any:
        return [self._buckets[key].count for key in self._p_order()]

    def _p_restore(self, extra: Any) -> None:
        entries, counts = extra
        root = self._root
        for (key, _value, _size), count in zip(entries, counts, strict=True):
            bucket = root.prev
            if bucket.count != count:
                bucket = _Bucket(count)
                bucket.next = root
                bucket.prev = root.prev
                root.prev.next = bucket
                root.prev = bucket
            bucket.keys[key] = None
            self._buckets[key] = bucket
