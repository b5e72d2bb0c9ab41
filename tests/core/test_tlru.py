"""``TLRUCache``: LRU order, each entry expires at ``ttu(key, value, now)``."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from .contract import MappingContract
from .support import Recorder, Timer


class TestTLRUCache(MappingContract):
    NAME = "TLRUCache"

    def test_ttu(self, impl: ModuleType) -> None:
        calls: list[Any] = []

        def ttu(key: Any, value: Any, now: Any) -> Any:
            calls.append((key, value, now))
            return now + value

        t = Timer(7)
        c = impl.TLRUCache(10, ttu, t)
        assert c.ttu is ttu and c.timer.__reduce__()[1] == (t,)
        c["a"], c["b"], c["c"] = 3, 1, 2
        assert calls == [("a", 3, 7), ("b", 1, 7), ("c", 2, 7)]
        assert c.remaining_ttl("a") == 3
        t.tick()
        assert "b" not in c and "a" in c and "c" in c  # (list(c) would call len(): expire)
        assert c.expire(100) == [("b", 1), ("c", 2), ("a", 3)]

    def test_dead_on_arrival(self, impl: ModuleType) -> None:
        t = Timer(5)
        rec = Recorder()
        c = impl.TLRUCache(10, lambda k, v, now: now + v, t, on_evict=rec)
        c[1] = 10
        c[1] = 0  # deadline == now: removes the existing entry, stores nothing
        assert 1 not in c and len(c) == 0
        assert rec.calls == [(1, 10, "replaced")]
        c[2] = -5
        assert len(c) == 0 and rec.calls == [(1, 10, "replaced")]
        c._check()

    def test_ttu_errors_leave_the_cache_unchanged(self, impl: ModuleType) -> None:
        def ttu(key: Any, value: Any, now: Any) -> Any:
            if value == "boom":
                raise ZeroDivisionError
            return value

        c = impl.TLRUCache(10, ttu, Timer())
        c[1] = 5
        with pytest.raises(ZeroDivisionError):
            c[1] = "boom"
        for bad in ("x", None, [1]):
            with pytest.raises(TypeError):
                c[2] = bad
        assert dict(c.items()) == {1: 5}
        c._check()

    def test_expiry_is_exact(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TLRUCache(10, lambda k, v, now: 2.5, t)
        c[1] = 1
        t.time = 2.4999
        assert 1 in c
        t.time = 2.5
        assert 1 not in c
