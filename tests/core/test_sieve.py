"""``SIEVECache``: a hit sets a visited bit; the hand, from the oldest entry towards the
newest, clears bits and evicts the first unvisited entry, then stays there."""

from __future__ import annotations

import pickle
from types import ModuleType

from .contract import MappingContract
from .support import Recorder, make, size_of_value


class TestSIEVECache(MappingContract):
    NAME = "SIEVECache"

    def test_order(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = make(impl, "SIEVECache", 3, on_evict=rec)
        c[1], c[2], c[3] = 1, 2, 3
        c[1]  # visited
        assert list(c) == [1, 2, 3]  # a hit moves nothing
        c[4] = 4  # the hand passes 1 (clearing its bit), evicts 2, stays on 3
        assert rec.calls == [(2, 2, "evicted")]
        assert list(c) == [1, 3, 4]
        c[3]
        c[5] = 5  # from the hand: 3 visited (cleared), 4 unvisited: evicted
        assert rec.calls[-1] == (4, 4, "evicted")
        c[6] = 6  # the hand passed the newest (5): it wraps to the oldest, 1 (cleared)
        assert rec.calls[-1] == (1, 1, "evicted")
        assert list(c) == [3, 5, 6]
        c._check()

    def test_popitem_moves_the_hand(self, impl: ModuleType) -> None:
        c = make(impl, "SIEVECache", 4)
        for k in range(4):
            c[k] = k
        c[0], c[1]
        assert c.popitem() == (2, 2)
        # [0, 1, 3], the hand on 3 (0 and 1 cleared); 2 goes in as the newest
        c[2] = 2
        c[0] = "again"  # a write over a present key is an access
        # 3, then 2 (the hand moves on from where it stopped), then it wraps: 0 is passed
        assert [c.popitem()[0] for _ in range(4)] == [3, 2, 1, 0]

    def test_write_counts_as_access(self, impl: ModuleType) -> None:
        c = make(impl, "SIEVECache", 2)
        c[1], c[2] = 1, 2
        c[1] = "x"
        c[3] = 3
        assert sorted(c) == [1, 3]

    def test_sized(self, impl: ModuleType) -> None:
        c = make(impl, "SIEVECache", 10, size_of_value)
        c[1], c[2], c[3] = 4, 3, 3
        c[1]
        c[4] = 5  # 2 and 3 go (1 is visited)
        assert sorted(c) == [1, 4] and c.currsize == 9
        c[1] = 6  # grows over 4's room: 4 goes, never 1 itself
        assert list(c) == [1] and c.currsize == 6
        c._check()

    def test_pickle_keeps_the_hand_and_bits(self, impl: ModuleType) -> None:
        c = make(impl, "SIEVECache", 4)
        for k in range(4):
            c[k] = k
        c[1], c[3]
        c.popitem()  # the hand passes 1 and stops on 2 -> now on 3
        d = pickle.loads(pickle.dumps(c))
        d._check()
        assert [c.popitem() for _ in range(3)] == [d.popitem() for _ in range(3)]
