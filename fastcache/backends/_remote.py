"""Pieces shared by the network backends: key namespace, codec set-up, TTL conversion."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ..serializers import Codec, Serializer
from .base import check_ttl
from .failure import CircuitBreaker, FailureGuard, OnFailure

__all__ = ["Namespace", "RemoteBase", "ttl_ms"]

_PREFIX_RE = re.compile(r"[A-Za-z0-9_.\-/]+\Z")


class Namespace:
    """Keys ``<prefix>:<version>:<key>``: bumping ``version`` orphans everything written before.

    ``prefix``: letters, digits and ``_.-/`` (no spaces, colons or braces, so a key's own
    ``{hash tag}`` decides its Redis Cluster slot); ``version``: an int >= 0 or such a string.
    """

    def __init__(self, prefix: str = "fastcache", version: int | str = 1) -> None:
        if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
            raise ValueError(f"prefix must match [A-Za-z0-9_.-/]+, got {prefix!r}")
        if isinstance(version, bool) or not isinstance(version, (int, str)):
            raise TypeError("version must be an int or a str")
        if isinstance(version, int) and version < 0:
            raise ValueError("version must be >= 0")
        if isinstance(version, str) and not _PREFIX_RE.match(version):
            raise ValueError(f"version must match [A-Za-z0-9_.-/]+, got {version!r}")
        self.prefix = prefix
        self.version = version
        self.head = f"{prefix}:{version}:"

    def glob(self) -> str:
        """A Redis ``SCAN MATCH`` pattern for every key of this namespace."""
        return re.sub(r"([*?\[\]\\])", r"\\\1", self.head) + "*"

    def __repr__(self) -> str:
        return f"Namespace({self.prefix!r}, {self.version!r})"


def ttl_ms(ttl: object) -> int | None:
    """A validated ttl in whole milliseconds (rounded up, at least 1), or None."""
    seconds = check_ttl(ttl)
    return None if seconds is None else max(1, math.ceil(seconds * 1000))


class RemoteBase:
    """Namespace + codec + failure guard, common to every network backend."""

    _guard: FailureGuard

    def _setup(self, name: str, errors: tuple[type[BaseException], ...], *,
               prefix: str, version: int | str, serializer: Serializer | None,
               compress_threshold: int | None, on_failure: OnFailure,
               breaker: CircuitBreaker | None,
               breaker_errors: tuple[type[BaseException], ...] | None = None,
               fault: Callable[[BaseException], bool] | None = None) -> None:
        self.namespace = Namespace(prefix, version)
        self._head = self.namespace.head
        self.codec = Codec(serializer, compress_threshold=compress_threshold,
                           namespace=self._head)
        self._guard = FailureGuard(name, errors, on_failure, breaker, breaker_errors, fault)

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding this backend's server(s)."""
        return self._guard.breaker

    def _decode(self, data: Any, default: object, key: str) -> object:
        if data is None:
            return default
        return self.codec.decode_or(data, default, key)
