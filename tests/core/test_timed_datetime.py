"""Timed caches over datetimes (cachetools 8): a ``TTLCache`` whose ``ttl`` is a ``timedelta``
and whose timer returns datetimes, a ``TLRUCache`` whose timer and ``ttu`` return datetimes.

Expiry is exact to the microsecond (datetime's resolution), ``expire(time)`` takes a
datetime, ``remaining_ttl`` returns a ``timedelta``, pickles and copies keep the deadlines,
and a time of the wrong kind is a ``TypeError`` that leaves the cache as it was.
"""

from __future__ import annotations

import copy
import pickle
from datetime import date, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest

T0 = datetime(2026, 1, 1, 12, 0, 0)
US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)

NOW = [T0]  # the time of every Clock (module level: a pickled cache's clock reads it too)


class Clock:
    """A datetime clock moved by hand; picklable (its time is the module's ``NOW``)."""

    def __init__(self, start: datetime = T0) -> None:
        NOW[0] = start

    def __call__(self) -> datetime:
        return NOW[0]

    def advance(self, by: timedelta) -> None:
        NOW[0] += by


def ttu_by_value(key: Any, value: Any, now: datetime) -> datetime:
    """A TLRU entry lives ``value`` seconds."""
    return now + timedelta(seconds=value)


def test_ttl_with_datetime_now(impl: ModuleType) -> None:
    c = impl.TTLCache(2, ttl=timedelta(days=1), timer=datetime.now)
    c[1] = "a"
    assert c[1] == "a" and 1 in c and len(c) == 1 and c.ttl == timedelta(days=1)
    left = c.remaining_ttl(1)
    assert type(left) is timedelta and timedelta(0) < left <= timedelta(days=1)
    assert c.expire(datetime.now()) == [] and len(c) == 1
    assert c.expire(datetime.now() + timedelta(days=1)) == [(1, "a")] and len(c) == 0
    c._check()


def test_ttl_expiry_exact_at_the_boundary(impl: ModuleType) -> None:
    clock = Clock()
    c = impl.TTLCache(3, ttl=HOUR, timer=clock)
    c["a"] = 1
    clock.advance(HOUR - US)  # one microsecond before the deadline: live
    assert "a" in c and c["a"] == 1 and c.get("a") == 1 and list(c) == ["a"]
    assert c.remaining_ttl("a") == US
    clock.advance(US)  # at the deadline: expired (not now < deadline)
    assert "a" not in c and c.get("a") is None and list(c) == [] and len(c) == 0
    with pytest.raises(KeyError):
        c.remaining_ttl("a")
    c._check()


def test_ttl_exact_far_from_the_first_time(impl: ModuleType) -> None:
    """A century after the cache's first time, the microsecond still counts."""
    clock = Clock()
    c = impl.TTLCache(3, ttl=HOUR, timer=clock)
    c["first"] = 0
    clock.advance(timedelta(days=36500))
    c["a"] = 1
    clock.advance(HOUR - US)
    assert "a" in c and c.remaining_ttl("a") == US
    clock.advance(US)
    assert "a" not in c


def test_ttl_per_item_ttl_and_expiry_order(impl: ModuleType) -> None:
    clock = Clock()
    c = impl.TTLCache(5, ttl=HOUR, timer=clock)
    c.set("long", 1, ttl=timedelta(hours=3))
    c.set("short", 2, ttl=timedelta(minutes=1))
    c["default"] = 3
    assert c.remaining_ttl("short") == timedelta(minutes=1)
    assert c.expire(T0 + timedelta(minutes=1) - US) == []
    assert c.expire(T0 + HOUR) == [("short", 2), ("default", 3)]
    assert list(c) == ["long"]
    with pytest.raises(ValueError, match="positive"):
        c.set("x", 0, ttl=timedelta(0))
    c._check()


def test_frozen_timer_is_a_datetime(impl: ModuleType) -> None:
    clock = Clock()
    c = impl.TTLCache(3, ttl=HOUR, timer=clock)
    with c.timer as now:
        assert now == T0
        clock.advance(timedelta(days=1))  # frozen: the cache still reads T0
        c["a"] = 1
        assert c.remaining_ttl("a") == HOUR and "a" in c
    assert "a" not in c  # a day later, out of the with


def test_tlru_with_datetime_ttu(impl: ModuleType) -> None:
    clock = Clock()
    c = impl.TLRUCache(4, ttu_by_value, timer=clock)
    c["a"], c["b"] = 10, 100
    assert c.remaining_ttl("a") == timedelta(seconds=10)
    clock.advance(timedelta(seconds=10) - US)
    assert "a" in c
    clock.advance(US)
    assert "a" not in c and c["b"] == 100
    c["b"] = 0  # dead on arrival: the write removes the key, stores nothing
    assert "b" not in c and len(c) == 0
    c["c"] = 5
    assert c.expire(NOW[0] + timedelta(seconds=5)) == [("c", 5)]
    c._check()


def test_tlru_with_datetime_now(impl: ModuleType) -> None:
    c = impl.TLRUCache(2, lambda k, v, t: t + timedelta(days=1), timer=datetime.now)
    c[1] = 1
    assert len(c) == 1 and c.expire(datetime.now()) == []
    assert c.expire(datetime.now() + timedelta(days=1)) == [(1, 1)]


def test_date_timer(impl: ModuleType) -> None:
    """A timer of dates works as cachetools' (``date + timedelta`` keeps whole days)."""
    day = [date(2026, 1, 1)]
    c = impl.TTLCache(2, ttl=timedelta(days=2), timer=lambda: day[0])
    c[1] = 1
    day[0] += timedelta(days=1)
    assert 1 in c and c.remaining_ttl(1) == timedelta(days=1)
    day[0] += timedelta(days=1)
    assert 1 not in c


def test_aware_datetimes(impl: ModuleType) -> None:
    c = impl.TTLCache(2, ttl=HOUR, timer=lambda: datetime.now(timezone.utc))
    c[1] = 1
    assert 1 in c
    with pytest.raises(TypeError):  # naive and aware: datetime's own TypeError
        c.expire(datetime.now())
    assert 1 in c


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
@pytest.mark.parametrize("cls", ["TTLCache", "TLRUCache"])
def test_pickle_round_trip(impl: ModuleType, how: str, cls: str) -> None:
    clock = Clock()
    c = (impl.TTLCache(4, HOUR, clock) if cls == "TTLCache"
         else impl.TLRUCache(4, ttu_by_value, clock))
    clock.advance(timedelta(minutes=10))
    c["a"] = 60
    clock.advance(timedelta(seconds=30))
    c["b"] = 3600
    d = (pickle.loads(pickle.dumps(c)) if how == "pickle"
         else copy.copy(c) if how == "copy" else copy.deepcopy(c))
    assert type(d) is type(c) and dict(d.items()) == {"a": 60, "b": 3600}
    assert [d.remaining_ttl(k) for k in "ab"] == [c.remaining_ttl(k) for k in "ab"]
    d._check()
    # the copy's deadlines are the same instants: "a" expires at the same microsecond
    deadline = NOW[0] + c.remaining_ttl("a")
    assert d.expire(deadline - US) == [] and "a" in d
    expired = d.expire(deadline)
    assert ("a", 60) in expired and "a" not in d and "a" in c
    d["c"] = 60  # the copy keeps working over datetimes
    assert d.remaining_ttl("c") in (HOUR, timedelta(seconds=60))
    with pytest.raises(TypeError):
        d.expire(1.5)


def test_pickle_of_a_cache_not_used_yet(impl: ModuleType) -> None:
    c = impl.TLRUCache(2, ttu_by_value, Clock())
    d = pickle.loads(pickle.dumps(c))
    d["a"] = 5  # decides datetimes at its first time
    assert d.remaining_ttl("a") == timedelta(seconds=5)


def _unchanged(c: Any, items: dict[Any, Any]) -> None:
    assert dict(c.items()) == items
    c._check()


def test_mismatched_types_are_type_errors(impl: ModuleType) -> None:
    clock = Clock()
    # a timedelta ttl with a timer of numbers
    c = impl.TTLCache(2, ttl=HOUR, timer=lambda: 5.0)
    with pytest.raises(TypeError, match="must return a datetime"):
        c[1] = 1
    c._check()  # (reading it would call the timer)
    # a number ttl with a datetime timer
    c = impl.TTLCache(2, ttl=60, timer=clock)
    with pytest.raises(TypeError, match="timedelta ttl"):
        c[1] = 1
    c._check()
    # per-item ttls of the other kind
    c = impl.TTLCache(2, ttl=HOUR, timer=clock)
    c[1] = 1
    with pytest.raises(TypeError, match="timedelta"):
        c.set(2, 2, ttl=60)
    n = impl.TTLCache(2, ttl=60, timer=lambda: 5.0)
    with pytest.raises(TypeError, match="real number"):
        n.set(2, 2, ttl=HOUR)
    # expire() with a time of the other kind
    with pytest.raises(TypeError):
        c.expire(1.0)
    with pytest.raises(TypeError):
        n.expire(T0)
    with pytest.raises(TypeError):
        c.expire("tomorrow")
    _unchanged(c, {1: 1})
    # ttu returning a str, or a number under a datetime timer
    t = impl.TLRUCache(2, lambda k, v, now: "never", timer=clock)
    with pytest.raises(TypeError, match="ttu must return a datetime"):
        t[1] = 1
    _unchanged(t, {})
    t = impl.TLRUCache(2, lambda k, v, now: 1.0, timer=clock)
    with pytest.raises(TypeError, match="ttu must return a datetime"):
        t[1] = 1
    # a TLRU timer that returned numbers first, then a datetime
    now: list[Any] = [1.0]
    t = impl.TLRUCache(2, lambda k, v, now: now + 10, timer=lambda: now[0])
    t[1] = 1
    now[0] = T0
    with pytest.raises(TypeError, match="real number"):
        t[2] = 2
    with pytest.raises(TypeError, match="real number"):
        _ = 1 in t
    now[0] = 2.0
    _unchanged(t, {1: 1})
    # a timer of strings
    s = impl.TLRUCache(2, ttu_by_value, timer=lambda: "now")
    with pytest.raises(TypeError, match="real number or a datetime"):
        s[1] = 1


def test_bad_ttls(impl: ModuleType) -> None:
    for bad in ("1", None, [1], True):
        with pytest.raises(TypeError, match="ttl must be a real number or a timedelta"
                           if bad is not True else "ttl must be a real number"):
            impl.TTLCache(2, ttl=bad)
    for bad in (timedelta(0), -HOUR):
        with pytest.raises(ValueError, match="ttl must be positive"):
            impl.TTLCache(2, ttl=bad, timer=Clock())


def test_overflow_as_cachetools(impl: ModuleType) -> None:
    """``now + ttl`` past ``datetime.max`` is the OverflowError cachetools raises, at the
    write, which changes nothing."""
    c = impl.TTLCache(2, ttl=timedelta.max, timer=Clock())
    with pytest.raises(OverflowError):
        c[1] = 1
    _unchanged(c, {})
    c = impl.TTLCache(2, ttl=timedelta(days=1), timer=lambda: datetime.max)
    with pytest.raises(OverflowError):
        c["overflow"] = 1
    assert "overflow" not in c and len(c) == 0 and c.currsize == 0 and c.expire() == []
    c = impl.TTLCache(2, ttl=HOUR, timer=Clock())
    with pytest.raises(OverflowError):
        c.set(1, 1, ttl=timedelta.max)
    c[2] = 2
    assert c.expire(datetime.max) == [(2, 2)]  # the end of time expires everything
    c._check()


def test_reinit_between_kinds(impl: ModuleType) -> None:
    """``__init__`` again starts afresh: a datetime cache can become one of numbers."""
    c = impl.TTLCache(2, ttl=HOUR, timer=Clock())
    c[1] = 1
    c.__init__(2, 10, lambda: 3.0)
    c[2] = 2
    assert c.remaining_ttl(2) == 10.0 and 1 not in c
    c.__init__(2, HOUR, Clock())
    c[3] = 3
    assert c.remaining_ttl(3) == HOUR
    c._check()


def test_reentrant_timer_does_not_crash(impl: ModuleType) -> None:
    """A timer that clears the cache, or makes it a cache of numbers, meanwhile: each
    operation completes or raises TypeError, and the cache stays consistent."""
    clock = Clock()
    calls = [0]
    c: Any = None

    def clearing() -> datetime:
        calls[0] += 1
        if calls[0] % 3 == 0:
            c.clear()
        if calls[0] % 7 == 0:
            c.__init__(4, 5, lambda: 1.0)  # numbers now; then back to this timer
            c.__init__(4, HOUR, clearing)
        clock.advance(timedelta(minutes=7))
        return clock()

    for cls in ("TTLCache", "TLRUCache"):
        calls[0] = 0
        c = (impl.TTLCache(4, HOUR, clearing) if cls == "TTLCache"
             else impl.TLRUCache(4, lambda k, v, t: t + HOUR, clearing))
        for i in range(60):
            try:
                c[i % 6] = i
                c.get(i % 5)
                _ = i % 4 in c
                c.expire()
                len(c)
                list(c)
                with c.timer:
                    c[i] = i
            except TypeError:
                pass  # a time of the kind __init__ had just replaced
            c._check()

    def switching() -> Any:
        calls[0] += 1
        if calls[0] % 2:
            c.__init__(4, 5, lambda: 1.0)  # the time read is a datetime, the cache's numbers
        return clock()

    c = impl.TTLCache(4, HOUR, switching)
    for i in range(20):
        try:
            c[i] = i
        except TypeError:
            pass
        c._check()


@pytest.mark.parametrize("route", ["ttu", "popitem override"])
def test_reinit_from_ttu_keeps_the_deadline_exact(impl: ModuleType, route: str) -> None:
    """``__init__`` run by ``ttu`` (itself, or a ``popitem()`` override it calls) while a
    datetime TLRUCache writes: ttu's answer stands in the new configuration, the time read
    before it measured from the origin the ``__init__`` set afresh as the deadline is. The
    entry is stored with its whole life (the write's time and deadline, measured from two
    origins, once judged it dead on arrival: the reentrancy fuzzer's seed 8330)."""
    clock = Clock()
    fired: list[str] = []

    class Sub(impl.TLRUCache):  # type: ignore[name-defined,misc]
        def popitem(self) -> Any:
            if route == "popitem override" and fired == ["ttu"]:
                fired.append("popitem")
                self.__init__(*args)
            return super().popitem()

    def ttu(key: Any, value: Any, now: datetime) -> datetime:
        if not fired:
            fired.append("ttu")
            if route == "ttu":
                c.__init__(*args)
            else:
                with pytest.raises(KeyError):
                    c.popitem()  # re-initialised, then empty
        return now + timedelta(seconds=3)

    args = (4, ttu, clock)
    c = Sub(*args)
    c["a"] = 6
    assert fired == (["ttu"] if route == "ttu" else ["ttu", "popitem"])
    assert c["a"] == 6 and len(c) == 1 and c.remaining_ttl("a") == timedelta(seconds=3)
    clock.advance(timedelta(seconds=3) - US)
    assert "a" in c
    clock.advance(US)
    assert "a" not in c and c.expire() == [("a", 6)]
    c._check()
