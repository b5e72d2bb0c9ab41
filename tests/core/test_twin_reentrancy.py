"""Regression tests of the reentrancy fuzzer's findings against the twin (N3, N4, N6, N7 and the
crashes found after them), compiled core and twin alike: user code (a key's ``__hash__`` or
``__eq__``, ``popitem()``, ``choice``) that changes the cache in the middle of an operation
leaves it consistent (``_check()``), and both implementations agree on the outcome."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from .fuzz_support import run_ok
from .support import POLICIES, Recorder, Timer, make


class Key:
    """A key equal to the keys of the same ``ident``; ``hash_hook``/``eq_hook`` (one shot each)
    run while the cache hashes or compares it."""

    def __init__(self, ident: int, hashed: int | None = None) -> None:
        self.ident = ident
        self.hashed = ident if hashed is None else hashed
        self.hash_hook: Any = None
        self.eq_hook: Any = None

    def __hash__(self) -> int:
        hook, self.hash_hook = self.hash_hook, None
        if hook is not None:
            hook()
        return self.hashed

    def __eq__(self, other: object) -> bool:
        hook, self.eq_hook = self.eq_hook, None
        if hook is not None:
            hook()
        return isinstance(other, Key) and other.ident == self.ident

    def __repr__(self) -> str:
        return f"Key({self.ident})"


def consistent(c: Any) -> None:
    c._check()
    keys = list(c)
    assert len(keys) == len(c)
    assert all(k in c for k in keys)


# -- a key's __eq__ clearing the cache in the middle of a removal, a write, a lookup ----------

CRASH = """
from tests.core.support import make
from tests.core.test_twin_reentrancy import Key
for name in {policies!r}:
    for op in ("pop", "del", "set", "get", "setdefault"):
        c = make(m, name, 8)
        a, b = Key(1, hashed=7), Key(2, hashed=7)  # colliding: b's lookup compares a
        c[a] = 1
        c[b] = 2
        probe = Key(2, hashed=7)
        a.eq_hook = c.clear
        if op == "pop":
            c.pop(probe, None)
        elif op == "del":
            try:
                del c[probe]
            except KeyError:
                pass
        elif op == "set":
            c[probe] = 3
        elif op == "get":
            c.get(probe)
        else:
            c.setdefault(probe, 3)
        c._check()
        assert all(k in c for k in list(c)), (name, op)
print("ok")
"""


@pytest.mark.parametrize("name", POLICIES)
def test_eq_clearing_the_cache_mid_operation_does_not_crash(impl: ModuleType, name: str) -> None:
    """The twin kept its order in an ``OrderedDict`` of keys: CPython's ``OrderedDict`` crashes
    (segfault) when a key's ``__eq__`` empties it during ``pop``/``move_to_end``/insertion.
    Runs in a child: a crash fails one test."""
    assert run_ok(CRASH.format(policies=[name]), impl_name_of(impl)).strip() == "ok"


def impl_name_of(impl: ModuleType) -> str:
    return "py" if impl.__name__.startswith("fastcache._py") else "c"


@pytest.mark.parametrize("name", POLICIES)
def test_insertion_whose_eq_clears_keeps_the_key_findable(impl: ModuleType, name: str) -> None:
    """``dict.clear()`` under an insertion in progress (the key's ``__eq__`` clears the cache)
    stored the key where no lookup finds it again: the twin empties its storage entry by
    entry."""
    c = make(impl, name, 8, **({"choice": first} if name == "RRCache" else {}))
    c[0] = 0
    c[Key(1, hashed=7)] = 1
    k = Key(2, hashed=7)
    next(iter(x for x in list(c) if isinstance(x, Key))).eq_hook = c.clear
    c[k] = 2
    consistent(c)
    assert k in c and c[k] == 2 and len(c) == 1


@pytest.mark.parametrize("name", POLICIES)
def test_eq_clearing_during_a_lookup_is_seen(impl: ModuleType, name: str) -> None:
    """N3: ``clear()`` from a key's ``__eq__``: the lookup sees the emptied cache (no value from
    the discarded storage), ``setdefault`` stores its default."""
    c = make(impl, name, 8)
    stored = Key(1)
    c[stored] = 4
    stored.eq_hook = c.clear
    assert c.peek(Key(1), "gone") == "gone"
    c[stored] = 4
    stored.eq_hook = c.clear
    assert c.setdefault(Key(1), 5) == 5
    consistent(c)
    assert c.peek(Key(1)) == 5


@pytest.mark.parametrize("name", POLICIES)
def test_hash_mutating_mid_write_leaves_a_consistent_cache(impl: ModuleType, name: str) -> None:
    """N6: the twin kept one entry in several dicts and hashed the key once per dict: a
    ``__hash__`` clearing (or writing) between those updates left them disagreeing."""
    for hook in ("clear", "write"):
        c = make(impl, name, 10, getsizeof=len)
        c["a"] = "x"
        k = Key(1)
        calls = [0]

        def act(c: Any = c, hook: str = hook, k: Key = k, calls: list[int] = calls) -> None:
            calls[0] += 1
            if calls[0] == 2:  # the write's second hash (the twin's second dict)
                if hook == "clear":
                    c.clear()
                else:
                    c["b"] = "yyy"
            k.hash_hook = act

        k.hash_hook = act
        c[k] = "yy"
        k.hash_hook = None
        consistent(c)
        assert c.currsize == sum(len(c.peek(x)) for x in c)
        assert c.peek(k) == "yy"


@pytest.mark.parametrize("name", POLICIES)
def test_nested_writes_during_an_insertion_stay_within_maxsize(impl: ModuleType,
                                                              name: str) -> None:
    """Writes made by the key's ``__eq__`` during the insertion, after room was made for it,
    are evicted: the cache never stays above maxsize."""
    c = make(impl, name, 3, **({"choice": first} if name == "RRCache" else {}))
    c[1] = 1
    c[2] = 2
    stored = Key(10, hashed=7)
    c[stored] = 10  # full

    def fill() -> None:
        for i in range(20, 23):
            c[i] = i

    stored.eq_hook = fill
    c[Key(11, hashed=7)] = 11
    consistent(c)
    assert len(c) <= 3 and c.currsize <= 3


def first(keys: Any) -> Any:
    """An RR ``choice`` for keys that do not compare."""
    return keys[0]


def test_nested_write_in_a_tlru_write_keeps_both_deadlines(impl: ModuleType) -> None:
    """N4: a write from the key's ``__eq__`` during a TLRU write: each entry keeps its own
    deadline (the twin scheduled the outer entry with the nested write's)."""
    timer = Timer()
    ttl = {5: 2, 7: 4}
    c = impl.TLRUCache(5, lambda k, v, now: now + ttl[k.ident], timer)
    k7 = Key(7)
    c[k7] = 2
    k7.eq_hook = lambda: c.__setitem__(Key(5), 6)
    c[Key(7)] = 1
    consistent(c)
    timer.tick(2)
    assert Key(5) not in c
    assert c.peek(Key(7)) == 1
    timer.tick(2)
    assert len(c) == 0


@pytest.mark.parametrize("name", ["TTLCache", "TLRUCache"])
def test_clear_during_expiry(impl: ModuleType, name: str) -> None:
    """N7: a key's ``__hash__`` clearing the cache while expiry removes that key: ``len()``
    is 0 (the twin raised KeyError, or looped forever in threads)."""
    timer = Timer()
    kw: dict[str, Any] = {"ttl": 1} if name == "TTLCache" else {"ttu": lambda k, v, now: now + 1}
    c = make(impl, name, 10, timer=timer, **kw)
    k = Key(1)
    c[k] = 1
    c[2] = 2
    timer.tick(5)
    k.hash_hook = c.clear
    assert len(c) == 0
    consistent(c)


def test_write_failing_after_evictions_reports_them(impl: ModuleType) -> None:
    """The listener hears what a write evicted before it failed (the C's pending list is
    delivered on the error path; the twin dropped it)."""
    rec = Recorder()

    class P(impl.LRUCache):  # type: ignore[name-defined,misc]
        calls = 0

        def popitem(self) -> Any:
            P.calls += 1
            if P.calls == 2:
                raise ValueError("second popitem")
            return super().popitem()

    c = P(2, len, on_evict=rec)
    c["a"] = "x"
    c["b"] = "x"
    with pytest.raises(ValueError, match="second popitem"):
        c["c"] = "xx"
    assert rec.calls == [("a", "x", "evicted")]
    consistent(c)
    assert list(c) == ["b"]


def test_rr_choice_clearing_the_cache_fails_the_write(impl: ModuleType) -> None:
    """RR's custom ``choice`` emptying the cache: the key it returns is gone: ``KeyError``,
    nothing stored (as the C, whose custom choice takes cachetools' popitem() protocol)."""
    def choice(keys: Any) -> Any:
        c.clear()
        return keys[0]

    c = impl.RRCache(1, choice)
    c[1] = 1
    with pytest.raises(KeyError):
        c[2] = 2
    consistent(c)
    assert len(c) == 0


@pytest.mark.parametrize("name", POLICIES)
def test_pickle_round_trip_with_nested_writes_in_hash(impl: ModuleType, name: str) -> None:
    """Restoring a pickle runs each key's ``__hash__``; writes it makes into the cache being
    restored leave it consistent."""
    c = make(impl, name, 3)
    for i in range(3):
        c[Key(i)] = i
    restored = pickle.loads(pickle.dumps(c))
    consistent(restored)
    assert sorted(k.ident for k in restored) == [0, 1, 2]


@pytest.mark.parametrize("name", ["TTLCache", "TLRUCache"])
def test_pickle_keeps_the_scheduling_order_of_equal_deadlines(impl: ModuleType,
                                                              name: str) -> None:
    """N8: entries due at the same time expire in the order they were scheduled, also after a
    pickle round trip (the C re-scheduled them in eviction order)."""
    timer = Timer()
    c = make(impl, name, 8, ttl=3, timer=timer) if name == "TTLCache" else \
        make(impl, name, 8, timer=timer)
    c["a"] = 1
    c["b"] = 2
    c.get("a")  # eviction order: b, a; scheduling order: a, b
    d = pickle.loads(pickle.dumps(c))
    d.timer.tick(500)
    assert d.expire() == [("a", 1), ("b", 2)]


RESTORE_NEVER_DUE = """
import math, pickle
from tests.core.support import Timer

def never(key, value, now):
    return math.inf

c = m.TLRUCache(2, never, Timer())
c.update({1: 1, 2: 2})
d = pickle.loads(pickle.dumps(c))
print(len(d), d[1], d[2])
"""


def test_pickle_of_entries_never_due(impl: ModuleType) -> None:
    """A restored TLRU cache whose entries never expire (deadline inf) works (the C's
    ``__setstate__`` emptied the wheel's clock and restarted it at inf: ``len()`` hung)."""
    assert run_ok(RESTORE_NEVER_DUE, impl_name_of(impl), timeout=120).split() == ["2", "1", "2"]


# -- the entry a write pins while its popitem() call makes room (diff seeds 9546, 35869, 203800) --

def test_rr_choice_is_never_offered_an_empty_list(impl: ModuleType) -> None:
    """Diff seed 9546: a ``popitem()`` during a write, when the only entry left is the key being
    written (kept from ``choice``), finds the cache empty: ``KeyError``, ``choice`` not called
    (the C called ``choice([])``, as it does not with the default choice or an empty cache)."""
    offered: list[list[Any]] = []

    def choice(keys: Any) -> Any:
        offered.append(list(keys))
        return min(keys)  # ValueError on an empty list

    class R(impl.RRCache):  # type: ignore[name-defined,misc]
        def popitem(self) -> Any:
            super().popitem()  # evicts "b", the one key choice() may take
            return super().popitem()  # only "a" left, being written

    c = R(3, choice, len)
    c["a"] = "x"
    c["b"] = "x"
    with pytest.raises(KeyError, match="R is empty"):
        c["a"] = "xxx"
    assert offered == [["b"]]
    consistent(c)
    assert list(c.items()) == [("a", "x")]


def test_nested_write_from_popitem_restores_the_outer_pin(impl: ModuleType) -> None:
    """Diff seed 35869: a write nested in the ``popitem()`` an outer write calls to make room
    leaves the outer write's key protected again: the override's own eviction after it takes
    another key, and the outer write replaces its value (the C's nested write unpinned it: the
    outer key was evicted, then stored anew, and no ``REPLACED`` was reported)."""
    rec = Recorder()
    popped: list[Any] = []

    class F(impl.FIFOCache):  # type: ignore[name-defined,misc]
        nest = True

        def popitem(self) -> Any:
            if F.nest:
                F.nest = False
                self["c"] = "x"  # nested write: its own popitem() evicts "b"
            pair = super().popitem()
            popped.append(pair)
            return pair

    c = F(2, len, on_evict=rec)
    c["b"] = "x"
    c["a"] = "x"  # FIFO order: b, a
    c["a"] = "xx"  # needs one more: popitem(), "a" pinned
    assert popped == [("b", "x"), ("c", "x")]
    assert rec.calls == [("b", "x", "evicted"), ("c", "x", "evicted"), ("a", "x", "replaced")]
    consistent(c)
    assert list(c.items()) == [("a", "xx")]


def test_nested_write_of_the_same_key_from_popitem_keeps_it_pinned(impl: ModuleType) -> None:
    """Diff seed 203800: the same key written again from the ``popitem()`` its write calls; the
    nested write makes its own room and stores it; the override's eviction after it finds only
    that key, being written: ``KeyError`` (the C evicted the key being written and stored it
    anew)."""
    popped: list[Any] = []

    class L(impl.LFUCache):  # type: ignore[name-defined,misc]
        nest = True

        def popitem(self) -> Any:
            if L.nest:
                L.nest = False
                self["a"] = "xx"  # the same write, nested: evicts "b"
            pair = super().popitem()
            popped.append(pair)
            return pair

    c = L(2, len)
    c["a"] = ""
    c["b"] = "xx"
    with pytest.raises(KeyError, match="L is empty"):
        c["a"] = "xx"
    assert popped == [("b", "xx")]
    consistent(c)
    assert list(c.items()) == [("a", "xx")]


@pytest.mark.parametrize("datetimes", [False, True], ids=["numbers", "datetimes"])
def test_a_restarted_set_keeps_its_own_ttl(impl: ModuleType, datetimes: bool) -> None:
    """Diff seed 312150: ``TTLCache.set(k, v, ttl=2)`` whose key's ``__eq__`` re-initialises
    the cache starts again under the new configuration with its own ttl, not the cache's (the
    twin's restart wrote ``c[k] = v``: the entry lived 3 instead of 2)."""
    t = [0]

    def timer() -> Any:
        return datetime(2026, 1, 1) + timedelta(seconds=t[0]) if datetimes else t[0]

    def span(s: int) -> Any:
        return timedelta(seconds=s) if datetimes else s

    c = impl.TTLCache(5, span(3), timer)

    class K:
        fired = False

        def __hash__(self) -> int:
            return 1

        def __eq__(self, other: object) -> bool:
            if not K.fired:
                K.fired = True
                c.__init__(5, span(3), timer)  # the write in progress starts again
            return isinstance(other, K)

    c[K()] = 5
    c.set(K(), 4, ttl=span(2))
    assert K.fired and len(c) == 1
    t[0] = 1
    assert len(c) == 1
    t[0] = 2
    assert len(c) == 0
    consistent(c)
