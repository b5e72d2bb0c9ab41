"""In-process backends over the compiled caches (``TTLCache``; ``LFUCache``, ``SIEVECache``,
``S3FIFOCache``, ``WTinyLFUCache``).

Storage, per policy:

- ``"lru"`` and ``"ttl"``: one LRU ``TTLCache(maxsize, math.inf, timer)`` holding the values
  themselves, each with its own TTL (``TTLCache.set(key, value, ttl)``; no TTL: never
  expires).  Its eviction order is least recently used among live entries, its timer wheel
  reclaims expired entries on the next write, and a read is one call into the compiled core.
  (The two names are kept for compatibility; they are the same store.)
- ``"lfu"``, ``"sieve"``, ``"s3fifo"``, ``"wtinylfu"``: an ``LFUCache``, ``SIEVECache``,
  ``S3FIFOCache`` or ``WTinyLFUCache`` (their defaults; none has a per-item TTL).  A value
  stored without a TTL is stored as itself, unless it is an exact ``tuple``; a value with a
  TTL, or an exact ``tuple``, is stored as ``(value, deadline)`` (deadline on the backend's
  timer, ``None``: no expiry).  A read only unwraps exact tuples, so the common read is one
  call into the core and a type check; an expired entry is dropped when it is next read, and
  until then takes its place in the policy's order like any entry (the policy evicts it in
  its turn).

Thread safety: reads (``get``, ``exists``, ``ttl``) take no lock: ``get`` and ``exists`` are
one atomic operation of the core, ``ttl`` two (a read of an expired wrapped entry takes the
lock to drop it, after checking it is still the same entry).  Every write (``set``,
``delete``, ``add``, ``incr``, ``expire``, ``clear``, the ``*_many``) holds the backend's
lock, so a read-modify-write (``add``, ``incr``/``decr``, ``expire``) cannot lose a
concurrent ``set`` or ``delete`` between its read and its write.  (The core has no
compare-and-swap, so a lock-free ``set`` and an atomic ``incr`` cannot both be had.)

Values are stored by reference unless a ``serializer`` is given (e.g.
``fastcache.serializers.MsgpackSerializer()``: then each value is encoded on ``set`` and
decoded on ``get``, as a remote backend would, and callers get copies).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Literal

from .. import _validate
from ..serializers import Codec, Serializer
from .base import MISSING, AsyncBackend, Backend, check_key, check_ttl

__all__ = ["AsyncMemoryBackend", "MemoryBackend"]

Policy = Literal["lru", "ttl", "lfu", "sieve", "s3fifo", "wtinylfu"]
#: The policies stored as ``(value, deadline)`` in a cache class without per-item TTLs.
_WRAPPED = {"lfu": "LFUCache", "sieve": "SIEVECache", "s3fifo": "S3FIFOCache",
            "wtinylfu": "WTinyLFUCache"}
_POLICIES = ("lru", "ttl", *_WRAPPED)
_INF = math.inf
_PLAIN = (float, int)  # ttl types set() passes on as they are (bool is not one: an exact match)


class MemoryBackend(Backend):
    """A thread-safe in-process ``Backend`` over one of the compiled caches.

    ``maxsize`` bounds the number of entries (at least 1; ``math.inf``: unbounded),
    ``policy`` picks the eviction order (``"lru"`` or ``"ttl"``: least recently used among
    live entries, expired ones reclaimed by the timer wheel; ``"lfu"``: least frequently used;
    ``"sieve"``, ``"s3fifo"``, ``"wtinylfu"``: those policies' classes, an expired entry
    dropped when read or evicted in its turn), ``timer`` is the clock the TTLs count on,
    ``serializer`` makes the backend store encoded copies.
    """

    def __init__(self, maxsize: float = 10_000, policy: Policy = "lru", *,
                 timer: Callable[[], float] = time.monotonic,
                 serializer: Serializer | None = None) -> None:
        from .. import TTLCache, caches

        _validate.callable_(timer, "timer")
        if _validate.maxsize(maxsize) == 0:  # every set() would raise "value too large"
            raise ValueError("maxsize must be at least 1")
        if policy not in _POLICIES:
            raise ValueError(f"policy must be one of {', '.join(map(repr, _POLICIES))}, "
                             f"not {policy!r}")
        self._policy = policy
        self._cache: Any
        codec = None if serializer is None else Codec(serializer)
        self._encode: Callable[[object, str], bytes] | None = (
            None if codec is None else codec.encode)
        self._decode: Callable[[bytes, str], object] | None = (
            None if codec is None else codec.decode)
        self._decode_or: Callable[[bytes, object, str], object] | None = (
            None if codec is None else codec.decode_or)
        self._lock = threading.RLock()
        # the single-key writes call these rather than `with self._lock` (~100 ns less)
        self._acquire, self._release = self._lock.acquire, self._lock.release
        # Bound per configuration, so the hot paths test nothing they could know now:
        # _raw(key, default): the stored (encoded) value of a live entry; _read: decoded;
        # _write(key, stored, ttl): store (the lock is held); _live(key): (stored, ttl left).
        # None of them refers back to self: dropping the backend frees the cache at once.
        self._raw: Callable[[str, object], object]
        self._write: Callable[[str, object, float | None], None]
        self._live: Callable[[str], tuple[object, float | None] | None]
        if policy in _WRAPPED:
            store = _DeadlineStore(getattr(caches, _WRAPPED[policy])(maxsize), timer,
                                   self._lock)
            self._cache = store.cache
            self._raw, self._write, self._live = store.get, store.write, store.live
            if codec is None:  # one Python frame per read instead of two
                self.get = store.get  # type: ignore[method-assign]
        else:
            ttl_cache: TTLCache[str, object] = TTLCache(maxsize, _INF, timer)
            self._cache = ttl_cache
            self._raw, self._write = ttl_cache.get, ttl_cache.set
            self._live = partial(_ttl_live, ttl_cache)
        self._read: Callable[[str, object], object] = (
            self._raw if codec is None else partial(_decoded, self._raw, codec.decode_or))

    @property
    def policy(self) -> str:
        """The eviction policy's name."""
        return self._policy

    @property
    def unchecked_get(self) -> Callable[[str, object], object]:
        """``get(key, default)`` without the check that ``key`` is a ``str``, for a caller
        that does it itself (``MultiLevelCache``'s L1 hit): with ``policy="lru"``/``"ttl"``
        and no serializer it is the compiled cache's own ``get``, no Python frame at all.
        A non-``str`` key gives ``default`` or a ``TypeError``."""
        return self._read

    # -- the protocol ----------------------------------------------------------------------

    def get(self, key: str, default: object = MISSING) -> object:
        """The value stored at ``key``, else ``default``."""
        if type(key) is not str:
            check_key(key)
        return self._read(key, default)

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` at ``key`` for ``ttl`` seconds (None: no expiry)."""
        if type(key) is not str:
            check_key(key)
        if ttl is not None and not (type(ttl) in _PLAIN and 0 < ttl < _INF):
            ttl = check_ttl(ttl)  # the rest: refused, or converted (inf: None)
        if self._encode is not None:
            value = self._encode(value, key)
        self._acquire()
        try:
            self._write(key, value, ttl)
        finally:
            self._release()

    def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent; True if stored."""
        if type(key) is not str:
            check_key(key)
        ttl = check_ttl(ttl)
        if self._encode is not None:
            value = self._encode(value, key)
        self._acquire()
        try:
            if self._raw(key, MISSING) is not MISSING:
                return False
            self._write(key, value, ttl)
            return True
        finally:
            self._release()

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was present (and not expired)."""
        if type(key) is not str:
            check_key(key)
        self._acquire()
        try:
            if self._raw(key, MISSING) is MISSING:
                return False
            self._cache.pop(key, None)
            return True
        finally:
            self._release()

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """``{key: value}`` for the present keys (one consistent snapshot)."""
        wanted = [check_key(key) for key in keys]
        raw = self._raw
        found: dict[str, object] = {}
        with self._lock:
            for key in wanted:
                stored = raw(key, MISSING)
                if stored is not MISSING:
                    found[key] = stored
        if self._decode_or is not None:
            decode_or = self._decode_or
            found = {k: d for k, v in found.items()
                     if (d := decode_or(v, MISSING, k)) is not MISSING}  # type: ignore[arg-type]
        return found

    def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """Store every item of ``mapping`` (atomically)."""
        ttl = check_ttl(ttl)
        encode = self._encode
        items = [(k, v if encode is None else encode(v, k))
                 for k, v in ((check_key(k), v) for k, v in mapping.items())]
        write = self._write
        with self._lock:
            for key, value in items:
                write(key, value, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys`` (atomically); how many were present."""
        wanted = [check_key(key) for key in keys]
        raw, pop = self._raw, self._cache.pop
        n = 0
        with self._lock:
            for key in wanted:
                if raw(key, MISSING) is not MISSING:
                    pop(key, None)
                    n += 1
        return n

    def incr(self, key: str, delta: int = 1) -> int:
        """Add ``delta`` to the int at ``key`` (absent: 0), keeping its expiry."""
        if type(key) is not str:
            check_key(key)
        if type(delta) is not int:
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        self._acquire()
        try:
            entry = self._live(key)
            old: object = 0
            ttl = None
            if entry is not None:
                old, ttl = entry
                if self._decode is not None:
                    old = self._decode(old, key)  # type: ignore[arg-type]
            if type(old) is not int:
                raise ValueError(f"value at {key!r} is not an integer")
            new = old + delta
            self._write(key, new if self._encode is None else self._encode(new, key), ttl)
            return new
        finally:
            self._release()

    def expire(self, key: str, ttl: float | None) -> bool:
        """Give ``key`` a new TTL (None: no expiry); True if it exists."""
        if type(key) is not str:
            check_key(key)
        ttl = check_ttl(ttl)
        self._acquire()
        try:
            stored = self._raw(key, MISSING)
            if stored is MISSING:
                return False
            self._write(key, stored, ttl)
            return True
        finally:
            self._release()

    def ttl(self, key: str) -> float | None:
        """Remaining seconds of ``key`` (None: no expiry); ``KeyError`` if absent."""
        check_key(key)
        entry = self._live(key)
        if entry is None:
            raise KeyError(key)
        return entry[1]

    def exists(self, key: str) -> bool:
        """True if ``key`` is present and not expired."""
        check_key(key)
        return self._raw(key, MISSING) is not MISSING

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        """Number of entries held (``"lfu"``, ``"sieve"``, ``"s3fifo"``, ``"wtinylfu"``:
        expired ones not yet dropped included)."""
        return len(self._cache)



def _decoded(raw: Callable[[str, object], object],
             decode_or: Callable[[bytes, object, str], object],
             key: str, default: object) -> object:
    """``raw``'s stored value for ``key``, decoded (``default`` if there is none, or if it
    cannot be trusted: a logged warning, as the network backends do)."""
    stored = raw(key, MISSING)
    if stored is MISSING:
        return default
    return decode_or(stored, default, key)  # type: ignore[arg-type]


def _ttl_live(cache: Any, key: str) -> tuple[object, float | None] | None:
    """(stored value, seconds left or None) of a live entry of the ``TTLCache``, else None."""
    stored = cache.get(key, MISSING)
    if stored is MISSING:
        return None
    try:
        left = cache.remaining_ttl(key)
    except KeyError:  # it expired just now
        return None
    return stored, None if left == _INF else left


class _DeadlineStore:
    """Entries of a cache class without per-item TTLs (``_WRAPPED``): a value with a TTL, or
    an exact ``tuple``, is stored as ``(value, deadline)`` (``None``: no expiry); any other
    value as itself."""

    __slots__ = ("cache", "lock", "lookup", "timer")

    def __init__(self, cache: Any, timer: Callable[[], float], lock: Any) -> None:
        self.cache = cache
        self.lookup = cache.get
        self.timer = timer
        self.lock = lock

    def get(self, key: str, default: object = MISSING) -> object:
        """``MemoryBackend.get`` of such a backend (also its raw read under a serializer)."""
        if type(key) is not str:
            check_key(key)
        stored = self.lookup(key, MISSING)
        if type(stored) is not tuple:
            return default if stored is MISSING else stored
        value, deadline = stored
        if deadline is None or self.timer() < deadline:
            return value
        self.drop(key, stored)
        return default

    def live(self, key: str) -> tuple[object, float | None] | None:
        """(stored value, seconds left or None) of a live entry, else None."""
        stored = self.lookup(key, MISSING)
        if stored is MISSING:
            return None
        if type(stored) is not tuple:
            return stored, None
        value, deadline = stored
        if deadline is None:
            return value, None
        left = deadline - self.timer()
        if left > 0:
            return value, left
        self.drop(key, stored)
        return None

    def write(self, key: str, value: object, ttl: float | None) -> None:
        """Store ``value`` for ``ttl`` seconds (the backend's lock is held)."""
        if ttl is not None:
            self.cache[key] = (value, self.timer() + ttl)
        elif type(value) is tuple:
            self.cache[key] = (value, None)
        else:
            self.cache[key] = value

    def drop(self, key: str, stored: object) -> None:
        """Remove the expired entry ``stored`` unless ``key`` was rewritten meanwhile."""
        with self.lock:
            if self.cache.peek(key, None) is stored:
                del self.cache[key]


class AsyncMemoryBackend(AsyncBackend):
    """The asyncio face of ``MemoryBackend`` (same arguments; nothing ever blocks)."""

    def __init__(self, maxsize: float = 10_000, policy: Policy = "lru", *,
                 timer: Callable[[], float] = time.monotonic,
                 serializer: Serializer | None = None) -> None:
        self.sync = MemoryBackend(maxsize, policy, timer=timer, serializer=serializer)

    async def get(self, key: str, default: object = MISSING) -> object:
        """The value stored at ``key``, else ``default``."""
        return self.sync.get(key, default)

    async def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` at ``key`` for ``ttl`` seconds."""
        self.sync.set(key, value, ttl)

    async def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent; True if stored."""
        return self.sync.add(key, value, ttl)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was present."""
        return self.sync.delete(key)

    async def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """``{key: value}`` for the present keys."""
        return self.sync.get_many(keys)

    async def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """Store every item of ``mapping``."""
        self.sync.set_many(mapping, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys``; how many were present."""
        return self.sync.delete_many(keys)

    async def incr(self, key: str, delta: int = 1) -> int:
        """Add ``delta`` to the int at ``key``."""
        return self.sync.incr(key, delta)

    async def expire(self, key: str, ttl: float | None) -> bool:
        """Give ``key`` a new TTL; True if it exists."""
        return self.sync.expire(key, ttl)

    async def ttl(self, key: str) -> float | None:
        """Remaining seconds of ``key``."""
        return self.sync.ttl(key)

    async def exists(self, key: str) -> bool:
        """True if ``key`` is present."""
        return self.sync.exists(key)

    async def clear(self) -> None:
        """Remove every entry."""
        self.sync.clear()
