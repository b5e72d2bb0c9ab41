"""The backend protocol (``fastcache/backends/base.py`` states its conventions); the async
face is the source of the sync one (``tools/unasync.py``)."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TypeVar

from ._shared import MISSING, check_delta

__all__ = ["AsyncBackend"]

_B = TypeVar("_B", bound="AsyncBackend")


class _Closeable:
    """The ``close`` every backend has (a no-op by default)."""

    async def close(self) -> None:
        """Release connections (the default does nothing)."""
        return None

    async def aclose(self) -> None:  # unasync: remove
        """Alias of ``close``."""  # unasync: remove
        await self.close()  # unasync: remove


class AsyncBackend(_Closeable, abc.ABC):
    """A key-value cache backend, usable as a context manager that closes it.

    Subclasses implement ``get``, ``set``, ``add``, ``delete``, ``incr``, ``expire``,
    ``ttl`` and ``clear``; the ``*_many`` methods, ``decr``, ``touch``, ``exists``,
    ``close`` and the context manager have defaults built on them (override the ``*_many``
    methods when the server can batch them).
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
        return await self.incr(key, -check_delta(delta))

    async def touch(self, key: str, ttl: float | None) -> bool:
        """Alias of ``expire``."""
        return await self.expire(key, ttl)

    async def exists(self, key: str) -> bool:
        """True if ``key`` is present."""
        return await self.get(key, MISSING) is not MISSING

    async def __aenter__(self: _B) -> _B:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
