"""Regression tests of the hostile review (findings 1-6 and 12 of the reliability issue), compiled
core and twin. Each test is named after its finding and asserts the behaviour the review asked
for; code that crashed the interpreter runs in a child process (``fuzz_support.run_child``)."""

from __future__ import annotations

import copy
import pickle
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from .conftest import load_impl
from .fuzz_support import impl_name, run_child, run_ok
from .support import POLICIES, Timer, make, size_of_value, ttu_plus

# -- 1. __init__ called again -------------------------------------------------------------------

# Constructor expressions of a cache with room for 100 units (`{gs}`: the getsizeof argument).
CTORS = {
    "Cache": "m.Cache(100, {gs})",
    "LRUCache": "m.LRUCache(100, {gs})",
    "LFUCache": "m.LFUCache(100, {gs})",
    "FIFOCache": "m.FIFOCache(100, {gs})",
    "RRCache": "m.RRCache(100, min, {gs})",
    "TTLCache": "m.TTLCache(100, 1000, time.monotonic, {gs})",
    "TLRUCache": "m.TLRUCache(100, lambda k, v, now: now + 1000, time.monotonic, {gs})",
    "SIEVECache": "m.SIEVECache(100, {gs})",
    "S3FIFOCache": "m.S3FIFOCache(100, {gs}, 0.2, 0.5)",
    "WTinyLFUCache": "m.WTinyLFUCache(100, {gs}, 0.01, True, 0)",
}

# Each prints what it observed; the outcome must be the same in C and in the twin. A type that
# forbids re-initialisation may raise TypeError at the second __init__.
REINIT = {
    # the getsizeof given first is dropped by the second __init__
    "getsizeof_dropped": """
        c = {ctor_sized}
        c['a'] = 'xyz'
        try:
            c.__init__(*{args_unsized})
        except TypeError:
            print('TypeError at __init__')
            raise SystemExit
        c['a'] = 'x'
        c['b'] = 'yy'
        c._check()
        print(sorted(c.items()), c.currsize, c.maxsize)
    """,
    # an empty cache that has capacity (entries written and deleted), re-initialised with one
    "getsizeof_added_to_empty_cache_with_capacity": """
        c = {ctor_unsized}
        for i in range(60):
            c[i] = i
        for i in range(60):
            del c[i]
        try:
            c.__init__(*{args_sized})
        except TypeError:
            print('TypeError at __init__')
            raise SystemExit
        for i in range(60):
            c[i] = 'x' * (i % 3)
        c._check()
        assert c.currsize == sum(len(v) for v in c.values()), c.currsize
        print(sorted(c.items()), c.currsize, c.maxsize)
    """,
    # the same with entries present
    "getsizeof_added_to_full_cache": """
        c = {ctor_unsized}
        for i in range(60):
            c[i] = i
        try:
            c.__init__(*{args_sized})
        except TypeError:
            print('TypeError at __init__')
            raise SystemExit
        for i in range(60):
            c[i] = 'x' * (i % 3)
        c._check()
        assert c.currsize == sum(len(v) for v in c.values()), c.currsize
        print(sorted(c.items()), c.currsize, c.maxsize)
    """,
    # __init__ from a key's __eq__ while that key is being written
    "from_eq_during_set": """
        c = {ctor_unsized}
        class K:
            fired = False
            def __hash__(self):
                return 1
            def __eq__(self, other):
                if not K.fired:
                    K.fired = True
                    c.__init__(*{args_sized})
                return self is other
            def __repr__(self):
                return 'K'
        c[1] = 'a'
        k = K()
        try:
            c[k] = 'abc'
        except TypeError as exc:
            print('TypeError', exc)
        c._check()
        assert c.currsize == sum(len(v) for v in c.values()), (c.currsize, list(c.items()))
        print(sorted(c.items(), key=repr), c.currsize, c.maxsize)
    """,
}


def reinit_code(case: str, name: str) -> str:
    ctor = CTORS[name]
    args = ctor[ctor.index("(") + 1:ctor.rindex(")")]
    return "import time\n" + textwrap.dedent(REINIT[case]).format(
        ctor_sized=ctor.format(gs="len"), ctor_unsized=ctor.format(gs="None"),
        args_sized=f"({args.format(gs='len')},)", args_unsized=f"({args.format(gs='None')},)")


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("case", sorted(REINIT))
def test_finding_1_init_called_again(name: str, case: str) -> None:
    code = reinit_code(case, name)
    outcomes = {}
    for which in ("c", "py"):
        if which == "c":
            load_impl("c")  # skips where the compiled core is not in use
        outcomes[which] = run_ok(code, which)
    assert outcomes["c"] == outcomes["py"]


# -- 2. an overridden popitem() that deletes the entry being replaced ---------------------------

POPITEM_DELETES_PINNED = """
    Base = {base}
    class C(Base):
        def popitem(self):
            if 0 in self:
                del self[0]  # the key being replaced, protected while room is made
            return super().popitem()
    c = {ctor}
    for i in range({n}):
        c[i] = 'x'
    c[0] = 'xx'  # grows: room is made through popitem()
    c._check()
    assert c.currsize == sum(len(v) for v in c.values()), c.currsize
    assert c[0] == 'xx', 'the write was lost'
    print(sorted(c.items()), c.currsize)
"""


@pytest.mark.parametrize("name", ["LRUCache", "LFUCache", "FIFOCache", "RRCache", "TTLCache"])
@pytest.mark.parametrize("n", [2, 5, 40])
def test_finding_2_popitem_override_deletes_the_pinned_entry(name: str, n: int) -> None:
    ctor = {"RRCache": f"C({n}, max, len)",  # a custom choice: eviction through popitem()
            "TTLCache": f"C({n}, 1000, time.monotonic, len)"}.get(name, f"C({n}, len)")
    code = "import time\n" + textwrap.dedent(POPITEM_DELETES_PINNED).format(
        base=f"m.{name}", ctor=ctor, n=n)
    outcomes = {}
    for which in ("c", "py"):
        if which == "c":
            load_impl("c")
        outcomes[which] = run_ok(code, which)
    assert outcomes["c"] == outcomes["py"]


# -- 3. concurrent writers and a lookup whose __eq__ releases the GIL ---------------------------

class SlowKey:
    """Equal to another ``SlowKey`` of the same ``n``. ``__eq__`` releases the GIL and, when
    ``handshake`` is given, asks a writer for one change of the table and waits (bounded)
    until it is made: every comparison then sees the table change under it."""

    def __init__(self, n: int, handshake: tuple[threading.Event, threading.Event] | None = None
                 ) -> None:
        self.n = n
        self.handshake = handshake

    def __hash__(self) -> int:
        return hash(self.n)

    def __eq__(self, other: object) -> bool:
        time.sleep(0)
        if self.handshake is not None:
            request, changed = self.handshake
            changed.clear()
            request.set()
            # bounded: a twin writer waits for the lock this lookup holds
            changed.wait(timeout=0.05)
        return isinstance(other, SlowKey) and other.n == self.n


WRITERS = 7
LOOKUPS = 2


@pytest.mark.parametrize("name", ["LRUCache", "LFUCache", "TTLCache"])  # one table under all
def test_finding_3_concurrent_writers_never_fail_a_lookup(impl: ModuleType, name: str) -> None:
    c = make(impl, name, 10**6)
    handshake = (threading.Event(), threading.Event())
    c[SlowKey(0, handshake)] = "present"  # the stored key's __eq__ is the one called
    done = threading.Event()
    started = threading.Barrier(WRITERS + 1)
    failures: list[BaseException] = []
    results: list[Any] = []

    def writer(w: int) -> None:
        request, changed = handshake
        try:
            started.wait()
            i = 0
            while not done.is_set():
                asked = request.is_set()
                request.clear()
                key = (w, i)  # only other keys: insert, then remove again
                c[key] = i
                c.pop(key, None)
                i += 1
                if asked:
                    changed.set()
        except BaseException as exc:
            failures.append(exc)

    def reader() -> None:
        try:
            started.wait()
            lookups: list[Callable[[SlowKey], Any]] = [
                lambda k: c[k], lambda k: c.get(k), lambda k: k in c and "present"]
            for _ in range(LOOKUPS):
                for lookup in lookups:
                    try:
                        results.append(lookup(SlowKey(0, handshake)))  # a new, equal key
                    except BaseException as exc:
                        results.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    threads.append(threading.Thread(target=reader))
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # quick hand-overs between the reader and the writers
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    finally:
        sys.setswitchinterval(old)
    assert not any(t.is_alive() for t in threads), "a lookup did not finish"
    assert failures == []
    assert results == ["present"] * (3 * LOOKUPS)
    c._check()


# -- 4. clear() during a TTLCache write ---------------------------------------------------------

def timed(impl: ModuleType, name: str, timer: Timer, cls: Any = None, maxsize: int = 5) -> Any:
    if name == "TTLCache":
        return make(impl, name, maxsize, cls=cls, ttl=10, timer=timer)
    return make(impl, name, maxsize, cls=cls, ttu=ttu_plus(10), timer=timer)


def assert_expires_exactly(c: Any, timer: Timer, key: Any, value: Any) -> None:
    """``key`` was written at time 0 with a time to live of 10."""
    assert key in c
    assert c.remaining_ttl(key) == 10
    c._check()
    timer.tick(9)
    assert key in c and c.expire() == []
    timer.tick(1)
    assert key not in c
    assert len(c) == 0
    c._check()
    timer.tick(10**7)
    assert c.expire() == [] and len(c) == 0 and list(c) == []
    c._check()


@pytest.mark.parametrize("name", ["TTLCache", "TLRUCache"])
def test_finding_4_clear_from_popitem_during_a_write(impl: ModuleType, name: str) -> None:
    base = getattr(impl, name)

    class Flushing(base):  # type: ignore[misc, valid-type]
        def popitem(self) -> tuple[Any, Any]:
            key = next(iter(self))
            value = self[key]
            self.clear()
            return key, value

    timer = Timer()
    c = timed(impl, name, timer, cls=Flushing, maxsize=2)
    c[1] = 1
    c[2] = 2
    c[3] = 3  # full: popitem() flushes everything
    assert list(c.items()) == [(3, 3)]
    assert_expires_exactly(c, timer, 3, 3)


@pytest.mark.parametrize("name", ["TTLCache", "TLRUCache"])
def test_finding_4_clear_from_eq_during_a_write(impl: ModuleType, name: str) -> None:
    timer = Timer()
    c = timed(impl, name, timer)

    class Clearing:
        fired = False

        def __hash__(self) -> int:
            return 1

        def __eq__(self, other: object) -> bool:
            if not Clearing.fired:
                Clearing.fired = True
                c.clear()
            return self is other

    c[1] = 1
    key = Clearing()
    c[key] = "k"
    assert list(c.items()) == [(key, "k")]
    assert_expires_exactly(c, timer, key, "k")


# -- 5. currsize overflow ------------------------------------------------------------------------

def fill_huge(impl: ModuleType, maxsize: Any) -> tuple[str, Any]:
    """Three inserts of size ``sys.maxsize // 2``: ``("ok", currsize)`` or the exception type
    raised at an insert (then the cache must still be consistent)."""
    c = impl.Cache(maxsize, getsizeof=size_of_value)
    outcome: tuple[str, Any]
    try:
        for i in range(3):
            c[i] = sys.maxsize // 2
        outcome = ("ok", c.currsize)
    except (OverflowError, ValueError) as exc:
        outcome = (type(exc).__name__, sorted(c.items()))
    c._check()
    assert c.currsize == sum(v for v in c.values())
    assert c.currsize <= c.maxsize
    return outcome


FILL_HUGE = """
    import math
    from tests.core.test_review_findings import fill_huge
    print(fill_huge(m, {maxsize}))
"""


@pytest.mark.parametrize("maxsize", ["math.inf", "sys.maxsize"])
def test_finding_5_currsize_never_overflows(maxsize: str) -> None:
    """In a child: the signed overflow stops a UBSan build."""
    load_impl("c")
    code = "import sys\n" + textwrap.dedent(FILL_HUGE).format(maxsize=maxsize)
    py, c = run_ok(code, "py"), run_ok(code, "c")
    if py.startswith("('ok'") and maxsize == "math.inf":
        assert py.strip() == repr(("ok", 3 * (sys.maxsize // 2)))
    assert c == py


# -- 6. deepcopy and pickle of a cache that contains itself -------------------------------------

class Holder:
    """A value whose attribute refers back to the cache."""

    cache: Any = None


DUPLICATE: dict[str, Callable[[Any], Any]] = {
    "deepcopy": copy.deepcopy, "pickle": lambda c: pickle.loads(pickle.dumps(c))}


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("how", sorted(DUPLICATE))
def test_finding_6_memo_honoured_for_a_self_containing_cache(impl: ModuleType, name: str,
                                                            how: str) -> None:
    c = make(impl, name, 10)
    c["self"] = c
    holder = Holder()
    holder.cache = c
    c["holder"] = holder
    d = DUPLICATE[how](c)
    assert d is not c and type(d) is type(c)
    assert d["self"] is d
    assert d["holder"].cache is d
    d._check()


# -- 12. smaller mismatches ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["TTLCache", "TLRUCache"])
def test_finding_12_timer_returning_true_rejected(impl: ModuleType, name: str) -> None:
    extra = {"ttl": 5} if name == "TTLCache" else {"ttu": ttu_plus(5)}
    c = make(impl, name, 10, timer=lambda: True, **extra)
    with pytest.raises(TypeError):
        c[1] = 1
    c._check()


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("maxsize", [sys.maxsize, sys.maxsize // 2 + 1])
def test_finding_12_maxsize_reported_exactly(impl: ModuleType, name: str, maxsize: int) -> None:
    assert make(impl, name, maxsize).maxsize == maxsize


def tampered(impl: ModuleType, c: Any, edit: Callable[[list[list[Any]], dict[str, Any]], None]
             ) -> Any:
    """Restore ``c`` from its pickled state after ``edit(entries, config)``; entries are
    ``[key, value, size]`` lists; ``config`` is the implementation's own dictionary."""
    if impl_name(impl) == "c":
        fn, (cls, config), (entries, _dict) = c.__reduce__()
        rows = [list(e[:3]) for e in entries]
        edit(rows, config)
        extras = [e[3:] for e in entries]
        extras += [extras[-1]] * (len(rows) - len(extras))  # rows added by the edit
        return fn(cls, config, [(*row, *extra) for row, extra in zip(rows, extras, strict=True)])
    params, entries, counters, extra, user_dict = c.__getstate__()
    rows = [list(e) for e in entries]
    config = dict(params, counters=counters)
    edit(rows, config)
    counters = config.pop("counters", None)
    new = type(c).__new__(type(c))
    new.__setstate__((config, [tuple(r) for r in rows], counters, extra, user_dict))
    return new


def _negative_size(rows: list[list[Any]], config: dict[str, Any]) -> None:
    rows[0][2] = -1


def _non_int_size(rows: list[list[Any]], config: dict[str, Any]) -> None:
    rows[0][2] = "1"


def _unit_size_not_one(rows: list[list[Any]], config: dict[str, Any]) -> None:
    rows[0][2] = 5


def _over_full(rows: list[list[Any]], config: dict[str, Any]) -> None:
    rows.extend([["extra1", 1, 1], ["extra2", 1, 1]])


def _sizes_above_maxsize(rows: list[list[Any]], config: dict[str, Any]) -> None:
    rows[0][2] = 3


def _no_counters(rows: list[list[Any]], config: dict[str, Any]) -> None:
    del config["counters"]


def _negative_maxsize(rows: list[list[Any]], config: dict[str, Any]) -> None:
    config["maxsize"] = -3


TAMPER = {"negative_size": (_negative_size, True), "non_int_size": (_non_int_size, True),
          "unit_size_not_one": (_unit_size_not_one, False), "over_full": (_over_full, False),
          "sizes_above_maxsize": (_sizes_above_maxsize, True),
          "no_counters": (_no_counters, False), "negative_maxsize": (_negative_maxsize, False)}


CRAFTED = """
    from tests.core.support import make, size_of_value
    from tests.core.test_review_findings import TAMPER, tampered
    edit, sized = TAMPER[{case!r}]
    c = make(m, {name!r}, 3, getsizeof=size_of_value if sized else None)
    c["a"] = 1
    c["b"] = 1
    try:
        d = tampered(m, c, edit)
    except (TypeError, ValueError) as exc:
        print("rejected:", type(exc).__name__, exc)
    else:
        print("accepted:", list(d.items()), d.currsize, d.maxsize)
"""


@pytest.mark.parametrize("name", ["LRUCache", "LFUCache", "TTLCache"])
@pytest.mark.parametrize("case", sorted(TAMPER))
def test_finding_12_crafted_pickle_rejected(impl: ModuleType, name: str, case: str) -> None:
    """In a child: a debug build asserts its consistency after restoring (an abort)."""
    out = run_ok(CRAFTED.format(case=case, name=name), impl_name(impl))
    assert out.startswith("rejected:"), out


def test_finding_12_crafted_pickle_untampered_restores(impl: ModuleType) -> None:
    """The tampering helper itself: without an edit, the state restores as it was."""
    c = make(impl, "LRUCache", 3, getsizeof=size_of_value)
    c["a"] = 1
    c["b"] = 2
    d = tampered(impl, c, lambda rows, config: None)
    assert list(d.items()) == [("a", 1), ("b", 2)] and d.currsize == 3
    d._check()


def test_finding_12_init_from_eq_no_lock_error(impl: ModuleType) -> None:
    """The twin raised ``RuntimeError: cannot release un-acquired lock`` here."""
    code = """
        c = m.LRUCache(10)
        class K:
            fired = False
            def __hash__(self):
                return 1
            def __eq__(self, other):
                if not K.fired:
                    K.fired = True
                    c.__init__(10)
                return self is other
        c[1] = 1
        k = K()
        try:
            c[k] = 2
        except TypeError:
            print('TypeError')
        c._check()
        c[3] = 3
        c._check()
        print(sorted(c.items(), key=repr)[:1], len(c))
    """
    child = run_child(code, impl_name(impl))
    assert child.returncode == 0, child.describe()
    assert "un-acquired lock" not in child.stderr
