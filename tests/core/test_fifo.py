"""``FIFOCache``: evicts the entry inserted first; a replacement counts as a new insertion."""

from __future__ import annotations

from types import ModuleType

from .contract import MappingContract
from .support import make


class TestFIFOCache(MappingContract):
    NAME = "FIFOCache"

    def test_order(self, impl: ModuleType) -> None:
        c = make(impl, "FIFOCache", 3)
        c[1], c[2], c[3] = 1, 2, 3
        c[1]
        c.get(1)
        assert list(c) == [1, 2, 3]  # reads do not reorder
        c[1] = "x"
        assert list(c) == [2, 3, 1]  # a replacement is a new insertion
        c[4] = 4
        assert list(c) == [3, 1, 4]
        assert c.popitem() == (3, 3)
