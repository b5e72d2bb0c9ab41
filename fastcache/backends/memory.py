"""In-process backends over the compiled caches (``LRUCache``, ``LFUCache``, ``TTLCache``).

Each entry is stored as ``(value, deadline)`` with ``deadline`` on the backend's timer
(``None``: no expiry), so every policy supports a per-item TTL and ``ttl(key)``.  With
``policy="ttl"`` the entry is also given its TTL in the ``TTLCache`` (whose timer wheel
reclaims expired memory without waiting for an access); with ``"lru"``/``"lfu"`` an expired
entry is dropped when it is next touched, or evicted by the policy like any other.

Values are stored by reference unless a ``serializer`` is given (e.g.
``fastcache.serializers.MsgpackSerializer()``: then each value is encoded on ``set`` and
decoded on ``get``, as a remote backend would, and callers get copies).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, Literal

from ..serializers import Codec, Serializer
from .base import MISSING, AsyncBackend, Backend, check_key, check_ttl

__all__ = ["AsyncMemoryBackend", "MemoryBackend"]

Policy = Literal["lru", "lfu", "ttl"]
_Entry = tuple[object, "float | None"]


class MemoryBackend(Backend):
    """A thread-safe in-process ``Backend`` over one of the compiled caches.

    ``maxsize`` bounds the number of entries (``math.inf``: unbounded), ``policy`` picks the
    eviction order (``"lru"``, ``"lfu"`` or ``"ttl"``: least recently used among live entries,
    expired ones reclaimed by the timer wheel), ``timer`` is the clock the TTLs count on.
    """

    def __init__(self, maxsize: float = 10_000, policy: Policy = "lru", *,
                 timer: Callable[[], float] = time.monotonic,
                 serializer: Serializer | None = None) -> None:
        from .. import LFUCache, LRUCache, TTLCache

        if not callable(timer):
            raise TypeError("timer must be callable")
        self._timer = timer
        self._ttl_policy = policy == "ttl"
        cache: MutableMapping[str, _Entry]
        if policy == "lru":
            cache = LRUCache(maxsize)
        elif policy == "lfu":
            cache = LFUCache(maxsize)
        elif policy == "ttl":
            cache = TTLCache(maxsize, math.inf, timer)
        else:
            raise ValueError(f"policy must be 'lru', 'lfu' or 'ttl', not {policy!r}")
        self._cache: Any = cache
        self._codec = None if serializer is None else Codec(serializer)
        self._lock = threading.RLock()

    @property
    def policy(self) -> str:
        """The eviction policy's name."""
        return {"LRUCache": "lru", "LFUCache": "lfu"}.get(type(self._cache).__name__, "ttl")

    # -- internals (the lock is held) ------------------------------------------------------

    def _live(self, key: str) -> _Entry | None:
        entry: _Entry | None = self._cache.get(key)
        if entry is not None and entry[1] is not None and not self._timer() < entry[1]:
            del self._cache[key]
            return None
        return entry

    def _store(self, key: str, value: object, ttl: float | None) -> None:
        deadline = None if ttl is None else self._timer() + ttl
        if self._ttl_policy:
            self._cache.set(key, (value, deadline), ttl=math.inf if ttl is None else ttl)
        else:
            self._cache[key] = (value, deadline)

    def _encode(self, value: object) -> object:
        return value if self._codec is None else self._codec.encode(value)

    def _decode(self, entry: _Entry | None, default: object) -> object:
        if entry is None:
            return default
        if self._codec is None:
            return entry[0]
        return self._codec.decode(entry[0])  # type: ignore[arg-type]

    # -- the protocol ----------------------------------------------------------------------

    def get(self, key: str, default: object = MISSING) -> object:
        """The value stored at ``key``, else ``default``."""
        check_key(key)
        with self._lock:
            entry = self._live(key)
        return self._decode(entry, default)

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` at ``key`` for ``ttl`` seconds (None: no expiry)."""
        check_key(key)
        ttl = check_ttl(ttl)
        value = self._encode(value)
        with self._lock:
            self._store(key, value, ttl)

    def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent; True if stored."""
        check_key(key)
        ttl = check_ttl(ttl)
        value = self._encode(value)
        with self._lock:
            if self._live(key) is not None:
                return False
            self._store(key, value, ttl)
            return True

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was present (and not expired)."""
        check_key(key)
        with self._lock:
            if self._live(key) is None:
                return False
            del self._cache[key]
            return True

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """``{key: value}`` for the present keys."""
        found: dict[str, object] = {}
        with self._lock:
            for key in keys:
                entry = self._live(check_key(key))
                if entry is not None:
                    found[key] = entry[0]
        if self._codec is not None:
            decode = self._codec.decode
            found = {k: decode(v) for k, v in found.items()}  # type: ignore[arg-type]
        return found

    def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """Store every item of ``mapping``."""
        ttl = check_ttl(ttl)
        items = [(check_key(k), self._encode(v)) for k, v in mapping.items()]
        with self._lock:
            for key, value in items:
                self._store(key, value, ttl)

    def incr(self, key: str, delta: int = 1) -> int:
        """Add ``delta`` to the int at ``key`` (absent: 0), keeping its expiry."""
        check_key(key)
        if type(delta) is not int:
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        with self._lock:
            entry = self._live(key)
            old: object = 0 if entry is None else self._decode(entry, None)
            if type(old) is not int:
                raise ValueError(f"value at {key!r} is not an integer")
            new = old + delta
            deadline = None if entry is None else entry[1]
            ttl = None if deadline is None else max(deadline - self._timer(), 1e-9)
            self._store(key, self._encode(new), ttl)
            return new

    def expire(self, key: str, ttl: float | None) -> bool:
        """Give ``key`` a new TTL (None: no expiry); True if it exists."""
        check_key(key)
        ttl = check_ttl(ttl)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return False
            self._store(key, entry[0], ttl)
            return True

    def ttl(self, key: str) -> float | None:
        """Remaining seconds of ``key`` (None: no expiry); ``KeyError`` if absent."""
        check_key(key)
        with self._lock:
            entry = self._live(key)
        if entry is None:
            raise KeyError(key)
        return None if entry[1] is None else max(entry[1] - self._timer(), 0.0)

    def exists(self, key: str) -> bool:
        """True if ``key`` is present and not expired."""
        check_key(key)
        with self._lock:
            return self._live(key) is not None

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        """Number of entries held (expired ones not yet reclaimed included)."""
        return len(self._cache)


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
