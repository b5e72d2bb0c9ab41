"""Model-based tests: Hypothesis drives the cache under test (the compiled core and the twin
together, or the twin alone) and a small independent model with the same random operations,
and compares results, listener notes, iteration order, sizes and stats after every step.

The model is deliberately naive (an ``OrderedDict`` and sorting): it restates the contract of
docs/core-spec.md, not either implementation.
"""

from __future__ import annotations

import collections
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from .conftest import load_impl
from .support import POLICIES, Recorder, Timer

TIMED = ("TTLCache", "TLRUCache")
KEYS = st.integers(0, 6)
VALUES = st.integers(0, 24)
MISS = "<miss>"


def size_mod8(value: int) -> int:
    return value % 8


def ttu_by_value(key: Any, value: int, now: int) -> int:
    return now + value % 4  # value % 4 == 0: dead on arrival


class Model:
    """The contract, restated naively."""

    def __init__(self, policy: str, maxsize: int, sized: bool, timer: Timer) -> None:
        self.policy = policy
        self.maxsize = maxsize
        self.sized = sized
        self.timer = timer
        self.data: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self.size: dict[Any, int] = {}
        self.freq: dict[Any, int] = {}
        self.use: dict[Any, int] = {}
        self.deadline: dict[Any, tuple[int, int]] = {}
        self.seq = 0
        self.notes: list[tuple[Any, Any, str]] = []
        self.stats = [0, 0, 0, 0]
        # SIEVE: the hand (a key, or None: the oldest); the visited bits are self.freq
        self.hand: Any = None
        # S3-FIFO: the queues (oldest first), the ghost (key -> weight: int keys hash to
        # themselves), whether it evicted yet; the frequencies are self.freq
        self.small: list[Any] = []
        self.main: list[Any] = []
        self.ghost: collections.OrderedDict[Any, int] = collections.OrderedDict()
        self.has_evicted = False
        self.scap = max(int(maxsize * 0.1), 1 if maxsize >= 2 else 0)
        self.gcap = int(maxsize * 0.9)

    @property
    def timed(self) -> bool:
        return self.policy in TIMED

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def order(self) -> list[Any]:
        if self.policy == "LFUCache":
            return sorted(self.data, key=lambda k: (self.freq[k], self.use[k]))
        if self.policy == "S3FIFOCache":
            return self.small + self.main
        return list(self.data)

    def victim(self, pinned: Any) -> Any:
        if self.policy == "SIEVECache":
            return self.sieve_victim(pinned)
        if self.policy == "S3FIFOCache":
            return self.s3_victim(pinned)
        keys = [k for k in self.order() if k != pinned]
        return min(keys) if self.policy == "RRCache" else keys[0]

    def sieve_victim(self, pinned: Any) -> Any:
        keys = list(self.data)
        i = keys.index(self.hand) if self.hand is not None else 0
        while True:
            k = keys[i]
            if k != pinned:
                if not self.freq[k]:
                    self.hand = k
                    return k
                self.freq[k] = 0
            i = (i + 1) % len(keys)

    def queue_size(self, queue: list[Any]) -> int:
        return sum(self.size[k] for k in queue)

    def s3_victim(self, pinned: Any) -> Any:
        self.has_evicted = True
        key = None
        if self.queue_size(self.main) > self.maxsize - self.scap or not self.small:
            key = self.s3_from_main(pinned)
        if key is None:
            key = self.s3_from_small(pinned)
        if key is None:
            key = self.s3_from_main(pinned)
        return key

    def s3_from_main(self, pinned: Any) -> Any:
        main = self.main
        if not [k for k in main if k != pinned]:
            return None
        while True:
            k = main[0]
            if k != pinned:
                if self.freq[k] == 0:
                    return k
                self.freq[k] -= 1
            main.append(main.pop(0))

    def s3_from_small(self, pinned: Any) -> Any:
        small = self.small
        while [k for k in small if k != pinned]:
            k = small.pop(0)
            if k == pinned:
                small.append(k)
            elif self.freq[k] >= 2:
                self.freq[k] = 0
                self.main.append(k)
            else:
                small.insert(0, k)
                weight = max(self.size[k], 1)
                if weight <= self.gcap:
                    while sum(self.ghost.values()) + weight > self.gcap:
                        self.ghost.popitem(last=False)
                    self.ghost[k] = weight
                return k
        return None

    def admit(self, key: Any) -> bool:
        """S3-FIFO, a new key: whether the ghost had it (it leaves the ghost)."""
        return self.policy == "S3FIFOCache" and self.ghost.pop(key, None) is not None

    def enter(self, key: Any, admitted: bool) -> None:
        if self.policy in ("SIEVECache", "S3FIFOCache"):
            self.freq[key] = 0
        if self.policy == "S3FIFOCache":
            if admitted or (not self.has_evicted
                            and self.queue_size(self.small) >= self.scap):
                self.main.append(key)
            else:
                self.small.append(key)

    def live(self, key: Any) -> bool:
        if key not in self.data:
            return False
        return not self.timed or self.timer.time < self.deadline[key][0]

    def currsize(self) -> int:
        return sum(self.size.values())

    def remove(self, key: Any) -> Any:
        if key == self.hand:  # SIEVE: the hand moves on to the next newer key
            keys = list(self.data)
            i = keys.index(key) + 1
            self.hand = keys[i] if i < len(keys) else None
        for queue in (self.small, self.main):
            if key in queue:
                queue.remove(key)
        for table in (self.size, self.freq, self.use, self.deadline):
            table.pop(key, None)
        return self.data.pop(key)

    def expire(self, now: int) -> list[tuple[Any, Any]]:
        due = sorted((d, s, k) for k, (d, s) in self.deadline.items() if not now < d)
        out = []
        for _d, _s, key in due:
            value = self.remove(key)
            out.append((key, value))
            self.notes.append((key, value, "expired"))
            self.stats[3] += 1
        return out

    def access(self, key: Any) -> None:
        if self.policy in ("LRUCache", *TIMED):
            self.data.move_to_end(key)
        elif self.policy == "LFUCache":
            self.freq[key] += 1
            self.use[key] = self.next_seq()
        elif self.policy == "SIEVECache":
            self.freq[key] = 1
        elif self.policy == "S3FIFOCache":
            self.freq[key] = min(self.freq[key] + 1, 3)

    def evict(self, pinned: Any) -> None:
        key = self.victim(pinned)
        self.notes.append((key, self.remove(key), "evicted"))
        self.stats[2] += 1

    def set(self, key: Any, value: Any, ttl: Any = None) -> Any:
        size = value % 8 if self.sized else 1
        if size > self.maxsize:
            raise ValueError("value too large")
        now = self.timer.time
        deadline = None
        if self.timed:
            self.expire(now)
            if self.policy == "TTLCache":
                deadline = now + (3 if ttl is None else ttl)
            else:
                deadline = ttu_by_value(key, value, now)
            if not now < deadline:
                if key in self.data:
                    self.notes.append((key, self.remove(key), "replaced"))
                return None
        if key in self.data:
            old, oldsize = self.data[key], self.size[key]
            if self.policy in ("LRUCache", "FIFOCache", *TIMED):
                self.data.move_to_end(key)
            elif self.policy in ("LFUCache", "SIEVECache", "S3FIFOCache"):
                self.access(key)  # a write over a present key is an access
            if deadline is not None:
                self.deadline[key] = (deadline, self.next_seq())
            while self.currsize() - oldsize + size > self.maxsize:
                self.evict(key)
            self.data[key] = value
            self.size[key] = size
            self.notes.append((key, old, "replaced"))
            return None
        admitted = self.admit(key)  # before evicting (which may drop it from the ghost)
        while self.currsize() + size > self.maxsize:
            self.evict(None)
        self.data[key] = value
        self.size[key] = size
        self.freq[key] = 1
        self.enter(key, admitted)
        self.use[key] = self.next_seq()
        if deadline is not None:
            self.deadline[key] = (deadline, self.next_seq())
        return None

    def get(self, key: Any) -> Any:
        if key not in self.data:
            self.stats[1] += 1
            return MISS
        if self.timed:
            self.data.move_to_end(key)
            if not self.live(key):
                self.stats[1] += 1
                return MISS
        else:
            self.access(key)
        self.stats[0] += 1
        return self.data[key]

    def delete(self, key: Any) -> Any:
        if key not in self.data:
            raise KeyError(key)
        expired = not self.live(key)
        value = self.remove(key)
        if expired:
            self.notes.append((key, value, "expired"))
            self.stats[3] += 1
            raise KeyError(key)
        self.notes.append((key, value, "deleted"))
        return None

    def pop(self, key: Any) -> Any:
        if not self.live(key):
            return MISS
        value = self.remove(key)
        self.notes.append((key, value, "deleted"))
        return value

    def popitem(self) -> Any:
        if self.timed:
            self.expire(self.timer.time)
        if not self.data:
            raise KeyError("empty")
        key = self.victim(None)
        return key, self.remove(key)

    def clear(self) -> None:
        for key in list(self.data):
            self.remove(key)
        self.ghost.clear()  # S3-FIFO starts again as a new cache
        self.has_evicted = False

    def length(self) -> int:
        if self.timed:
            self.expire(self.timer.time)
        return len(self.data)

    def size_now(self) -> int:
        if self.timed:
            self.expire(self.timer.time)
        return self.currsize()

    def keys(self) -> list[Any]:
        return [k for k in self.order() if self.live(k)]


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except (KeyError, ValueError) as exc:
        return ("raised", type(exc).__name__)


def build(impl: ModuleType, policy: str, maxsize: int, sized: bool, timer: Timer,
          rec: Recorder) -> Any:
    cls = getattr(impl, policy)
    sizer = size_mod8 if sized else None
    if policy == "TTLCache":
        return cls(maxsize, 3, timer, sizer, on_evict=rec, stats=True)
    if policy == "TLRUCache":
        return cls(maxsize, ttu_by_value, timer, sizer, on_evict=rec, stats=True)
    if policy == "RRCache":
        return cls(maxsize, min, sizer, on_evict=rec, stats=True)
    return cls(maxsize, sizer, on_evict=rec, stats=True)


def machine(impls: list[ModuleType], policy: str, sized: bool) -> type:
    class CacheMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.timer = Timer()
            maxsize = 6 if sized else 4
            self.model = Model(policy, maxsize, sized, self.timer)
            self.subjects = []
            for impl in impls:
                rec = Recorder()
                self.subjects.append((impl.__name__, build(impl, policy, maxsize, sized,
                                                           self.timer, rec), rec))

        def same(self, what: str, model_result: Any, call: Any) -> None:
            for name, cache, rec in self.subjects:
                got = call(cache)
                assert got == model_result, f"{name} {what}: {got!r} != model {model_result!r}"
                assert rec.calls == self.model.notes, f"{name} {what}: notes differ"

        def run(self, what: str, model_fn: Any, cache_fn: Any, *args: Any) -> None:
            expected = outcome(model_fn, *args)
            self.same(what, expected, lambda c: outcome(cache_fn(c), *args))

        @rule(key=KEYS, value=VALUES)
        def set(self, key: Any, value: Any) -> None:
            self.run(f"c[{key}] = {value}", self.model.set, lambda c: c.__setitem__, key, value)

        if policy == "TTLCache":
            @rule(key=KEYS, value=VALUES, ttl=st.sampled_from([None, 1, 2, 5]))
            def set_ttl(self, key: Any, value: Any, ttl: Any) -> None:
                self.run(f"set({key}, {value}, ttl={ttl})", self.model.set,
                         lambda c: c.set, key, value, ttl)

        if policy in TIMED:
            @rule(n=st.integers(0, 3))
            def tick(self, n: int) -> None:
                self.timer.tick(n)

            @rule()
            def expire(self) -> None:
                self.run("expire()", lambda: self.model.expire(self.timer.time),
                         lambda c: c.expire)

        @rule(key=KEYS)
        def get(self, key: Any) -> None:
            self.run(f"get({key})", self.model.get, lambda c: lambda k: c.get(k, MISS), key)

        @rule(key=KEYS)
        def getitem(self, key: Any) -> None:
            def model_getitem(k: Any) -> Any:
                value = self.model.get(k)
                if value is MISS:
                    raise KeyError(k)
                return value

            self.run(f"c[{key}]", model_getitem, lambda c: c.__getitem__, key)

        @rule(key=KEYS)
        def contains(self, key: Any) -> None:
            self.run(f"{key} in c", self.model.live, lambda c: c.__contains__, key)

        @rule(key=KEYS)
        def peek(self, key: Any) -> None:
            self.run(f"peek({key})",
                     lambda k: self.model.data[k] if self.model.live(k) else MISS,
                     lambda c: lambda k: c.peek(k, MISS), key)

        @rule(key=KEYS)
        def delete(self, key: Any) -> None:
            self.run(f"del c[{key}]", self.model.delete, lambda c: c.__delitem__, key)

        @rule(key=KEYS)
        def pop(self, key: Any) -> None:
            self.run(f"pop({key})", self.model.pop, lambda c: lambda k: c.pop(k, MISS), key)

        @rule()
        def popitem(self) -> None:
            self.run("popitem()", self.model.popitem, lambda c: c.popitem)

        @rule()
        def clear(self) -> None:
            self.run("clear()", self.model.clear, lambda c: c.clear)

        @rule()
        def length(self) -> None:
            self.run("len(c)", self.model.length, lambda c: c.__len__)

        @rule()
        def currsize(self) -> None:
            self.run("currsize", self.model.size_now, lambda c: lambda: c.currsize)

        @invariant()
        def consistent(self) -> None:
            keys = self.model.keys()
            stats = tuple(self.model.stats)
            for name, cache, _rec in self.subjects:
                cache._check()
                assert list(iter(cache)) == keys, f"{name}: order {list(iter(cache))} != {keys}"
                assert tuple(cache.stats()) == stats, f"{name}: stats {cache.stats()} != {stats}"

    CacheMachine.__name__ = f"{policy}Machine"
    return CacheMachine


# WTinyLFUCache's reference is the simulator (test_wtinylfu.py replays traces through both);
# its twin is held to it operation by operation by the reentrancy fuzzer's diff mode
MODELLED = tuple(p for p in POLICIES if p != "WTinyLFUCache")


@pytest.mark.parametrize("sized", [False, True], ids=["unit", "sized"])
@pytest.mark.parametrize("policy", MODELLED)
def test_against_the_model(impl: ModuleType, policy: str, sized: bool) -> None:
    impls = [impl] if impl.__name__ == "fastcache._py.public" else [impl, load_impl("py")]
    run_state_machine_as_test(
        machine(impls, policy, sized),
        settings=settings(max_examples=40, stateful_step_count=50, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
