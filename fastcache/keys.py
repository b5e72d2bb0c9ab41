"""Key functions for the memoizing decorators (``cached``, ``cachedmethod``).

The same four functions as ``cachetools.keys``, with the same results: a key is the
positional argument tuple itself, followed (when there are keyword arguments) by a
separator and the keyword items sorted by name; the typed variants append the type of every
argument. Keyword order is therefore *not* significant here (it is for ``lru_cache``, as in
``functools``).
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["hashkey", "methodkey", "typedkey", "typedmethodkey"]


class _KwMark:
    """Separates positional from keyword arguments in a key; the class itself is the mark.

    Using a class keeps the mark's identity across pickling (it pickles by reference).
    """


_kwmark: tuple[Hashable, ...] = (_KwMark,)


def hashkey(*args: Hashable, **kwargs: Hashable) -> tuple[Hashable, ...]:
    """Return a cache key for the given hashable arguments (keyword order ignored)."""
    if kwargs:
        return args + _kwmark + tuple(sorted(kwargs.items()))
    return args


def methodkey(self: object, /, *args: Hashable, **kwargs: Hashable) -> tuple[Hashable, ...]:
    """Return a cache key for a method call: as :func:`hashkey`, ignoring ``self``."""
    if kwargs:
        return args + _kwmark + tuple(sorted(kwargs.items()))
    return args


def typedkey(*args: Hashable, **kwargs: Hashable) -> tuple[Hashable, ...]:
    """Return a key as :func:`hashkey` that also tells apart arguments of different types."""
    if kwargs:
        sorted_kwargs = tuple(sorted(kwargs.items()))
        key = args + _kwmark + sorted_kwargs
        key += tuple([type(v) for _, v in sorted_kwargs])
    else:
        key = args
    return key + tuple(map(type, args))


def typedmethodkey(
    self: object, /, *args: Hashable, **kwargs: Hashable
) -> tuple[Hashable, ...]:
    """Return a typed cache key for a method call, ignoring ``self``."""
    return typedkey(*args, **kwargs)
