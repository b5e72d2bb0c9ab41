"""``LFUCache``: evicts the least frequently used entry, ties to the least recently used."""

from __future__ import annotations

import pickle
from types import ModuleType

from .contract import MappingContract
from .support import make


class TestLFUCache(MappingContract):
    NAME = "LFUCache"

    def test_frequency_order(self, impl: ModuleType) -> None:
        c = make(impl, "LFUCache", 3)
        c[1], c[2], c[3] = 1, 2, 3
        c[1]
        c[1]
        c.get(2)
        assert list(c) == [3, 2, 1]
        assert 3 in c and c.peek(3) == 3  # no access
        c[4] = 4  # evicts 3 (frequency 1, least recent of its group)
        assert list(c) == [4, 2, 1]
        assert c.popitem() == (4, 4)

    def test_ties_go_to_the_least_recently_used(self, impl: ModuleType) -> None:
        c = make(impl, "LFUCache", 3)
        c[1], c[2], c[3] = 1, 2, 3
        c[2]
        c[1]
        assert list(c) == [3, 2, 1]  # 2 reached frequency 2 before 1
        c[3] = "x"  # a replacement counts as a use
        assert list(c) == [2, 1, 3]
        c[4] = 4  # evicts 2, the least recent of the frequency-2 group; 4 has frequency 1
        assert list(c) == [4, 1, 3]
        c[5] = 5  # evicts 4; 5 is the newest of the frequency-1 group
        c[6] = 6
        assert list(c) == [6, 1, 3]

    def test_frequencies_survive_pickle(self, impl: ModuleType) -> None:
        c = make(impl, "LFUCache", 4)
        for k in range(4):
            c[k] = k
        for k, n in ((0, 3), (1, 1), (2, 2)):
            for _ in range(n):
                c[k]
        dup = pickle.loads(pickle.dumps(c))
        for cache in (c, dup):
            cache[10] = 10  # evicts 3 (frequency 1)
            cache[11] = 11  # evicts 10
            for _ in range(5):
                cache[11]
        assert list(dup) == list(c) == [1, 2, 0, 11]
