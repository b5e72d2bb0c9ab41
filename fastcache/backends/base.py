"""The backend protocol (sync ``Backend``, async ``AsyncBackend``) and its shared pieces.

Conventions every backend follows (the contract suite in ``tests/backends`` checks them):

- Keys are ``str`` (anything else: ``TypeError``).  Values are any object the backend's
  serialiser accepts; a stored ``None`` is returned as ``None``, an absent key returns the
  ``default`` argument of ``get`` (``MISSING`` unless given), so the two are distinguishable.
- ``ttl`` arguments are seconds: ``None`` (or ``math.inf``) means no expiry, otherwise a real
  number > 0 (``TypeError`` / ``ValueError`` otherwise).  Memcached rounds up to whole seconds.
- ``ttl(key)`` returns the remaining seconds, ``None`` for a key without expiry, and raises
  ``KeyError(key)`` for an absent key (as ``TTLCache.remaining_ttl``).
- ``incr``/``decr`` on an absent key start from 0 (as Redis ``INCRBY``) without expiry and
  keep an existing key's expiry; on a value that is not an ``int``: ``ValueError``.
  (Memcached counters are the server's unsigned 64-bit ones: ``decr`` stops at 0.)
- ``expire(key, ttl)`` (alias ``touch``) sets a new expiry on an existing key (``ttl=None``
  removes it) and returns whether the key existed.
- ``clear()`` removes only this backend's namespace (prefix and version), never the server.
- A server that is down or does not answer within the timeout raises ``BackendUnavailable``
  (chained to the client's own error), unless the backend was built with
  ``on_failure="degrade"`` (see ``fastcache.backends.failure``).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Final, TypeVar, final

from .. import _validate
from ..exceptions import BackendError, BackendUnavailable

__all__ = [
    "MISSING",
    "AsyncBackend",
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "check_key",
    "check_ttl",
]


_B = TypeVar("_B", bound="Backend")
_A = TypeVar("_A", bound="AsyncBackend")


@final
class _Missing:
    """Type of the ``MISSING`` sentinel (a key that is not in the backend)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""Returned by ``get`` for an absent key when no other default is given."""


def check_key(key: object) -> str:
    """Return ``key`` if it is a ``str``, else raise ``TypeError``."""
    if type(key) is not str and not isinstance(key, str):
        raise TypeError(f"backend keys must be str, not {type(key).__name__}")
    return key


def check_ttl(ttl: object) -> float | None:
    """Validate a ``ttl`` argument: ``None``/``inf`` -> ``None``, else a float > 0."""
    seconds = _validate.ttl(ttl, optional=True)
    if seconds is None or math.isinf(seconds):
        return None
    return float(seconds)


def _check_delta(delta: object) -> int:
    if type(delta) is not int:
        raise TypeError(f"delta must be an int, not {type(delta).__name__}")
    return delta


class Backend(abc.ABC):
    """A synchronous key-value cache backend.

    Subclasses implement ``get``, ``set``, ``add``, ``delete``, ``incr``, ``expire``,
    ``ttl`` and ``clear``; the ``*_many`` methods, ``decr``, ``touch``, ``exists``,
    ``close`` and the context manager have defaults built on them (override the ``*_many``
    methods when the server can batch them).
    """

    @abc.abstractmethod
    def get(self, key: str, default: object = MISSING) -> object:
        """The value stored at ``key`` (``None`` if ``None`` was stored), else ``default``."""

    @abc.abstractmethod
    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` at ``key``, expiring after ``ttl`` seconds (None: never)."""

    @abc.abstractmethod
    def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent (atomically); True if it was stored."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was present."""

    @abc.abstractmethod
    def incr(self, key: str, delta: int = 1) -> int:
        """Add ``delta`` to the integer at ``key`` (absent: 0) atomically; the new value."""

    @abc.abstractmethod
    def expire(self, key: str, ttl: float | None) -> bool:
        """Give ``key`` a new time to live (None: no expiry); True if the key exists."""

    @abc.abstractmethod
    def ttl(self, key: str) -> float | None:
        """Remaining seconds of ``key`` (None: no expiry); ``KeyError`` if absent."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every key of this backend's namespace (never the rest of the server)."""

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """``{key: value}`` for the keys that are present (absent ones are left out)."""
        found: dict[str, object] = {}
        for key in keys:
            value = self.get(key, MISSING)
            if value is not MISSING:
                found[key] = value
        return found

    def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """Store every item of ``mapping`` with the same ``ttl``."""
        for key, value in mapping.items():
            self.set(key, value, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys``; the number that were present."""
        return sum(1 for key in keys if self.delete(key))

    def decr(self, key: str, delta: int = 1) -> int:
        """``incr(key, -delta)``."""
        return self.incr(key, -_check_delta(delta))

    def touch(self, key: str, ttl: float | None) -> bool:
        """Alias of ``expire``."""
        return self.expire(key, ttl)

    def exists(self, key: str) -> bool:
        """True if ``key`` is present."""
        return self.get(key, MISSING) is not MISSING

    def close(self) -> None:
        """Release connections (the default does nothing)."""
        return None

    def __enter__(self: _B) -> _B:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncBackend(abc.ABC):
    """The asyncio twin of ``Backend``: the same methods as coroutines, plus ``aclose()``.

    Use it as ``async with backend: ...``.
    """

    @abc.abstractmethod
    async def get(self, key: str, default: object = MISSING) -> object:
        """The value stored at ``key`` (``None`` if ``None`` was stored), else ``default``."""

    @abc.abstractmethod
    async def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` at ``key``, expiring after ``ttl`` seconds (None: never)."""

    @abc.abstractmethod
    async def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent (atomically); True if it was stored."""

    @abc.abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was present."""

    @abc.abstractmethod
    async def incr(self, key: str, delta: int = 1) -> int:
        """Add ``delta`` to the integer at ``key`` (absent: 0) atomically; the new value."""

    @abc.abstractmethod
    async def expire(self, key: str, ttl: float | None) -> bool:
        """Give ``key`` a new time to live (None: no expiry); True if the key exists."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Remaining seconds of ``key`` (None: no expiry); ``KeyError`` if absent."""

    @abc.abstractmethod
    async def clear(self) -> None:
        """Remove every key of this backend's namespace (never the rest of the server)."""

    async def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """``{key: value}`` for the keys that are present (absent ones are left out)."""
        found: dict[str, object] = {}
        for key in keys:
            value = await self.get(key, MISSING)
            if value is not MISSING:
                found[key] = value
        return found

    async def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """Store every item of ``mapping`` with the same ``ttl``."""
        for key, value in mapping.items():
            await self.set(key, value, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys``; the number that were present."""
        n = 0
        for key in keys:
            n += await self.delete(key)
        return n

    async def decr(self, key: str, delta: int = 1) -> int:
        """``incr(key, -delta)``."""
        return await self.incr(key, -_check_delta(delta))

    async def touch(self, key: str, ttl: float | None) -> bool:
        """Alias of ``expire``."""
        return await self.expire(key, ttl)

    async def exists(self, key: str) -> bool:
        """True if ``key`` is present."""
        return await self.get(key, MISSING) is not MISSING

    async def close(self) -> None:
        """Release connections (the default does nothing)."""
        return None

    async def aclose(self) -> None:
        """Alias of ``close``."""
        await self.close()

    async def __aenter__(self: _A) -> _A:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
