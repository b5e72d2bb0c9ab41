"""The non-I/O pieces of the backend protocol: the ``MISSING`` sentinel, the errors and the
argument checks every backend (sync or async) shares."""

from __future__ import annotations

import math
from typing import Final, final

__all__ = [
    "MISSING",
    "BackendError",
    "BackendUnavailable",
    "check_delta",
    "check_key",
    "check_ttl",
]


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


class BackendError(Exception):
    """Base class of the errors raised by backends."""


class BackendUnavailable(BackendError):
    """The server is down, unreachable, timed out, or its circuit breaker is open.

    The client library's own exception is chained as ``__cause__``.
    """


def check_key(key: object) -> str:
    """Return ``key`` if it is a ``str``, else raise ``TypeError``."""
    if type(key) is not str and not isinstance(key, str):
        raise TypeError(f"backend keys must be str, not {type(key).__name__}")
    return key


def check_ttl(ttl: object) -> float | None:
    """Validate a ``ttl`` argument: ``None``/``inf`` -> ``None``, else a float > 0."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise TypeError(f"ttl must be a real number or None, not {type(ttl).__name__}")
    if not ttl > 0:  # also refuses NaN
        raise ValueError(f"ttl must be > 0, got {ttl!r}")
    if math.isinf(ttl):
        return None
    return float(ttl)


def check_delta(delta: object) -> int:
    """Return ``delta`` if it is an ``int`` (``bool`` refused), else raise ``TypeError``."""
    if type(delta) is not int:
        raise TypeError(f"delta must be an int, not {type(delta).__name__}")
    return delta
