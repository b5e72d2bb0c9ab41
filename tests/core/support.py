"""Helpers shared by the core tests: a counter timer, a recording listener, a factory."""

from __future__ import annotations

from types import ModuleType
from typing import Any

POLICIES = ("Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "TLRUCache", "TTLCache",
            "SIEVECache", "S3FIFOCache", "WTinyLFUCache")


class Timer:
    """A counter timer (as cachetools' tests): the time only moves when ``tick()`` is called."""

    def __init__(self, start: Any = 0) -> None:
        self.time = start

    def __call__(self) -> Any:
        return self.time

    def tick(self, n: Any = 1) -> None:
        self.time += n


class Recorder:
    """An ``on_evict`` listener that records ``(key, value, cause)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, str]] = []

    def __call__(self, key: Any, value: Any, cause: str) -> None:
        self.calls.append((key, value, cause))

    def causes(self, cause: str) -> list[tuple[Any, Any]]:
        return [(k, v) for k, v, c in self.calls if c == cause]


def ttu_plus(delta: Any) -> Any:
    """A picklable ``ttu`` returning ``now + delta``."""
    return _TtuPlus(delta)


class _TtuPlus:
    def __init__(self, delta: Any) -> None:
        self.delta = delta

    def __call__(self, key: Any, value: Any, now: Any) -> Any:
        return now + self.delta


def make(impl: ModuleType, name: str, maxsize: Any = 3, getsizeof: Any = None,
         cls: Any = None, **kw: Any) -> Any:
    """A cache of policy ``name`` (or of ``cls``, a subclass) with the policy's positional
    arguments filled in: RR evicts ``min(keys)``; TTL/TLRU use a ``Timer`` at 0 and a
    time to live of 100."""
    cls = cls if cls is not None else getattr(impl, name)
    if name == "RRCache":
        return cls(maxsize, kw.pop("choice", min), getsizeof, **kw)
    if name == "TTLCache":
        return cls(maxsize, kw.pop("ttl", 100), kw.pop("timer", Timer()), getsizeof, **kw)
    if name == "TLRUCache":
        return cls(maxsize, kw.pop("ttu", ttu_plus(100)), kw.pop("timer", Timer()), getsizeof,
                   **kw)
    return cls(maxsize, getsizeof, **kw)


def size_of_value(value: Any) -> Any:
    """A ``getsizeof``: the value is its own size."""
    return value
