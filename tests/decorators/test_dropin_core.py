"""Drop-in differential tests of the compiled core and its twin against functools/cachetools.

Each test runs one scenario through the reference (CPython's ``functools``, cachetools 8)
and through fastcache's compiled core (``_core``) and its pure-Python twin
(``fastcache/_py/``), and compares what a user observes; each docstring names the
mechanism. (Moved here from ``pending_core_dropin.py`` as each change landed.)
"""

from __future__ import annotations

import enum
import functools
import itertools
import pickle
import re
import time
from types import ModuleType

import cachetools
import pytest

from tests.impls import Implementation


class Color(str, enum.Enum):
    RED = "red"


class MyInt(int):
    pass


ARGS = [1, True, 1.0, "red", Color.RED, MyInt(1), 2, 2.0]


@pytest.mark.parametrize("typed", [False, True])
@pytest.mark.parametrize("maxsize", [None, 3, 128])
def test_lru_cache_keys_as_functools_in_every_order(dec: ModuleType, maxsize: int | None,
                                                    typed: bool) -> None:
    """Key: the argument itself only for an exact ``int``/``str`` (``type(x) is int``), a
    tuple otherwise, as CPython's ``_make_key`` (``Modules/_functoolsmodule.c``
    ``lru_cache_make_key``: ``PyLong_CheckExact``/``PyUnicode_CheckExact``). Mechanism in
    csrc: the one-positional-argument fast path tests the exact type (a pointer compare, no
    cost on the int/str path); every other argument (bool, float, subclasses, enums) is
    keyed by a 1-tuple, so ``1`` and ``True`` and ``1.0`` are three keys when
    ``1 == True == 1.0`` would merge them into one under a raw-value key. Twin:
    ``fastcache/_py/wrapper.py`` ``_make_key``, the same rule (``{int, str}`` exact)."""
    for order in itertools.islice(itertools.permutations(ARGS), 0, None, 997):
        ours = dec.lru_cache(maxsize, typed)(lambda x: x)
        ref = functools.lru_cache(maxsize, typed)(lambda x: x)
        for x in order:
            assert type(ours(x)) is type(ref(x)), (order, x)
            assert ours.cache_info() == ref.cache_info(), (order, x)


@pytest.mark.parametrize("name", ["Cache", "LRUCache", "LFUCache", "FIFOCache", "RRCache",
                                  "TTLCache", "TLRUCache"])
def test_popitem_on_empty_suppresses_context(implementation: Implementation,
                                             name: str) -> None:
    """``popitem()`` on an empty cache inside an ``except`` block: ``KeyError("<Name> is
    empty")`` with ``__suppress_context__`` set, as cachetools' ``raise ... from None``.
    Mechanism: in csrc, set ``__cause__ = None``/``__suppress_context__ = 1`` on the raised
    KeyError (``PyException_SetCause(exc, NULL)`` after ``PyErr_Format`` then
    ``((PyBaseExceptionObject *)exc)->suppress_context = 1``); twin: ``from None``."""
    cls = getattr(implementation.caches, name)
    args = {"TTLCache": (2, 10), "TLRUCache": (2, lambda k, v, now: now + 10)}.get(name, (2,))
    try:
        raise ValueError("handled")
    except ValueError:
        with pytest.raises(KeyError) as info:
            cls(*args).popitem()
    assert info.value.__suppress_context__
    assert re.fullmatch(rf"'{name} is empty'", str(info.value))


def test_float_maxsize_message_names_the_type(implementation: Implementation) -> None:
    """One message for a float maxsize in both implementations (``_validate.maxsize``'s):
    "maxsize must be an int or math.inf, not float" (the compiled core omits the type,
    the twin prints the value)."""
    with pytest.raises(TypeError, match=r"^maxsize must be an int or math\.inf, not float$"):
        implementation.caches.LRUCache(1.5)


def test_compiled_wrapper_reprs(dec: ModuleType) -> None:
    """``repr`` of the compiled ``cached`` wrapper ``<cached <function f ...>>`` and of a
    compiled bound ``cachedmethod`` ``<cachedmethod <function C.m ...> of <C object ...>>``
    (cachetools 8): a ``tp_repr`` on the compiled cached-wrapper type, the bound form when
    it holds an owner (``owner=`` given)."""
    def f(x: int) -> int:
        return x

    assert repr(dec.cached({})(f)) == f"<cached {f!r}>"

    class C:
        def __init__(self) -> None:
            self.cache: dict[object, object] = {}

        @dec.cachedmethod(lambda self: self.cache)
        def m(self, x: int) -> int:
            return x

    c = C()
    assert repr(c.m) == f"<cachedmethod {C.__dict__['m'].method!r} of {object.__repr__(c)}>"


def test_timer_is_cachetools_timer_object(implementation: Implementation) -> None:
    """``cache.timer`` is cachetools' ``_TimedCache._Timer``: callable, a context manager
    that freezes time for the block (nested), pickles as ``(_Timer, (timer,))``, forwards
    attributes to the wrapped timer. Mechanism: a small object type in ``_core`` holding
    ``timer``, a nesting count and the frozen time; the cache reads ``now`` through it
    (the nesting check is one int compare on the default path)."""
    for lib in (cachetools, implementation.caches):
        c = lib.TTLCache(4, ttl=10, timer=iter(range(100)).__next__)
        with c.timer as t0:
            c["a"] = 1
            c["b"] = 2
            assert c.timer() == t0
        assert c.timer() != t0


def test_timer_freezes_the_default_clock(implementation: Implementation) -> None:
    """With the default ``time.monotonic`` (read in C, without Python, by the compiled core)
    a handed-out ``cache.timer`` is honoured: inside ``with cache.timer as now`` every
    operation uses ``now``, so an entry written there has exactly ``ttl`` left; the
    ``_Timer`` pickles as cachetools' (``(_Timer, (timer,))``), forwards attributes to the
    timer, and a new one comes with ``__init__``."""
    c = implementation.caches.TTLCache(4, ttl=30)
    t = c.timer
    with t as now:
        with t as inner:
            assert inner == now
        c["a"] = 1
        assert c.remaining_ttl("a") == 30 and c.timer() == now
    assert c.timer is t and t.__name__ == "monotonic"
    assert type(pickle.loads(pickle.dumps(t))) is type(t)
    assert t.__reduce__()[1][0] is time.monotonic
    c.__init__(4, ttl=30)
    assert c.timer is not t


def test_pickled_timed_cache_of_entries_that_never_expire(implementation: Implementation
                                                          ) -> None:
    """A TLRUCache whose entries never expire (``ttu`` returns ``math.inf``) survives a
    pickle round trip and is usable after it (cachetools 8's ``test_pickle`` on TLRUCache):
    restoring started the timer wheel at an infinite time, whose tick numbers overflowed,
    and the next ``len()`` never returned. Mechanism (csrc/pickle.c): an entry that never
    expires starts the wheel at 0."""
    c = implementation.caches.TLRUCache(2, _never, timer=_Clock())
    c.update({1: 1, 2: 2})
    d = pickle.loads(pickle.dumps(c))
    assert len(d) == 2 and d[1] == 1
    d[3] = 3
    assert len(d) == 2 and d[3] == 3
    d._check()


def _never(key: object, value: object, now: float) -> float:
    return float("inf")


class _Clock:
    """A picklable timer standing still at 0."""

    def __call__(self) -> float:
        return 0.0
