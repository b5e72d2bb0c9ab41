"""Constructor arguments: positional order as cachetools, bad values rejected with the right
exception type."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import pytest

from .support import POLICIES, Timer, make, ttu_plus


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("maxsize", ["3", None, [3], True, False, 2.5, 3.0, 1j])
def test_maxsize_type(impl: ModuleType, name: str, maxsize: Any) -> None:
    with pytest.raises(TypeError):
        make(impl, name, maxsize)


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("maxsize", [-1, -(10**30), -math.inf, math.nan])
def test_maxsize_value(impl: ModuleType, name: str, maxsize: Any) -> None:
    with pytest.raises(ValueError, match="maxsize must be non-negative"):
        make(impl, name, maxsize)


@pytest.mark.parametrize("name", POLICIES)
def test_maxsize_accepted(impl: ModuleType, name: str) -> None:
    for maxsize in (0, 1, 10**6, math.inf):
        assert make(impl, name, maxsize).maxsize == maxsize


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("arg", ["getsizeof", "on_evict"])
def test_callables(impl: ModuleType, name: str, arg: str) -> None:
    with pytest.raises(TypeError):
        if arg == "getsizeof":
            make(impl, name, 3, "len")
        else:
            make(impl, name, 3, on_evict=42)


@pytest.mark.parametrize("ttl", ["1", None, True, [1]])
def test_ttl_type(impl: ModuleType, ttl: Any) -> None:
    with pytest.raises(TypeError):
        impl.TTLCache(3, ttl)


@pytest.mark.parametrize("ttl", [0, -1, 0.0, -math.inf, math.nan])
def test_ttl_value(impl: ModuleType, ttl: Any) -> None:
    with pytest.raises(ValueError):
        impl.TTLCache(3, ttl)


def test_ttl_accepted(impl: ModuleType) -> None:
    for ttl in (1, 0.001, 10**20, math.inf):
        assert impl.TTLCache(3, ttl).ttl == ttl


def test_timer_ttu_choice_must_be_callable(impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        impl.TTLCache(3, 1, timer=0)
    with pytest.raises(TypeError):
        impl.TLRUCache(3, ttu=0)
    with pytest.raises(TypeError):
        impl.TLRUCache(3, ttu_plus(1), timer="monotonic")
    with pytest.raises(TypeError):
        impl.RRCache(3, choice=None)


def test_positional_order(impl: ModuleType) -> None:
    t = Timer()
    c = impl.TTLCache(10, 5, t, len, stats=True)
    c[1] = "abc"
    assert c.currsize == 3 and c.timer.__reduce__()[1] == (t,) and c.ttl == 5
    tl = impl.TLRUCache(10, ttu_plus(5), t, len)
    tl[1] = "ab"
    assert tl.currsize == 2 and tl.remaining_ttl(1) == 5
    rr = impl.RRCache(10, min, len)
    rr[1] = "abcd"
    assert rr.currsize == 4 and rr.choice is min
    for name in ("Cache", "FIFOCache", "LFUCache", "LRUCache"):
        c2 = getattr(impl, name)(10, len)
        c2[1] = "abcde"
        assert c2.currsize == 5


def test_listener_and_stats_are_keyword_only(impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        impl.LRUCache(3, None, print)
