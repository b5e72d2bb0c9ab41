"""The data-source protocol and its batch helpers, async face (the sync face is generated
from this file by ``tools/unasync.py``; ``fastcache/sources.py`` describes them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from .backends import MISSING

__all__ = [
    "AsyncDataSource",
    "async_source_delete_many",
    "async_source_get_many",
    "async_source_set_many",
]


@runtime_checkable
class AsyncDataSource(Protocol):
    """The data-source protocol (``get_many``/``set_many``/``delete_many`` are optional and
    looked up with ``getattr``; the ``Async`` protocol has coroutines)."""

    async def get(self, key: str) -> object:
        """Return the value stored under ``key``, or ``MISSING``."""

    async def set(self, key: str, value: Any) -> None:
        """Insert or replace ``key``."""

    async def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is absent."""


async def async_source_get_many(source: AsyncDataSource, keys: Iterable[str]) -> dict[str, Any]:
    """``source.get_many(keys)`` if the source has it, else one ``get`` per key."""
    many = getattr(source, "get_many", None)
    if many is not None:
        return dict(await many(list(keys)))
    found: dict[str, Any] = {}
    for key in keys:
        value = await source.get(key)
        if value is not MISSING:
            found[key] = value
    return found


async def async_source_set_many(source: AsyncDataSource, mapping: Mapping[str, Any]) -> None:
    """``source.set_many(mapping)`` if the source has it, else one ``set`` per key."""
    many = getattr(source, "set_many", None)
    if many is not None:
        await many(mapping)
        return
    for key, value in mapping.items():
        await source.set(key, value)


async def async_source_delete_many(source: AsyncDataSource, keys: Iterable[str]) -> None:
    """``source.delete_many(keys)`` if the source has it, else one ``delete`` per key."""
    many = getattr(source, "delete_many", None)
    if many is not None:
        await many(list(keys))
        return
    for key in keys:
        await source.delete(key)
