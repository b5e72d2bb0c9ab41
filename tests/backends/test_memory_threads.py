"""MemoryBackend under real threads: reads take no lock, writes and read-modify-writes do.

Every test runs under ``sys.setswitchinterval(1e-6)`` so the threads interleave between
nearly every pair of bytecodes, and on every policy (``"lfu"``, ``"sieve"``, ``"s3fifo"``
and ``"wtinylfu"`` store entries with a TTL wrapped, ``"lru"``/``"ttl"`` do not). The races
guarded against: a ``set``/``delete``/``expire`` landing between the read and the write of
an ``incr`` (lost update), an ``expire`` writing back a value read before a concurrent
``set``, a read dropping an expired wrapped entry after a ``set`` replaced it, and a reader
seeing the wrapper instead of the value.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from fastcache.backends import MISSING, MemoryBackend
from fastcache.serializers import MsgpackSerializer
from tests.backends.support import Clock

POLICIES = ["lru", "ttl", "lfu", "sieve", "s3fifo", "wtinylfu"]
BIG = 10**9


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    """Switch threads as often as CPython allows while the test runs."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_together(*work: Callable[[], None]) -> None:
    """Run each callable in its own thread, started together; re-raise the first failure."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(fn: Callable[[], None]) -> None:
        barrier.wait()
        try:
            fn()
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("serializer", [None, MsgpackSerializer()], ids=["plain", "msgpack"])
@pytest.mark.parametrize("policy", POLICIES)
def test_concurrent_incr_and_decr_lose_nothing_and_keep_the_ttl(policy: Any,
                                                                 serializer: Any) -> None:
    b = MemoryBackend(100, policy, serializer=serializer)
    b.set("n", 0, ttl=3600)
    seen: list[list[int]] = [[] for _ in range(4)]

    def work(i: int) -> Callable[[], None]:
        def go() -> None:
            for _ in range(1500):  # steps of +1, +2, +3 and (through decr) +4
                seen[i].append(b.incr("n", i + 1) if i < 3 else b.decr("n", -4))
        return go

    run_together(*(work(i) for i in range(4)))
    assert b.get("n") == 1500 * (1 + 2 + 3 + 4)
    # the total only grows, so every call returned a distinct running total
    results = [r for s in seen for r in s]
    assert len(set(results)) == len(results) == 6000
    ttl = b.ttl("n")
    assert ttl is not None and 3500 < ttl <= 3600


def incr_with_interference(b: MemoryBackend, n: int,
                           interfere: Callable[[], object]) -> tuple[list[int], object]:
    """``n`` incr of key ``"k"`` in one thread, ``interfere()`` once at a random moment in
    another; (the incr results, what ``interfere`` returned)."""
    returns: list[int] = []
    at = random.randrange(n)
    reached = threading.Event()
    outcome: list[object] = []

    def counter() -> None:
        for i in range(n):
            if i == at:
                reached.set()
            returns.append(b.incr("k"))
        reached.set()

    def other() -> None:
        reached.wait()
        outcome.append(interfere())

    run_together(counter, other)
    return returns, outcome[0]


def split(returns: list[int]) -> int:
    """The index of the first result that does not follow its predecessor by 1 (or len)."""
    for i in range(1, len(returns)):
        if returns[i] != returns[i - 1] + 1:
            return i
    return len(returns)


@pytest.mark.parametrize("policy", POLICIES)
def test_a_set_racing_incr_is_never_lost(policy: Any) -> None:
    n = 200
    for _ in range(40):
        b = MemoryBackend(100, policy)
        returns, _ = incr_with_interference(b, n, partial(b.set, "k", BIG, ttl=3600))
        k = split(returns)
        # the set fell between two incr calls (or before/after all): 1..k, then BIG+1...
        if returns[0] > BIG:
            k = 0
        assert returns[:k] == list(range(1, k + 1))
        assert returns[k:] == list(range(BIG + 1, BIG + n - k + 1))
        assert b.get("k") == BIG + n - k


@pytest.mark.parametrize("policy", POLICIES)
def test_a_delete_racing_incr_is_never_lost(policy: Any) -> None:
    n = 200
    for _ in range(40):
        b = MemoryBackend(100, policy)
        returns, deleted = incr_with_interference(b, n, partial(b.delete, "k"))
        k = split(returns)
        if not deleted:  # only possible before the first incr: the key did not exist yet
            assert returns == list(range(1, n + 1)) and b.get("k") == n
            continue
        assert returns[:k] == list(range(1, k + 1))
        assert returns[k:] == list(range(1, n - k + 1))
        assert b.get("k") == (MISSING if k == n else n - k)


@pytest.mark.parametrize("policy", POLICIES)
def test_expire_never_writes_back_a_value_older_than_a_concurrent_set(policy: Any) -> None:
    for _ in range(20):
        b = MemoryBackend(100, policy)
        done = threading.Event()

        def writer(b: MemoryBackend = b, done: threading.Event = done) -> None:
            for i in range(300):
                b.set("k", i)
            done.set()

        def toucher(b: MemoryBackend = b, done: threading.Event = done) -> None:
            while not done.is_set():
                b.expire("k", 3600)

        run_together(writer, toucher)
        assert b.get("k") == 299


@pytest.mark.parametrize("policy", POLICIES)
def test_add_has_one_winner_against_concurrent_deletes(policy: Any) -> None:
    b = MemoryBackend(100, policy)
    for _ in range(30):
        b.delete("lock")
        won: list[int] = []

        def contender(i: int, won: list[int] = won) -> None:
            if b.add("lock", i, ttl=60):
                won.append(i)

        run_together(*(partial(contender, i) for i in range(6)))
        assert len(won) == 1 and b.get("lock") == won[0]


def written_to(key: str, got: object) -> bool:
    """Whether ``got`` is a value the hammering test's writers store at ``key``."""
    return (isinstance(got, (tuple, list)) and type(got) in (tuple, list)  # not a subclass
            and len(got) == 3 and got[0] == key)


@pytest.mark.parametrize("policy", POLICIES)
def test_get_set_hammering_returns_only_values_written_to_that_key(policy: Any) -> None:
    b = MemoryBackend(50, policy)  # small: evictions happen all the time
    keys = [f"k{i}" for i in range(80)]
    stop = threading.Event()
    bad: list[object] = []

    def writer(w: int) -> Callable[[], None]:
        def go() -> None:
            rng = random.Random(w)
            for i in range(3000):
                key = rng.choice(keys)
                shape = i % 4  # exact tuples, lists, with and without a TTL
                value: object = (key, w, i) if shape < 2 else [key, w, i]
                b.set(key, value, ttl=3600 if shape % 2 else None)
                if i % 50 == 0:
                    b.delete(rng.choice(keys))
            stop.set()
        return go

    def reader(r: int) -> Callable[[], None]:
        def go() -> None:
            rng = random.Random(100 + r)
            while not stop.is_set():
                key = rng.choice(keys)
                got = b.get(key)
                if got is not MISSING and not written_to(key, got):
                    bad.append(got)
                many = b.get_many(keys[:10])
                bad.extend(v for k, v in many.items() if not written_to(k, v))
                b.exists(key)
        return go

    run_together(writer(0), writer(1), reader(0), reader(1))
    assert bad == []
    assert len(b) <= 50
    for key in keys:
        got = b.get(key)
        assert got is MISSING or written_to(key, got)


@pytest.mark.parametrize("policy", ["lfu", "wtinylfu"])
def test_wrapped_read_of_an_expired_entry_never_drops_a_newer_one(policy: Any) -> None:
    clock = Clock()
    for _ in range(200):
        clock.now = 0.0
        b = MemoryBackend(100, policy, timer=clock)
        b.set("k", "old", ttl=1)
        clock.now = 5.0  # "old" is expired: the next read drops it

        def reader(b: MemoryBackend = b) -> None:
            for _ in range(5):
                b.get("k")

        def writer(b: MemoryBackend = b) -> None:
            b.set("k", "new")

        run_together(reader, writer)
        assert b.get("k") == "new"
        assert b.ttl("k") is None
