"""``RRCache``: evicts ``choice(keys)``; iterates in insertion order."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from .contract import MappingContract
from .support import Recorder, make


class TestRRCache(MappingContract):
    NAME = "RRCache"

    def test_choice_gets_the_keys(self, impl: ModuleType) -> None:
        seen: list[list[Any]] = []

        def choice(keys: Any) -> Any:
            seen.append(sorted(keys))
            return max(keys)

        rec = Recorder()
        c = impl.RRCache(3, choice, on_evict=rec)
        assert c.choice is choice
        c[1], c[2], c[3] = 1, 2, 3
        c[4] = 4
        assert seen == [[1, 2, 3]] and rec.calls == [(3, 3, "evicted")]
        assert list(c) == [1, 2, 4]

    def test_insertion_order(self, impl: ModuleType) -> None:
        c = impl.RRCache(5, min)
        c[1], c[2], c[3] = 1, 2, 3
        c[1]
        c[2] = "x"
        assert list(c) == [1, 2, 3]

    def test_default_choice(self, impl: ModuleType) -> None:
        c = impl.RRCache(10)
        for k in range(1000):
            c[k] = k
            assert len(c) <= 10
        assert len(c) == 10 and 999 in c
        c._check()

    def test_choice_must_be_callable(self, impl: ModuleType) -> None:
        with pytest.raises(TypeError):
            impl.RRCache(3, "min")

    def test_positional_getsizeof(self, impl: ModuleType) -> None:
        c = make(impl, "RRCache", 10, len)
        c[1] = "abcd"
        assert c.currsize == 4
