"""Backend factories: every backend kind (memory, redis, cluster, memcached), sync and async.

The ``backend`` fixture is parametrised over all eight; an async backend is driven through
``AsyncDriver``, which runs each coroutine to completion on the test's own event loop, so
one contract test body checks both faces.  Every backend gets a fresh namespace prefix.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fastcache.backends import (
    AsyncMemcachedBackend,
    AsyncMemoryBackend,
    AsyncRedisBackend,
    AsyncRedisClusterBackend,
    MemcachedBackend,
    MemoryBackend,
    RedisBackend,
    RedisClusterBackend,
)
from tests.backends.support import KINDS, MODES, AsyncDriver


def _options(kind: str, request: pytest.FixtureRequest) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if kind == "memory":
        return (), {}
    if kind == "redis":
        return (request.getfixturevalue("redis_server").url,), {}
    if kind == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        return (), {"startup_nodes": cluster.startup_nodes}
    servers = request.getfixturevalue("memcached_servers")
    return (servers.addresses,), {}


_CLASSES = {
    ("memory", "sync"): MemoryBackend, ("memory", "async"): AsyncMemoryBackend,
    ("redis", "sync"): RedisBackend, ("redis", "async"): AsyncRedisBackend,
    ("cluster", "sync"): RedisClusterBackend, ("cluster", "async"): AsyncRedisClusterBackend,
    ("memcached", "sync"): MemcachedBackend, ("memcached", "async"): AsyncMemcachedBackend,
}


@pytest.fixture()
def make_backend(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``make_backend(kind, mode, **options)``: a backend (closed after the test)."""
    made: list[Any] = []
    loops: list[asyncio.AbstractEventLoop] = []

    def make(kind: str, mode: str = "sync", **options: Any) -> Any:
        args, defaults = _options(kind, request)
        if kind != "memory":
            defaults["prefix"] = "t" + uuid.uuid4().hex[:12]
        defaults.update(options)
        cls = _CLASSES[kind, mode]
        if mode == "sync":
            backend = cls(*args, **defaults)
        else:
            if not loops:
                loops.append(asyncio.new_event_loop())
            backend = AsyncDriver(cls(*args, **defaults), loops[0])
        backend.kind = kind
        backend.mode = mode
        made.append(backend)
        return backend

    yield make
    for backend in reversed(made):
        backend.close()
    for loop in loops:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture(params=[(k, m) for k in KINDS for m in MODES],
                ids=[f"{k}-{m}" for k in KINDS for m in MODES])
def backend(request: pytest.FixtureRequest, make_backend: Callable[..., Any]) -> Any:
    """Each backend kind, sync and async, with a fresh namespace."""
    kind, mode = request.param
    return make_backend(kind, mode)


@pytest.fixture(params=[(k, m) for k in KINDS[1:] for m in MODES],
                ids=[f"{k}-{m}" for k in KINDS[1:] for m in MODES])
def remote_backend(request: pytest.FixtureRequest, make_backend: Callable[..., Any]) -> Any:
    """Each network backend kind, sync and async, with a fresh namespace."""
    kind, mode = request.param
    return make_backend(kind, mode)
