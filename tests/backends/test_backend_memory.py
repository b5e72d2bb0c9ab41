"""MemoryBackend specifics: eviction policies, a user timer, copies, thread safety."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fastcache.backends import MISSING, MemoryBackend
from fastcache.serializers import MsgpackSerializer
from tests.backends.support import Clock


def test_lru_evicts_least_recently_used() -> None:
    b = MemoryBackend(3, "lru")
    for k in "abc":
        b.set(k, k)
    b.get("a")
    b.set("d", "d")
    assert b.get_many(list("abcd")) == {"a": "a", "c": "c", "d": "d"}
    assert b.policy == "lru"


def test_lfu_evicts_least_frequently_used() -> None:
    b = MemoryBackend(3, "lfu")
    for k in "abc":
        b.set(k, k)
    for _ in range(3):
        b.get("a")
        b.get("c")
    b.set("d", "d")
    assert b.exists("a") and b.exists("c") and not b.exists("b")
    assert b.policy == "lfu"


@pytest.mark.parametrize("policy", ["lru", "lfu", "ttl"])
def test_per_item_ttl_on_the_backend_timer(policy: Any) -> None:
    clock = Clock()
    b = MemoryBackend(100, policy, timer=clock)
    b.set("short", 1, ttl=5)
    b.set("long", 2, ttl=50)
    b.set("never", 3)
    clock.now = 4.9
    assert b.ttl("short") == pytest.approx(0.1)
    assert b.get_many(["short", "long", "never"]) == {"short": 1, "long": 2, "never": 3}
    clock.now = 5.0  # expires at now >= deadline, as the core caches
    assert b.get("short") is MISSING and not b.exists("short")
    with pytest.raises(KeyError):
        b.ttl("short")
    assert b.add("short", "again") is True
    assert b.incr("long", 5) == 7 and b.ttl("long") == pytest.approx(45)
    assert b.expire("never", 1) is True
    clock.now = 6.0
    assert b.get("never") is MISSING and b.delete("never") is False


def test_ttl_policy_reclaims_expired_entries_without_access() -> None:
    clock = Clock()
    b = MemoryBackend(10, "ttl", timer=clock)
    for i in range(10):
        b.set(f"old{i}", i, ttl=1)
    clock.now = 2
    b.set("fresh", "x", ttl=10)
    assert len(b) == 1  # the TTLCache's expiry dropped the ten stale entries


def test_serializer_gives_copies() -> None:
    plain = MemoryBackend(10)
    value = {"list": [1]}
    plain.set("k", value)
    assert plain.get("k") is value
    copying = MemoryBackend(10, serializer=MsgpackSerializer())
    copying.set("k", value)
    got = copying.get("k")
    assert got == value and got is not value
    assert copying.incr("n", 2) == 2 and copying.get_many(["k", "n"]) == {"k": value, "n": 2}


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        MemoryBackend(10, "fifo")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        MemoryBackend(10, timer=5)  # type: ignore[arg-type]
    b = MemoryBackend(10)
    b.set("s", "x")
    with pytest.raises(ValueError):
        b.incr("s")
    with pytest.raises(TypeError):
        b.decr("s", 1.0)  # type: ignore[arg-type]


def test_add_and_incr_are_atomic_across_threads() -> None:
    b = MemoryBackend(1000)
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        if b.add("lock", n):
            winners.append(n)
        for _ in range(1000):
            b.incr("count")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and b.get("lock") == winners[0]
    assert b.get("count") == 8000
