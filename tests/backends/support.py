"""Helpers shared by the backend tests (constants, the async driver)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

KINDS = ("memory", "redis", "cluster", "memcached")
MODES = ("sync", "async")

# how much longer than its ttl a key may live (memcached's clock has 1 s resolution)
TTL_SLACK = {"memory": 0.05, "redis": 0.1, "cluster": 0.1, "memcached": 1.1}


class AsyncDriver:
    """Calls an AsyncBackend's coroutine methods synchronously on a private event loop."""

    def __init__(self, backend: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = backend
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr) or not asyncio.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(attr(*args, **kwargs))

        return call


class Clock:
    """A settable timer for TTL and circuit-breaker tests."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Exploding:
    """Unpickling this sets ``Exploding.loaded``: a test fails if it ever happens."""

    loaded = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (Exploding._trigger, ())

    @staticmethod
    def _trigger() -> None:
        Exploding.loaded = True


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    """Public callables of ``cls`` with their signatures (``aclose`` is asyncio's alias)."""
    out = {}
    for name in dir(cls):
        if name.startswith("_") or name == "aclose":
            continue
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if callable(attr):
            out[name] = inspect.signature(attr)
    return out


def assert_same_faces(sync: type, async_: type) -> None:
    """The two faces of a pair offer the same public methods with the same signatures, the
    sync ones plain functions and the async ones (but context managers) coroutines."""
    s, a = public_methods(sync), public_methods(async_)
    assert sorted(s) == sorted(a), f"only on one face: {sorted(set(s) ^ set(a))}"
    for method, sig in s.items():
        assert str(sig) == str(a[method]), f"{method}: {sig} != {a[method]}"
        assert not inspect.iscoroutinefunction(getattr(sync, method)), method
