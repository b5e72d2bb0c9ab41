"""Helpers shared by the backend tests (constants, the async driver)."""

from __future__ import annotations

import asyncio
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
