"""Fixtures of the pattern tests: a file-backed sqlite3 source shared by threads, an
in-process backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fastcache.backends import MemoryBackend
from fastcache.sources import SQLSource

from .helpers import Face, fast_commits


@pytest.fixture()
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "data.sqlite3")


@pytest.fixture()
def source(db_path: str) -> Iterator[SQLSource]:
    """A key/value SQLSource on a sqlite3 file (JSON values)."""
    src = SQLSource.sqlite(db_path, "kv")
    fast_commits(src)
    yield src
    src.close()


@pytest.fixture()
def memory() -> MemoryBackend:
    return MemoryBackend(maxsize=100_000)


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A sync backend: in-process, or a real redis-server (own key prefix per test)."""
    if request.param == "memory":
        yield MemoryBackend(maxsize=100_000)
        return
    from fastcache.backends import RedisBackend

    server = request.getfixturevalue("redis_server")
    b = RedisBackend(server.url, prefix=f"t-{uuid.uuid4().hex[:12]}")
    yield b
    b.clear()
    b.close()


@pytest.fixture(params=["memory", "redis"])
def async_backend_factory(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Builds an async backend inside the running loop (Redis clients bind to a loop)."""
    if request.param == "memory":
        from fastcache.backends import AsyncMemoryBackend

        return lambda: AsyncMemoryBackend(maxsize=100_000)
    from fastcache.backends import AsyncRedisBackend

    server = request.getfixturevalue("redis_server")
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    return lambda: AsyncRedisBackend(server.url, prefix=prefix)


@pytest.fixture(params=[(k, m) for k in ("memory", "redis") for m in ("sync", "async")],
                ids=[f"{k}-{m}" for k in ("memory", "redis") for m in ("sync", "async")])
def face(request: pytest.FixtureRequest) -> Iterator[Face]:
    """Each face (sync, async) over each backend kind (in-process, redis-server)."""
    f = Face(*request.param, request)
    yield f
    f.close()


@pytest.fixture(params=["sync", "async"])
def mode_face(request: pytest.FixtureRequest) -> Iterator[Face]:
    """Each face (sync, async); its default backend kind is redis."""
    f = Face("redis", request.param, request)
    yield f
    f.close()
