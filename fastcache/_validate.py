"""Argument checks shared by every layer: one function per kind of argument, one message each.

The messages are the compiled core's (``csrc/``), so an argument refused by a cache class,
a decorator, a backend or a pattern reads the same whichever refused it:

- ``ttl(value, name)``: a time to live (or any duration): a real number > 0, ``math.inf``
  allowed; ``TypeError`` "<name> must be a real number, not <type>", ``ValueError``
  "<name> must be positive" (NaN included). ``optional=True`` also takes ``None``.
- ``maxsize(value)``: the size bound of a cache class: an ``int`` >= 0 or ``math.inf``.
- ``decorator_maxsize(value)``: ``functools.lru_cache``'s: an ``int`` (negative means 0) or
  ``None``, with ``functools``' own message (drop-in).
- ``callable_(value, name)``: ``TypeError`` "<name> must be callable, not <type>";
  ``optional=True`` also takes ``None``.

Each returns the value it accepted (normalised where said), so a call site reads
``self.ttl = _validate.ttl(ttl)``.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Literal, TypeVar, overload

__all__ = ["callable_", "decorator_maxsize", "maxsize", "ttl"]

T = TypeVar("T")


@overload
def ttl(value: object, name: str = ..., *, optional: Literal[False] = ...) -> float: ...
@overload
def ttl(value: object, name: str = ..., *, optional: bool) -> float | None: ...
def ttl(value: Any, name: str = "ttl", *, optional: bool = False) -> Any:
    """``value`` if it is a real number > 0 (``bool`` refused), or ``None`` when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        alternative = " or None" if optional else ""
        raise TypeError(f"{name} must be a real number{alternative}, not {type(value).__name__}")
    if not value > 0:  # also refuses NaN
        raise ValueError(f"{name} must be positive")
    return value


def maxsize(value: Any) -> int | float:
    """A cache class's bound: an ``int`` >= 0 (``operator.index``) or ``math.inf``."""
    if isinstance(value, float) and value == math.inf:
        return value
    if isinstance(value, bool) or isinstance(value, float):
        if isinstance(value, float) and not value >= 0:
            raise ValueError("maxsize must be non-negative")
        raise TypeError(f"maxsize must be an int or math.inf, not {type(value).__name__}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(
            f"maxsize must be an int or math.inf, not {type(value).__name__}") from None
    if n < 0:
        raise ValueError("maxsize must be non-negative")
    return n


def decorator_maxsize(value: object) -> int | None:
    """``maxsize`` as ``functools.lru_cache`` takes it: an ``int`` (negative: 0) or ``None``."""
    if value is None:
        return None
    if isinstance(value, int):
        return max(value, 0)
    raise TypeError("Expected first argument to be an integer, a callable, or None")


@overload
def callable_(value: T, name: str, *, optional: Literal[False] = ...) -> T: ...
@overload
def callable_(value: T | None, name: str, *, optional: bool) -> T | None: ...
def callable_(value: Any, name: str, *, optional: bool = False) -> Any:
    """``value`` if it is callable (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if not callable(value):
        alternative = " or None" if optional else ""
        raise TypeError(f"{name} must be callable{alternative}, not {type(value).__name__}")
    return value
