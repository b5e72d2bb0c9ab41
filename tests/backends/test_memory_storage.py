"""MemoryBackend's stores: an LRU TTLCache for "lru"/"ttl"; an LFUCache, SIEVECache,
S3FIFOCache or WTinyLFUCache with wrapped entries for "lfu", "sieve", "s3fifo", "wtinylfu"."""

from __future__ import annotations

import gc
import math
import weakref
from collections import namedtuple
from typing import Any

import pytest

from fastcache.backends import MISSING, MemoryBackend
from fastcache.serializers import MsgpackSerializer
from tests.backends.support import Clock

POLICIES = ["lru", "ttl", "lfu", "sieve", "s3fifo", "wtinylfu"]
Point = namedtuple("Point", "x y")


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("ttl", [None, 30, 30.0, math.inf])
def test_tuples_and_look_alikes_come_back_as_stored(policy: Any, ttl: Any) -> None:
    clock = Clock()
    b = MemoryBackend(100, policy, timer=clock)
    values: dict[str, object] = {
        "pair": ("v", None), "deadline_like": ("v", 10.0), "empty": (), "point": Point(1, 2),
        "nested": ((1, 2), None), "none": None, "list": [1, (2, 3)],
    }
    for key, value in values.items():
        b.set(key, value, ttl)
    clock.now = 29.0
    for key, value in values.items():
        got = b.get(key)
        assert got == value and type(got) is type(value)
        assert b.get_many([key]) == {key: value}
        assert b.ttl(key) == (None if ttl in (None, math.inf) else pytest.approx(1.0))
    assert b.get("point") is values["point"]  # stored by reference
    clock.now = 30.0
    expected = MISSING if ttl in (30, 30.0) else values["pair"]
    assert b.get("pair") == expected and b.exists("pair") is (expected is not MISSING)


@pytest.mark.parametrize("policy", POLICIES)
def test_int_ttl_is_accepted_as_is_and_reported_as_seconds_left(policy: Any) -> None:
    clock = Clock(100.0)
    b = MemoryBackend(10, policy, timer=clock)
    b.set("k", "v", 7)
    clock.now = 102.5
    assert b.ttl("k") == pytest.approx(4.5)
    with pytest.raises(TypeError):
        b.set("k", "v", True)
    with pytest.raises(ValueError):
        b.set("k", "v", 0)
    assert b.get("k") == "v"  # the refused writes changed nothing


def test_lru_reclaims_expired_entries_before_evicting_a_live_one() -> None:
    clock = Clock()
    b = MemoryBackend(2, "lru", timer=clock)
    b.set("live", 1)
    b.set("short", 2, ttl=1)
    clock.now = 5.0
    b.set("new", 3)  # "live" is the least recently used, but "short" has expired
    assert b.get_many(["live", "short", "new"]) == {"live": 1, "new": 3}
    assert len(b) == 2


@pytest.mark.parametrize("policy", POLICIES)
def test_incr_keeps_the_deadline_and_expire_replaces_it(policy: Any) -> None:
    clock = Clock()
    b = MemoryBackend(10, policy, timer=clock, serializer=MsgpackSerializer())
    b.set("n", 5, ttl=10)
    clock.now = 4.0
    assert b.incr("n", 2) == 7 and b.ttl("n") == pytest.approx(6.0)
    assert b.decr("n", 10) == -3 and b.get("n") == -3
    assert b.expire("n", None) is True and b.ttl("n") is None
    clock.now = 100.0
    assert b.get("n") == -3
    assert b.expire("n", 1) is True
    clock.now = 101.0
    assert b.incr("n") == 1 and b.ttl("n") is None  # expired: restarts from 0, no expiry
    assert b.expire("gone", 5) is False and b.delete("gone") is False


@pytest.mark.parametrize("policy", ["lfu", "sieve", "s3fifo", "wtinylfu"])
def test_wrapped_drops_an_expired_entry_when_it_is_read(policy: Any) -> None:
    clock = Clock()
    b = MemoryBackend(10, policy, timer=clock)
    b.set("k", "v", ttl=1)
    b.set("other", "w")
    clock.now = 1.0
    assert len(b) == 2
    assert b.get("k", "default") == "default"
    assert len(b) == 1 and b.get("other") == "w"


@pytest.mark.parametrize("policy", POLICIES)
def test_non_str_keys_are_refused_on_every_path(policy: Any) -> None:
    b = MemoryBackend(10, policy)
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("get", (1,)), ("set", (b"k", 1)), ("add", (1.5, 1)), ("delete", (None,)),
        ("incr", (("k",),)), ("ttl", (1,)), ("expire", (1, 5)), ("exists", (1,)),
    ]
    for name, args in calls:
        with pytest.raises(TypeError):
            getattr(b, name)(*args)
    assert len(b) == 0


@pytest.mark.parametrize("serializer", [None, MsgpackSerializer()], ids=["plain", "msgpack"])
@pytest.mark.parametrize("policy", POLICIES)
def test_unchecked_get_reads_like_get(policy: Any, serializer: Any) -> None:
    clock = Clock()
    b = MemoryBackend(10, policy, timer=clock, serializer=serializer)
    read = b.unchecked_get
    b.set("k", {"a": 1}, ttl=2)
    b.set("t", ("x", None))
    assert read("k", MISSING) == {"a": 1} == b.get("k")
    assert read("t", MISSING) == b.get("t") and read("absent", "d") == "d"
    clock.now = 2.0
    assert read("k", MISSING) is MISSING
    with pytest.raises(TypeError):
        read([], MISSING)  # type: ignore[arg-type]  # unhashable


@pytest.mark.parametrize("serializer", [None, MsgpackSerializer()], ids=["plain", "msgpack"])
@pytest.mark.parametrize("policy", POLICIES)
def test_a_dropped_backend_frees_its_values_without_the_cycle_collector(policy: Any,
                                                                        serializer: Any) -> None:
    b = MemoryBackend(10, policy, serializer=serializer)
    b.set("k", [1], ttl=60)
    b.incr("n")
    b.get("k")
    ref = weakref.ref(b)
    gc.disable()
    try:
        del b
        assert ref() is None  # no reference cycle through the per-configuration bindings
    finally:
        gc.enable()


@pytest.mark.parametrize(("policy", "cls"), [("lfu", "LFUCache"), ("sieve", "SIEVECache"),
                                             ("s3fifo", "S3FIFOCache"),
                                             ("wtinylfu", "WTinyLFUCache")])
def test_the_policies_keep_a_hot_set_through_a_scan(policy: Any, cls: str) -> None:
    """Each policy is its class's, and evicts as it does: twenty keys read five times each
    outlive a scan of a thousand keys written once, which takes all of them from LRU.

    One more key is written after the hot ones so that none of them is in W-TinyLFU's
    one-entry window when read: a key read only there is never promoted, and at the head of
    probation a scan key whose sketch estimate collides above it (string hashes are seeded
    per process) takes its place, as it would in Caffeine."""
    import fastcache

    hot = [f"hot{i}" for i in range(20)]
    kept = {}
    for name in (policy, "lru"):
        b = MemoryBackend(100, name)
        for k in hot:
            b.set(k, k, ttl=3600 if k.endswith("7") else None)
        b.set("warm", 0)
        for _ in range(5):
            assert b.get_many(hot) == {k: k for k in hot}
        for i in range(1000):
            b.set(f"scan{i}", i)
        assert len(b) == 100
        kept[name] = sum(b.exists(k) for k in hot)
        assert b.policy == name
    assert type(MemoryBackend(10, policy)._cache) is getattr(fastcache, cls)
    assert kept == {policy: 20, "lru": 0}


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="'wtinylfu', not 'arc'"):
        MemoryBackend(10, "arc")  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["lru", "wtinylfu"])
def test_a_bound_that_holds_nothing_is_refused(policy: Any) -> None:
    """A backend of maxsize 0 would refuse every write (the cache's "value too large"), so it
    is refused when made; other bad bounds get the cache classes' errors."""
    from fastcache.backends import AsyncMemoryBackend

    for make in (MemoryBackend, AsyncMemoryBackend):
        with pytest.raises(ValueError, match="maxsize must be at least 1"):
            make(0, policy)
        with pytest.raises(ValueError, match="non-negative"):
            make(-1, policy)
        with pytest.raises(TypeError, match="maxsize must be an int"):
            make("10", policy)  # type: ignore[arg-type]
    b = MemoryBackend(1, policy)
    b.set("a", 1)
    assert b.get("a") == 1
