"""``LRUCache``: evicts the least recently used entry."""

from __future__ import annotations

from types import ModuleType

from .contract import MappingContract
from .support import make


class TestLRUCache(MappingContract):
    NAME = "LRUCache"

    def test_order(self, impl: ModuleType) -> None:
        c = make(impl, "LRUCache", 3)
        c[1], c[2], c[3] = 1, 2, 3
        c[1]
        assert list(c) == [2, 3, 1]
        c.get(2)
        assert list(c) == [3, 1, 2]
        assert 3 in c and c.peek(3) == 3 and c.get(99) is None  # no access
        assert list(c) == [3, 1, 2]
        c[3] = "x"
        assert list(c) == [1, 2, 3]
        c[4] = 4
        assert list(c) == [2, 3, 4]
        assert c.popitem() == (2, 2)

    def test_setdefault_is_an_access(self, impl: ModuleType) -> None:
        c = make(impl, "LRUCache", 3)
        c[1], c[2] = 1, 2
        c.setdefault(1, 0)
        assert list(c) == [2, 1]
