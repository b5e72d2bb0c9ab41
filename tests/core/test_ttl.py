"""``TTLCache``: LRU order, entries expire ``ttl`` timer units after they were written."""

from __future__ import annotations

import copy
import math
import pickle
from types import ModuleType

import pytest

from .contract import MappingContract
from .support import Recorder, Timer


class TestTTLCache(MappingContract):
    NAME = "TTLCache"

    def test_expiry(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(3, 2, t)
        assert c.ttl == 2 and c.timer.__reduce__()[1] == (t,)
        c[1] = "a"
        t.tick()
        assert 1 in c and c[1] == "a" and c.get(1) == "a" and len(c) == 1
        t.tick()  # deadline 2 reached: expired at now >= deadline
        assert 1 not in c and c.get(1) is None and c.peek(1) is None
        with pytest.raises(KeyError):
            c[1]
        assert list(c) == [] and len(c) == 0 and c.currsize == 0
        c._check()

    def test_expired_entry_is_not_removed_by_a_read(self, impl: ModuleType) -> None:
        t = Timer()
        rec = Recorder()
        c = impl.TTLCache(3, 2, t, on_evict=rec)
        c[1] = "a"
        t.tick(5)
        with pytest.raises(KeyError):
            c[1]
        assert c.get(1) is None and rec.calls == []
        assert c.expire() == [(1, "a")]
        assert rec.calls == [(1, "a", "expired")]

    def test_expired_read_counts_as_an_access(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(3, 10, t)
        c[1], c[2] = 1, 2
        t.time = 20
        assert c.get(1) is None  # expired, but moved to most recent
        t.time = 0  # the user's timer may go back: both are live again
        assert list(c) == [2, 1]

    def test_lru_order(self, impl: ModuleType) -> None:
        c = impl.TTLCache(3, 100, Timer())
        c[1], c[2], c[3] = 1, 2, 3
        c[1]
        assert 2 in c and c.peek(2) == 2
        assert list(c) == [2, 3, 1]
        c[4] = 4
        assert list(c) == [3, 1, 4]

    def test_delete_expired(self, impl: ModuleType) -> None:
        t = Timer()
        rec = Recorder()
        c = impl.TTLCache(3, 1, t, on_evict=rec, stats=True)
        c[1] = "a"
        t.tick()
        with pytest.raises(KeyError) as info:
            del c[1]
        assert info.value.args == (1,)
        assert rec.calls == [(1, "a", "expired")] and c.stats().expirations == 1
        assert c.expire() == []  # it was removed
        with pytest.raises(KeyError):
            del c[1]

    def test_pop_expired(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(3, 1, t)
        c[1] = "a"
        t.tick()
        assert c.pop(1, "d") == "d"
        with pytest.raises(KeyError):
            c.pop(1)
        assert c.setdefault(1, "b") == "b" and c[1] == "b"

    def test_write_expires_first(self, impl: ModuleType) -> None:
        """An expired entry is never kept while a live one is evicted."""
        t = Timer()
        rec = Recorder()
        c = impl.TTLCache(2, 10, t, on_evict=rec)
        c.set(1, "short", ttl=1)
        c[2] = "long"
        t.tick()
        c[3] = "new"
        assert list(c) == [2, 3]
        assert rec.calls == [(1, "short", "expired")]

    def test_per_item_ttl_and_expire_order(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(10, 2, t)
        c.set("a", 1, ttl=5)
        c.set("b", 2, ttl=1)
        c["c"] = 3  # the cache's ttl: 2
        c.set("d", 4, ttl=None)
        c.set("e", 5, ttl=math.inf)
        assert c.remaining_ttl("a") == 5 and c.remaining_ttl("c") == 2
        assert c.remaining_ttl("e") == math.inf
        t.tick()
        assert sorted(c) == ["a", "c", "d", "e"]
        assert c.expire(10) == [("c", 3), ("d", 4), ("a", 1)]  # deadline order, ties in order
        assert list(c) == ["e"]
        t.time = 10**9
        assert "e" in c

    def test_expire_ties_in_scheduling_order(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(10, 3, t)
        c["x"], c["y"], c["z"] = 1, 2, 3
        c["x"] = 4  # rescheduled after y and z, same deadline
        assert c.expire(3) == [("y", 2), ("z", 3), ("x", 4)]

    def test_expire_returns_only_expired(self, impl: ModuleType) -> None:
        t = Timer()
        rec = Recorder()
        c = impl.TTLCache(10, 2, t, on_evict=rec, stats=True)
        c[1] = 1
        t.tick()
        c[2] = 2
        assert c.expire() == []
        assert c.expire(2) == [(1, 1)]
        assert c.expire(2) == []
        assert c.expire(3) == [(2, 2)]
        assert rec.calls == [(1, 1, "expired"), (2, 2, "expired")]
        assert c.stats().expirations == 2

    def test_remaining_ttl(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(10, 5, t)
        c[1], c[2] = 1, 2
        t.tick(2)
        assert c.remaining_ttl(1) == 3
        assert list(c) == [1, 2]  # no access
        with pytest.raises(KeyError):
            c.remaining_ttl(3)
        t.tick(3)
        with pytest.raises(KeyError):
            c.remaining_ttl(1)

    def test_len_and_currsize_expire_first(self, impl: ModuleType) -> None:
        t = Timer()
        rec = Recorder()
        c = impl.TTLCache(10, 1, t, on_evict=rec)
        c[1] = 1
        t.tick()
        assert len(c) == 0 and rec.calls == [(1, 1, "expired")]
        c[2] = 2
        t.tick()
        assert c.currsize == 0 and rec.calls[-1] == (2, 2, "expired")

    def test_popitem_skips_expired(self, impl: ModuleType) -> None:
        t = Timer()
        rec = Recorder()
        c = impl.TTLCache(10, 10, t, on_evict=rec)
        c.set(1, 1, ttl=1)
        c[2] = 2
        t.tick()
        assert c.popitem() == (2, 2)
        assert rec.calls == [(1, 1, "expired")]
        with pytest.raises(KeyError):
            c.popitem()

    def test_bad_per_item_ttl(self, impl: ModuleType) -> None:
        c = impl.TTLCache(3, 1, Timer())
        for bad in (0, -1, -math.inf, math.nan):
            with pytest.raises(ValueError):
                c.set(1, 1, ttl=bad)
        for bad in ("1", [1], True):
            with pytest.raises(TypeError):
                c.set(1, 1, ttl=bad)
        assert len(c) == 0

    def test_absurd_ttls(self, impl: ModuleType) -> None:
        t = Timer()
        c = impl.TTLCache(3, 1e308, t)
        c[1] = 1
        c.set(2, 2, ttl=10**400)
        t.time = 1e300
        assert 1 in c and 2 in c
        c._check()

    def test_timer_must_return_a_number(self, impl: ModuleType) -> None:
        t = Timer("not a time")
        c = impl.TTLCache(3, 1, t)
        with pytest.raises(TypeError):
            c[1] = 1
        t.time = 0
        c[1] = 1
        t.time = None
        with pytest.raises(TypeError):
            1 in c  # noqa: B015
        with pytest.raises(TypeError):
            c.expire()
        with pytest.raises(TypeError):
            c.expire("now")

    def test_default_timer(self, impl: ModuleType) -> None:
        c = impl.TTLCache(3, 60)
        c[1] = 1
        assert c[1] == 1 and 0 < c.remaining_ttl(1) <= 60

    @pytest.mark.parametrize("how", ["pickle", "deepcopy"])
    def test_copies_keep_deadlines(self, impl: ModuleType, how: str) -> None:
        t = Timer()
        c = impl.TTLCache(10, 5, t)
        c[1] = 1
        t.tick(2)
        c.set(2, 2, ttl=1)
        dup = pickle.loads(pickle.dumps(c)) if how == "pickle" else copy.deepcopy(c)
        assert dup.timer() == 2
        assert dup.remaining_ttl(1) == 3 and dup.remaining_ttl(2) == 1
        assert dup.expire(10) == c.expire(10) == [(2, 2), (1, 1)]


def test_expire_takes_time_by_keyword(impl: ModuleType) -> None:
    """cachetools' signature is expire(self, time=None): both spellings work."""
    t = Timer()
    c = impl.TTLCache(3, 1, t)
    c[1] = "a"
    assert c.expire(time=0) == []
    assert c.expire(time=1) == [(1, "a")]
    with pytest.raises(TypeError):
        c.expire(when=1)


@pytest.mark.parametrize("ttl", [0.1, 1 / 3, 7.77, 1e-9, 12345.678])
def test_expiry_is_exact_at_every_tick_boundary(impl: ModuleType, ttl: float) -> None:
    """Writes and reads skip the timer wheel while nothing can be due (a time before the
    next tick's first instant, computed once per tick): times one ulp either side of every
    tick boundary and of every deadline expire exactly what ``now >= deadline`` says."""
    t = Timer(0.0)
    c = impl.TTLCache(math.inf, ttl, t)
    tick = ttl / 16  # the wheel's tick (a sixteenth of the ttl)
    marks = sorted({m for k in range(1, 80)
                    for m in (k * tick, math.nextafter(k * tick, -math.inf),
                              math.nextafter(k * tick, math.inf))})
    deadlines: dict[int, float] = {}
    # written at tick boundaries and their neighbours, before the first deadline
    for i, m in enumerate(m for m in marks if m < marks[0] + ttl):
        t.time = m
        c[i] = i
        deadlines[i] = m + ttl
    times = sorted({x for d in deadlines.values()
                    for x in (d, math.nextafter(d, -math.inf))} | set(marks))
    alive = dict(deadlines)
    for now in (x for x in times if x >= t.time):
        t.time = now
        due = sorted(k for k, d in alive.items() if not now < d)
        assert sorted(k for k, _ in c.expire()) == due, now
        for k in due:
            del alive[k]
        assert len(c) == len(alive)
    c._check()
