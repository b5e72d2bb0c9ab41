"""Shared fixtures: the servers (real redis-server / memcached processes), then the
implementation (``implementation``: the compiled core and the twin, ``tests.impls``)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import fastcache
import fastcache._impl
from tests.impls import CACHES, IMPLS, NAMES, Implementation
from tests.servers import MemcachedServers, RedisCluster, RedisServer

# cachetools 8 (what the drop-in tests compare with) supports Python 3.11 and later only; on
# 3.10 the test extra does not install it, and no module that imports it is collected (read
# from the module's own imports, so that a new drop-in test cannot be forgotten here).
_HAVE_CACHETOOLS = importlib.util.find_spec("cachetools") is not None
_IMPORTS_CACHETOOLS = re.compile(r"^\s*(import|from)\s+cachetools\b", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Without cachetools, skip collecting ``tests/cachetools8`` and every test module that
    imports cachetools (None: pytest's own rules decide)."""
    if _HAVE_CACHETOOLS:
        return None
    if collection_path.name in ("cachetools8", "test_dropin_cachetools8.py"):
        return True  # cachetools 8's own suite, which the real package's tests compare with
    if collection_path.suffix == ".py" and collection_path.is_file():
        text = collection_path.read_text(encoding="utf-8")
        if _IMPORTS_CACHETOOLS.search(text):
            return True
    return None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server on a free loopback port (``.host``, ``.port``, ``.url``)."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A 3-master Redis Cluster (``.nodes``, ``.startup_nodes``, ``.url``), state ok."""
    with RedisCluster(3) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def memcached_servers() -> Iterator[MemcachedServers]:
    """Three memcached servers (``.servers``, ``.addresses``)."""
    with MemcachedServers(3) as servers:
        yield servers


@pytest.fixture()
def private_redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, free to kill and restart (failure tests)."""
    with RedisServer() as server:
        yield server


@pytest.fixture()
def private_memcached_servers() -> Iterator[MemcachedServers]:
    """Three memcached servers of the test's own, free to kill and restart."""
    with MemcachedServers(3) as servers:
        yield servers


# ---------------------------------------------------------------------------------------
# The implementation: one fixture over the compiled core and the twin, for the whole suite.

@pytest.fixture(scope="session", params=NAMES)
def implementation(request: pytest.FixtureRequest) -> Implementation:
    """Each implementation this run covers: ``c`` and ``py``, only ``py`` in the twin run."""
    name: str = request.param
    return Implementation(name, CACHES[name], IMPLS[name])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impl", choices=("c", "py", "both", "none"), default="both",
        help="run the tests parametrised over the implementation for 'c' or 'py' only, or "
        "('none') none of them: the rest of the suite alone (CI's twin stage, whose 'py' "
        "half the suite stage has run already); default both. FASTCACHE_PURE_PYTHON=1 runs "
        "the whole suite on the twin")


# the parameters that name an implementation: this file's fixture, tests/core's ``impl``
_IMPL_PARAMS = ("implementation", "impl")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--impl``: keep one implementation's parametrisations (or none). ``@pytest.mark.compiled``
    tests need the compiled core: the twin run skips them, saying why."""
    only = config.getoption("--impl")
    if only != "both":
        keep, drop = [], []
        for item in items:
            params = getattr(item, "callspec", None)
            names = {params.params[p] for p in _IMPL_PARAMS
                     if params is not None and p in params.params}
            (drop if names and only not in names else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    if fastcache.IMPLEMENTATION == "c":
        return
    skip = pytest.mark.skip(reason="needs the compiled core; this run uses the twin "
                                   f"({fastcache._impl.REASON})")
    for item in items:
        if item.get_closest_marker("compiled") is not None:
            item.add_marker(skip)
