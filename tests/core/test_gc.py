"""Garbage: cycles through a cache are collected; a million mixed operations leave nothing
behind (tracemalloc; and the process RSS for the compiled core)."""

from __future__ import annotations

import gc
import random
import sys
import tracemalloc
import weakref
from types import ModuleType
from typing import Any

import pytest

from .support import POLICIES, Timer, make


class Holder:
    def __init__(self, impl: ModuleType, name: str) -> None:
        self.cache = make(impl, name, 10, on_evict=self.listen)

    def listen(self, key: Any, value: Any, cause: str) -> None:
        pass


@pytest.mark.parametrize("name", POLICIES)
def test_cycles_are_collected(impl: ModuleType, name: str) -> None:
    c = make(impl, name, 10)
    c["self"] = c  # cache -> itself
    node: dict[str, Any] = {}
    node["cache"] = c
    c["node"] = node  # cache -> dict -> cache
    holder = Holder(impl, name)  # holder -> cache -> bound listener -> holder
    holder.cache["holder"] = holder
    refs = [weakref.ref(c), weakref.ref(holder)]
    del c, node, holder
    gc.collect()
    assert [r() for r in refs] == [None, None]


def churn(c: Any, timer: Timer | None, n: int, seed: int) -> None:
    rng = random.Random(seed)
    ttl = hasattr(c, "set") and timer is not None and hasattr(c, "ttl")
    for i in range(n):
        key = rng.randrange(3000)
        op = i % 8
        if timer is not None:
            timer.tick()
        if op < 3:
            c.get(key)
        elif op < 5:
            c[key] = i
        elif op == 5:
            if ttl:
                c.set(key, i, ttl=rng.randrange(1, 2000))
            else:
                c[key] = -i
        elif op == 6:
            c.pop(key, None)
        else:
            key in c  # noqa: B015


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def make_churned(impl: ModuleType, name: str) -> tuple[Any, Timer | None]:
    timer = Timer() if name in ("TTLCache", "TLRUCache") else None
    kw = {"timer": timer} if timer is not None else {}
    return make(impl, name, 1000, **kw), timer


STRUCTURES = ["LRUCache", "LFUCache", "TTLCache", "TLRUCache"]


@pytest.mark.slow  # (the debug build, which checks the structure after each operation, skips it)
@pytest.mark.parametrize("name", STRUCTURES)
def test_a_million_operations_leave_nothing(impl: ModuleType, name: str) -> None:
    """1,000,000 operations over the four structures (250,000 each): the count of allocated
    memory blocks stays flat while the cache is full and returns to where it was once the
    cache is gone; the process RSS does not grow."""
    n = 250_000
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = rss_kib()
    c, timer = make_churned(impl, name)
    churn(c, timer, n // 5, seed=1)  # warm up: full cache, tables at size
    gc.collect()
    full = sys.getallocatedblocks()
    churn(c, timer, n - n // 5, seed=2)
    gc.collect()
    assert len(c) <= 1000
    assert sys.getallocatedblocks() - full < 1000, "blocks grew while the cache was full"
    c._check()
    del c
    gc.collect()
    assert sys.getallocatedblocks() - blocks0 < 200, "blocks left behind"
    assert rss_kib() - rss0 < 32 * 1024


@pytest.mark.parametrize("name", STRUCTURES)
def test_traced_memory_returns(impl: ModuleType, name: str) -> None:
    """The same, traced by tracemalloc (shorter: tracing is slow)."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        c, timer = make_churned(impl, name)
        churn(c, timer, 20_000, seed=1)
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        churn(c, timer, 40_000, seed=2)
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] - full < 128 * 1024
        del c
        gc.collect()
        end = tracemalloc.get_traced_memory()[0]
        assert end - start < 16 * 1024, f"{end - start} bytes left behind"
    finally:
        tracemalloc.stop()
