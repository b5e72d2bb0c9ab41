"""``S3FIFOCache``: small and main FIFOs with 2-bit frequencies, a ghost of hashes of keys
evicted from small; argument validation."""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from fastcache._py import public as twin

from .contract import MappingContract
from .support import Recorder, make


class TestS3FIFOCache(MappingContract):
    NAME = "S3FIFOCache"

    def test_small_then_ghost_then_main(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = make(impl, "S3FIFOCache", 10, on_evict=rec)  # small 1, main 9, ghost 9
        for k in range(10):
            c[k] = k  # 0 in small; until the first eviction, a full small sends the rest to main
        assert list(c) == list(range(10))  # small's entries, then main's
        c[10] = 10  # main is not over its share: small's oldest, 0, goes (its hash to the ghost)
        assert rec.calls == [(0, 0, "evicted")]
        c[11] = 11  # 10 (in small) goes the same way
        assert rec.calls[-1] == (10, 10, "evicted")
        c[0] = 0  # 0's hash is in the ghost: 0 goes to main, after small's 11 made room
        assert rec.calls[-1] == (11, 11, "evicted")
        assert list(c) == [*range(1, 10), 0]  # small is empty
        c[12] = 12  # main is over its share now: its oldest unused entry goes
        assert rec.calls[-1] == (1, 1, "evicted")
        assert list(c) == [12, *range(2, 10), 0]
        c._check()

    def test_frequency_protects_in_main(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = make(impl, "S3FIFOCache", 4, on_evict=rec)  # small 1, main 3
        for k in range(4):
            c[k] = k  # 0 small; 1, 2, 3 main
        c[1], c[1]
        c.popitem()  # small's 0 (unvisited)
        assert rec.calls == []  # popitem() reports nothing
        assert 0 not in c
        assert c.popitem() == (2, 2)  # small empty: main; 1 (freq 2) reinserted with 1

    def test_hits_move_small_to_main(self, impl: ModuleType) -> None:
        c = make(impl, "S3FIFOCache", 10, small_fraction=0.5)  # small 5
        for k in range(5):
            c[k] = k
        c[0], c[0]  # 0 hit twice
        for k in range(5, 11):
            c[k] = k
        assert 0 in c and 1 not in c  # 0 moved to main, 1 was evicted

    def test_arguments(self, impl: ModuleType) -> None:
        c = impl.S3FIFOCache(10, None, 0.25, ghost_fraction=0.5)
        assert (c.small_fraction, c.ghost_fraction) == (0.25, 0.5)
        d = impl.S3FIFOCache(10)
        assert (d.small_fraction, d.ghost_fraction) == (0.1, 0.9)
        for bad in (0, 1, 0.0, 1.0, -0.5, 2, float("nan")):
            with pytest.raises(ValueError, match="between 0 and 1"):
                impl.S3FIFOCache(10, small_fraction=bad)
            with pytest.raises(ValueError, match="between 0 and 1"):
                impl.S3FIFOCache(10, ghost_fraction=bad)
        for bad in ("0.5", None, True, [0.5]):
            with pytest.raises(TypeError, match="small_fraction must be a float"):
                impl.S3FIFOCache(10, small_fraction=bad)
        with pytest.raises(TypeError):
            impl.S3FIFOCache(10, None, 0.1, 0.9, None)  # on_evict is keyword-only
        # a failing __init__ changes nothing
        c[1] = 1
        with pytest.raises(ValueError):
            c.__init__(5, small_fraction=2.0)
        with pytest.raises(ValueError):
            c.__init__(-1, small_fraction=0.5)  # maxsize refused after the fractions passed
        assert c.small_fraction == 0.25 and c[1] == 1
        c.__init__(5, small_fraction=0.5)
        assert (c.small_fraction, c.ghost_fraction, len(c)) == (0.5, 0.9, 0)

    def test_pickle_keeps_queues_and_ghost(self, impl: ModuleType) -> None:
        c = make(impl, "S3FIFOCache", 10)
        for k in range(30):
            c[k % 13] = k
            c.get(k % 5)
        d = pickle.loads(pickle.dumps(c))
        d._check()
        assert (d.small_fraction, d.ghost_fraction) == (0.1, 0.9)
        for k in range(40):  # the same future: same evictions (ghost included)
            for x in (c, d):
                x[(k * 7) % 17] = k
        assert list(c.items()) == list(d.items())


def _weight(value: int) -> int:
    return 1 + value % 3


def _feed(caches: list[Any], rng: random.Random, n: int) -> None:
    """n requests to every cache: 70% of them to 60 recurring keys (a miss inserts)."""
    for i in range(n):
        k = rng.randrange(60) if rng.random() < 0.7 else rng.randrange(10**6)
        for c in caches:
            if k in c:
                c[k]
            else:
                c[k] = i


def _with_twin(getsizeof: Any, recs: list[Recorder]) -> list[Any]:
    """A compiled S3FIFOCache of 40 and its twin, each reporting to its recorder."""
    from fastcache import _core

    return [make(impl, "S3FIFOCache", 40, getsizeof, on_evict=rec)
            for impl, rec in zip((_core, twin), recs, strict=True)]


def _ghost(c: Any) -> list[tuple[int, int]]:
    """The compiled cache's ghost, (hash, size) oldest first, as its pickle holds it."""
    return c.__reduce__()[1][1]["ghost"]  # type: ignore[no-any-return]


def _pickle_goes_on(caches: list[Any], rng: random.Random, n: int) -> None:
    """A pickle of caches[0] then takes n more requests with the two: the three agree."""
    caches.append(pickle.loads(pickle.dumps(caches[0])))
    _feed(caches, rng, n)
    caches[2]._check()
    assert list(caches[0]) == list(caches[1]) == list(caches[2])


def _late_weight(value: int) -> int:
    return 1 if value < 3000 else 1 + value % 3


@pytest.mark.compiled
def test_ghost_sizes_other_than_one_come_late() -> None:
    """The C ghost keeps no sizes while every size it remembers is 1 (its ring holds the
    hashes alone) and makes them when a larger one comes: hashes remembered before then
    weigh 1, and it evicts exactly as the twin, as does its pickle."""
    rng = random.Random(11)
    recs = [Recorder(), Recorder()]
    caches = _with_twin(_late_weight, recs)
    _feed(caches, rng, 3000)
    ghost = _ghost(caches[0])
    assert ghost and {size for _, size in ghost} == {1}
    _feed(caches, rng, 10_000)
    for c in caches:
        c._check()
    assert recs[0].calls == recs[1].calls
    assert list(caches[0]) == list(caches[1])
    assert {size for _, size in _ghost(caches[0])} > {1}
    _pickle_goes_on(caches, rng, 3_000)


@pytest.mark.compiled
@pytest.mark.parametrize("sized", [False, True])
def test_ghost_hits_leave_dead_positions_behind(sized: bool) -> None:
    """Keys that come back while the ghost remembers them (ghost hits) leave dead positions
    in the C ghost's ring; a long run of them (the ring compacted and grown many times)
    evicts exactly as the twin, whose ghost is an OrderedDict, and so does its pickle."""
    rng = random.Random(7)
    recs = [Recorder(), Recorder()]
    caches = _with_twin(_weight if sized else None, recs)
    _feed(caches, rng, 20_000)
    for c in caches:
        c._check()
    assert recs[0].calls == recs[1].calls
    assert len(recs[0].calls) > 5000
    assert list(caches[0]) == list(caches[1])
    # a pickle of the ring (dead positions left out) goes on as the original and the twin
    assert len(_ghost(caches[0])) > 10
    _pickle_goes_on(caches, rng, 5_000)


@pytest.mark.compiled
def test_memory_is_lru_s_plus_a_byte_and_the_ghost() -> None:
    """The README's memory figures: a SIEVECache holds LRUCache's memory and one byte per
    entry (its marks); an S3FIFOCache too and, once it has evicted, its ghost: 24 bytes per
    position of a ring of 2**10 positions for the 900 hashes of a 1,000-entry cache (8-byte
    hashes, 16 bytes of index). Counted by tracemalloc, which sees every PyMem allocation. (A
    small cache: the debug build checks the whole structure after every operation.)"""
    import gc
    import tracemalloc

    from fastcache import _core

    n = 1000
    keys = list(range(1 << 40, (1 << 40) + 2 * n))  # before tracing: not counted
    held = {}
    for name in ("LRUCache", "SIEVECache", "S3FIFOCache"):
        gc.collect()
        tracemalloc.start()
        try:
            c = getattr(_core, name)(n)
            for k in keys:
                c[k] = 0
            assert len(c) == n
            gc.collect()
            held[name] = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        del c
    ghost = 24 * (1 << 10)
    extra = held["S3FIFOCache"] - held["LRUCache"]
    assert ghost + n <= extra <= ghost + n + 256, (extra, ghost + n)
    assert n <= held["SIEVECache"] - held["LRUCache"] <= n + 256, held


def _traced(fn: Callable[[], object]) -> tuple[int, int]:
    """What fn() allocates (PyMem, held at its end) and its peak beyond what was held
    before, by tracemalloc."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fn()
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return now - before, peak - before


@pytest.mark.compiled
def test_the_ghost_is_made_once_at_its_size() -> None:
    """A full cache's first eviction makes the ghost's ring and index at the size the
    ghost can reach (900 hashes: 2**10 positions, 24 bytes each), so evicting on never grows
    them through the smaller powers of two, whose freed arrays the allocator would keep: the
    peak of a thousand evictions is what they leave held."""
    from fastcache import _core

    n = 1000
    c = _core.S3FIFOCache(n)
    for k in range(1 << 40, (1 << 40) + n):
        c[k] = 0
    new_keys = list(range(1 << 41, (1 << 41) + n))  # made before tracing: not counted

    def churn() -> None:
        for k in new_keys:
            c[k] = 0

    held, peak = _traced(churn)
    assert len(c) == n
    # (the slack: CPython 3.10 keeps churn's frame for its next call, ~450 bytes; growing
    # through the powers of two peaked 12,000 bytes above what it held)
    assert 24 * (1 << 10) <= held <= 24 * (1 << 10) + 1024, held
    assert peak - held <= 1024, (peak, held)


@pytest.mark.compiled
def test_a_popitem_far_from_full_makes_a_small_ghost() -> None:
    """The ghost's first ring is sized for the entries the cache holds when it is fewer than
    the ghost's capacity: popitem() from a 10-entry cache of maxsize 10**7 remembers the
    hash in a ring of 16 positions, not 2**24."""
    from fastcache import _core

    c = _core.S3FIFOCache(10**7)
    for k in range(10):
        c[k] = k
    held, _ = _traced(c.popitem)
    assert held <= 24 * 16 + 256, held
    assert len(c) == 9
    c._check()
