"""``Cache``: evicts in insertion order; neither reads nor replacements reorder."""

from __future__ import annotations

from types import ModuleType

from .contract import MappingContract
from .support import make


class TestCache(MappingContract):
    NAME = "Cache"

    def test_order_is_insertion_order(self, impl: ModuleType) -> None:
        c = make(impl, "Cache", 3)
        c[1], c[2], c[3] = 1, 2, 3
        c[1]
        c.get(2)
        c[1] = "x"  # a replacement keeps its place
        assert list(c) == [1, 2, 3]
        c[4] = 4
        assert list(c) == [2, 3, 4]
        assert c.popitem() == (2, 2)
