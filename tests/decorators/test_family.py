"""lfu_cache, fifo_cache, ttl_cache, rr_cache, tlru_cache: as cachetools.func, checked
against cachetools itself on the same call sequences; and single flight for threads.
sieve_cache, s3fifo_cache, wtinylfu_cache: the same shape, checked against their classes."""

from __future__ import annotations

import math
import random
import threading
import time
from types import ModuleType
from typing import Any

import cachetools
import cachetools.func
import pytest


def _sequence(seed: int, n: int = 3000, domain: int = 40) -> list[int]:
    rnd = random.Random(seed)
    # skewed, so that frequency matters for LFU
    return [min(rnd.randrange(domain), rnd.randrange(domain)) for _ in range(n)]


@pytest.mark.parametrize("name", ["lru_cache", "fifo_cache", "lfu_cache"])
@pytest.mark.parametrize("maxsize", [1, 2, 7, 32, None])
def test_same_hits_and_misses_as_cachetools(dec: ModuleType, name: str,
                                            maxsize: int | None) -> None:
    ours_calls: list[int] = []
    theirs_calls: list[int] = []

    @getattr(dec, name)(maxsize)
    def ours(x: int) -> int:
        ours_calls.append(x)
        return x * 2

    @getattr(cachetools.func, name)(maxsize)
    def theirs(x: int) -> int:
        theirs_calls.append(x)
        return x * 2

    for x in _sequence(seed=maxsize or 0):
        assert ours(x) == theirs(x) == 2 * x
    assert ours_calls == theirs_calls  # the same evictions, in the same order
    assert tuple(ours.cache_info()) == tuple(theirs.cache_info())
    assert ours.cache_parameters() == theirs.cache_parameters()
    ours.cache_clear()
    assert tuple(ours.cache_info()) == (0, 0, maxsize, 0)


class Clock:
    """A timer the test moves by hand (so it does not matter how often it is read)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("maxsize", [3, 16, None])
def test_ttl_cache_as_cachetools(dec: ModuleType, maxsize: int | None) -> None:
    clock = Clock()
    ours_calls: list[int] = []
    theirs_calls: list[int] = []

    @dec.ttl_cache(maxsize, ttl=5, timer=clock)
    def ours(x: int) -> int:
        ours_calls.append(x)
        return x

    @cachetools.func.ttl_cache(maxsize, ttl=5, timer=clock)
    def theirs(x: int) -> int:
        theirs_calls.append(x)
        return x

    rnd = random.Random(3)
    for x in _sequence(seed=4, n=2000, domain=12):
        clock.now += rnd.choice([0, 0, 0.5, 1, 2.5])
        assert ours(x) == theirs(x) == x
        assert tuple(ours.cache_info()) == tuple(theirs.cache_info())
    assert ours_calls == theirs_calls


def test_ttl_expiry_is_exact(dec: ModuleType) -> None:
    clock = Clock()
    calls = 0

    @dec.ttl_cache(maxsize=10, ttl=2, timer=clock)
    def f(x: int) -> int:
        nonlocal calls
        calls += 1
        return x

    f(1)
    clock.now = 1.999
    f(1)
    assert calls == 1
    clock.now = 2.0  # expired at now >= stored + ttl
    f(1)
    assert calls == 2
    assert f.cache_info().currsize == 1
    clock.now = 10
    assert f.cache_info().currsize == 0  # currsize counts live entries


def test_ttl_default_timer_is_monotonic(dec: ModuleType) -> None:
    calls = 0

    @dec.ttl_cache(ttl=0.05)
    def f(x: int) -> int:
        nonlocal calls
        calls += 1
        return x

    # a second call within the TTL hits (tried again if the machine stalled between them)
    deadline = time.monotonic() + 30
    while True:
        f.cache_clear()
        calls = 0
        f(1)
        f(1)
        if calls == 1:
            break
        assert time.monotonic() < deadline, "never two calls within 50 ms"
    # and the real clock expires it: polled, not slept on
    while calls == 1:
        assert time.monotonic() < deadline, "the entry never expired"
        assert f(1) == 1
    assert calls == 2


def test_ttl_timer_must_return_a_number(dec: ModuleType) -> None:
    @dec.ttl_cache(ttl=1, timer=lambda: "now")
    def f(x: int) -> int:
        return x

    with pytest.raises(TypeError):
        f(1)


def test_rr_cache_with_deterministic_choice(dec: ModuleType) -> None:
    @dec.rr_cache(maxsize=5, choice=min)
    def ours(x: int) -> int:
        return -x

    @cachetools.func.rr_cache(maxsize=5, choice=min)
    def theirs(x: int) -> int:
        return -x

    for x in _sequence(seed=9, n=500, domain=15):
        assert ours(x) == theirs(x)
    assert tuple(ours.cache_info()) == tuple(theirs.cache_info())
    assert ours.cache_info().currsize == 5


def test_tlru_cache(dec: ModuleType) -> None:
    clock = Clock()
    calls: list[int] = []

    def ttu(key: Any, value: int, now: float) -> float:
        return now + value  # a result's own lifetime: its value

    @dec.tlru_cache(maxsize=8, ttu=ttu, timer=clock)
    def f(x: int) -> int:
        calls.append(x)
        return x

    f(1)
    f(3)
    clock.now = 1.5
    f(1)
    f(3)
    assert calls == [1, 3, 1]
    assert f.cache_info().hits == 1
    with pytest.raises(TypeError, match="ttu"):
        dec.tlru_cache(maxsize=8)


@pytest.mark.parametrize("name", ["lfu_cache", "fifo_cache", "ttl_cache", "rr_cache"])
def test_bare_and_unbounded_forms(dec: ModuleType, name: str) -> None:
    deco = getattr(dec, name)

    @deco
    def f(x: int) -> int:
        return x

    f(1)
    f(1)
    assert f.cache_info() == (1, 1, 128, 1)
    assert f.__name__ == "f" and f.__wrapped__(5) == 5

    @deco(maxsize=None)
    def g(x: int) -> int:
        return x

    for i in range(300):
        g(i)
    assert g.cache_info() == (0, 300, None, 300)


@pytest.mark.parametrize("name", ["lfu_cache", "fifo_cache", "ttl_cache", "rr_cache"])
def test_typed_family(dec: ModuleType, name: str) -> None:
    @getattr(dec, name)(maxsize=10, typed=True)
    def f(x: float) -> str:
        return type(x).__name__

    assert f(3) == "int"
    assert f(3.0) == "float"
    assert f.cache_parameters() == {"maxsize": 10, "typed": True}


def test_bad_arguments(dec: ModuleType) -> None:
    with pytest.raises(TypeError):
        dec.lfu_cache("big")
    with pytest.raises(TypeError):
        dec.ttl_cache(ttl="long")
    with pytest.raises(ValueError):
        dec.ttl_cache(ttl=0)
    with pytest.raises(ValueError):
        dec.ttl_cache(ttl=math.nan)
    with pytest.raises(TypeError):
        dec.ttl_cache(timer=5)
    with pytest.raises(TypeError):
        dec.rr_cache(choice=None)
    with pytest.raises(TypeError):
        dec.fifo_cache(10, typed="yes")


# --- single flight -------------------------------------------------------------------

def _run_threads(n: int, target: Any) -> list[Any]:
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = target(i)
        except BaseException as e:  # collected and checked by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "deadlock"
    return results + errors


@pytest.mark.parametrize("name", ["lfu_cache", "fifo_cache", "ttl_cache", "rr_cache",
                                  "lru_cache+single_flight"])
def test_threads_asking_for_one_key_run_it_once(dec: ModuleType, name: str) -> None:
    calls = 0
    entered = threading.Event()

    def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        entered.set()
        time.sleep(0.2)
        return x * 10

    if name == "lru_cache+single_flight":
        f = dec.lru_cache(16, single_flight=True)(slow)
    else:
        f = getattr(dec, name)(16)(slow)

    out = _run_threads(6, lambda i: f(7))
    assert out == [70] * 6
    assert calls == 1
    hits, misses, _, _ = f.cache_info()
    assert (hits, misses) == (5, 1)


def test_single_flight_error_reaches_owner_and_waiters_retry(dec: ModuleType) -> None:
    calls = 0
    lock = threading.Lock()

    @dec.lfu_cache(16)
    def f(x: int) -> int:
        nonlocal calls
        with lock:
            calls += 1
            first = calls == 1
        time.sleep(0.1)
        if first:
            raise KeyError("first attempt fails")
        return x

    out = _run_threads(4, lambda i: f(1))
    errors = [o for o in out if isinstance(o, BaseException)]
    values = [o for o in out if o == 1]
    assert len(errors) == 1 and isinstance(errors[0], KeyError)
    assert len(values) == 3
    assert calls == 2  # the failure was not cached; one waiter ran it again
    assert f.cache_info().currsize == 1


def test_single_flight_recursion_into_own_key_does_not_deadlock(dec: ModuleType) -> None:
    depth = 0

    @dec.lfu_cache(16)
    def f(x: int) -> int:
        nonlocal depth
        depth += 1
        if depth < 3:
            return f(x) + 1  # the same key, from inside its own computation
        return 0

    out = _run_threads(1, lambda i: f(5))
    assert out == [2]
    assert f(5) == 0  # as functools: the first result stored (the innermost) is kept


def test_lru_cache_without_single_flight_lets_all_run(dec: ModuleType) -> None:
    calls = 0
    barrier = threading.Barrier(3)

    @dec.lru_cache(16)
    def f(x: int) -> int:
        nonlocal calls
        calls += 1
        barrier.wait(10)  # all three are inside at once: functools' behaviour
        return x

    assert _run_threads(3, lambda i: f(1)) == [1, 1, 1]
    assert calls == 3


def test_ttl_monotonic_expiry_is_exact_near_the_deadline(dec: ModuleType) -> None:
    # the compiled wrapper decides most hits with the coarse clock: never wrongly
    calls: list[float] = []

    @dec.ttl_cache(maxsize=4, ttl=0.01)
    def f(x: int) -> int:
        calls.append(time.monotonic())
        return x

    t0 = time.monotonic()
    f(1)
    t1 = time.monotonic()  # stored at some time in [t0, t1]
    while True:
        before = len(calls)
        start = time.monotonic()
        f(1)
        end = time.monotonic()
        missed = len(calls) > before
        if end < t0 + 0.01:
            assert not missed  # certainly before the deadline: a hit
        if missed and len(calls) == 2:
            assert end >= t0 + 0.01  # the first recomputation is not early
        if start >= t1 + 0.02:  # this call began after the deadline (at most t1 + 0.01)
            break
    assert len(calls) >= 2  # and it did expire


@pytest.mark.parametrize(("name", "cls"), [("sieve_cache", "SIEVECache"),
                                           ("s3fifo_cache", "S3FIFOCache"),
                                           ("wtinylfu_cache", "WTinyLFUCache")])
@pytest.mark.parametrize("maxsize", [0, 1, 2, 7, 32, None])
def test_policy_decorators_evict_as_their_class(dec: ModuleType, name: str, cls: str,
                                                maxsize: int | None) -> None:
    """Each computes exactly when its class, driven by hand as cachetools.cached does (get,
    else compute and store), misses; and reports cachetools.func's cache_info."""
    import fastcache.caches
    from fastcache.keys import hashkey

    calls: list[int] = []

    @getattr(dec, name)(maxsize)
    def ours(x: int) -> int:
        calls.append(x)
        return x * 2

    # the class itself (a WTinyLFUCache's sketch seed is the process's: the same evictions)
    ref = getattr(fastcache.caches, cls)(math.inf if maxsize is None else maxsize)
    ref_calls: list[int] = []
    hits = 0
    for x in _sequence(seed=11, n=4000, domain=60):
        assert ours(x) == 2 * x
        k = hashkey(x)  # the decorator's key
        if k in ref:
            hits += 1
            assert ref[k] == 2 * x
        else:
            ref_calls.append(x)
            if maxsize != 0:
                ref[k] = 2 * x
    assert calls == ref_calls
    assert tuple(ours.cache_info()) == (hits, len(ref_calls), maxsize, len(ref))
    if maxsize not in (0, 1, None):
        assert 0 < hits < 4000 - 60  # it hit, and it evicted
    assert ours.cache_parameters() == {"maxsize": maxsize, "typed": False}
    ours.cache_clear()
    assert tuple(ours.cache_info()) == (0, 0, maxsize, 0)


@pytest.mark.parametrize("name", ["sieve_cache", "s3fifo_cache", "wtinylfu_cache"])
def test_policy_decorators_typed_and_bare(dec: ModuleType, name: str) -> None:
    """``typed=True`` keeps 3 and 3.0 apart; the bare form takes maxsize 128."""
    deco = getattr(dec, name)

    @deco(maxsize=4, typed=True)
    def f(x: float) -> float:
        return x

    f(3)
    f(3.0)
    assert f.cache_info().misses == 2

    @deco
    def g(x: int) -> int:
        return x

    g(1)
    g(1)
    assert tuple(g.cache_info()) == (1, 1, 128, 1)
    with pytest.raises(TypeError):
        deco(maxsize=4, typed=1)
