"""The non-I/O pieces of the backend protocol: the ``MISSING`` sentinel, the errors and the
argument checks every backend (sync or async) shares."""

from __future__ import annotations

import math
from typing import Final, final

from .. import _validate
from ..exceptions import BackendError, BackendUnavailable

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


def check_delta(delta: object) -> int:
    """Return ``delta`` if it is an ``int`` (``bool`` refused), else raise ``TypeError``."""
    if type(delta) is not int:
        raise TypeError(f"delta must be an int, not {type(delta).__name__}")
    return delta
