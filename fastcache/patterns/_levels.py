"""What both faces of ``MultiLevelCache`` share: ``Level``, argument checks, which levels
a read may use and what a hit fills."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..backends import MISSING
from ._common import check_backend, check_source, check_ttl, is_not_found
from .invalidators import Invalidator

__all__ = ["Level", "MultiBase", "publish_failed"]

log = logging.getLogger("fastcache.patterns")


class Level:
    """One level of a :class:`MultiLevelCache`: a backend, the TTL of what is promoted or
    filled into it, and whether it is local to this process (``None``: True for the
    in-process memory backends)."""

    __slots__ = ("backend", "local", "ttl")

    def __init__(self, backend: Any, ttl: float | None = None, *, local: bool | None = None):
        check_backend(backend)
        self.backend = backend
        self.ttl = check_ttl(ttl)
        if local is None:
            from ..backends import AsyncMemoryBackend, MemoryBackend

            local = isinstance(backend, (MemoryBackend, AsyncMemoryBackend))
        self.local = bool(local)

    def __repr__(self) -> str:
        return f"Level({self.backend!r}, ttl={self.ttl!r}, local={self.local!r})"


def _levels(levels: Sequence[Any]) -> list[Level]:
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not levels:
        raise ValueError("levels must be a non-empty sequence of Level (or backends)")
    return [lvl if isinstance(lvl, Level) else Level(lvl) for lvl in levels]


def publish_failed(key: str, exc: Exception) -> None:
    """A publish that fails does not fail the write (the source has the value): the usual
    cause, the shared server being down, also breaks the other processes' subscriptions,
    and they bypass their local levels until they are subscribed again."""
    log.warning("could not publish the invalidation of %r: %r", key, exc)


class MultiBase:
    def __init__(
        self,
        levels: Sequence[Any],
        source: Any,
        negative_ttl: float | None,
        invalidator: Invalidator | None,
    ) -> None:
        self.levels = _levels(levels)
        if source is not None:
            check_source(source)
        self.source = source
        self.negative_ttl = check_ttl(negative_ttl, "negative_ttl")
        if invalidator is not None and not callable(getattr(invalidator, "publish", None)):
            raise TypeError("invalidator must implement the Invalidator protocol")
        self.invalidator = invalidator
        self._local = [lvl for lvl in self.levels if lvl.local]
        self._local_ok = True
        first = self.levels[0].backend
        # a MemoryBackend L1 offers its reader without the str check (the slow path below
        # checks the key): for lru/ttl that is the compiled cache's own get
        self._first_get = getattr(first, "unchecked_get", first.get)
        self._l1_get = self._first_get

    @staticmethod
    def _missing_get(key: str, default: object = MISSING) -> Any:
        """The L1 reader while local levels are bypassed (each face sets its own)."""
        raise NotImplementedError

    def _set_local_ok(self, ok: bool) -> None:
        self._local_ok = ok
        first_local = self.levels[0].local
        self._l1_get = self._first_get if ok or not first_local else self._missing_get

    def _usable(self) -> list[Level]:
        return self.levels if self._local_ok else [lvl for lvl in self.levels if not lvl.local]

    def _fills(self, hit_at: int, value: object) -> list[tuple[Level, object, float | None]]:
        """Which levels above ``hit_at`` get ``value``, and with which TTL."""
        out: list[tuple[Level, object, float | None]] = []
        for lvl in self.levels[:hit_at]:
            if lvl.local and not self._local_ok:
                continue
            ttl = lvl.ttl
            if is_not_found(value):
                neg = self.negative_ttl
                ttl = neg if ttl is None or (neg is not None and neg < ttl) else ttl
            out.append((lvl, value, ttl))
        return out
