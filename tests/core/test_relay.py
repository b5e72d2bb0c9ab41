"""The re-laid compiled core: one module, one LFU for caches and decorators, the error paths
that share the deferred-release list."""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .support import Recorder, Timer

pytestmark = pytest.mark.compiled


def core() -> ModuleType:
    from .conftest import load_impl

    load_impl("c")  # skips where the compiled core is not in use
    return importlib.import_module("fastcache._core")


def test_one_module_holds_the_decorator_wrappers() -> None:
    import fastcache.decorators

    m = core()
    assert m._lru_cache_wrapper.__module__ == "fastcache._core"
    assert m._cached_wrapper.__module__ == "fastcache._core"
    assert fastcache.decorators.WRAPPER_IMPLEMENTATION == "c"
    package = Path(fastcache.decorators.__file__).parent
    assert not list(package.glob("_cwrapper*")), "the second extension module is back"


class Bad:
    """Collides with "x"; comparing raises."""

    def __hash__(self) -> int:
        return hash("x")

    def __eq__(self, other: object) -> bool:
        raise ValueError("eq")


def test_listener_never_runs_with_an_exception_set() -> None:
    """A write that fails after expiring entries still reports them, then raises its own
    error (the listener ran with no exception pending: no SystemError)."""
    timer = Timer()
    rec = Recorder()

    def ttu(key: Any, value: Any, now: Any) -> Any:  # Bad(): dead on arrival
        return now if isinstance(key, Bad) else now + (1 if key == "e" else 100)

    c = core().TLRUCache(10, ttu, timer, on_evict=rec)
    c["x"] = 1
    c["e"] = 1
    timer.tick(5)
    with pytest.raises(ValueError, match="eq"):
        c[Bad()] = 1
    assert rec.causes("expired") == [("e", 1)]
    c._check()


@pytest.mark.parametrize("policy", ["lru", "lfu", "fifo"])
def test_decorator_and_cache_class_evict_alike(policy: str) -> None:
    """The decorators' tables and the cache classes share the policies: the same accesses
    leave the same survivors."""
    import fastcache

    m = core()
    cls = {"lru": m.LRUCache, "lfu": m.LFUCache, "fifo": m.FIFOCache}[policy]
    deco = {"lru": fastcache.lru_cache, "lfu": fastcache.lfu_cache,
            "fifo": fastcache.fifo_cache}[policy]
    cache = cls(8)
    calls: list[int] = []

    @deco(maxsize=8)  # type: ignore[operator]
    def f(x: int) -> int:
        calls.append(x)
        return x

    seq = [i * 7 % 13 for i in range(200)] + [i % 5 for i in range(50)]
    for x in seq:
        if cache.get(x) is None:
            cache[x] = x
        f(x)
    calls.clear()
    assert len(cache) == 8
    for x in list(cache):  # hits only: nothing is evicted while probing
        f(x)
    assert calls == []


def test_pickled_state_is_checked_as_it_loads() -> None:
    m = core()
    c = m.LFUCache(3)
    c["a"] = 1
    c["a"]
    fn, args, (entries, extra) = c.__reduce__()
    d = fn(*args)
    d.__setstate__((entries, extra))
    assert d.frequency("a") == 2
    with pytest.raises(ValueError):
        d.__setstate__(([("a", 1, 1, 0)], None))  # frequency 0
    with pytest.raises(ValueError):
        d.__setstate__(([("a", 1, 1, 1), ("a", 2, 1, 1)], None))  # duplicate
    d._check()
    assert pickle.loads(pickle.dumps(c)).frequency("a") == 2


def test_the_wheel_restarts_with_the_first_write_after_clear() -> None:
    """clear() from a popitem() override during a write: the entry written still expires."""
    timer = Timer()

    class T(core().TTLCache):  # type: ignore[misc]
        def popitem(self) -> Any:
            k = next(iter(self))
            v = self[k]
            self.clear()
            return k, v

    c = T(2, 10, timer)
    for k in (1, 2, 3):
        c[k] = k
    timer.tick(10**7)
    assert c.expire() == [(3, 3)]
    assert len(c) == 0
    c._check()
