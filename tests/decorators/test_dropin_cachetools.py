"""``cached``/``cachedmethod``/``fastcache.func`` against cachetools 8, scenario for scenario.

Each scenario is one function of a "library" (``cached``, ``cachedmethod``, the cache
classes, ``func``) returning a transcript of what a user observes: values, exception types
and messages, lock/condition counts, ``cache_info()``, ``repr`` shapes. The transcript of
fastcache (compiled core and twin: the ``implementation`` fixture) must equal cachetools
8's. Where fastcache differs on purpose, the test says so and asserts fastcache's side
(README, "Moving from cachetools / functools").
"""

from __future__ import annotations

import copy
import functools
import pickle
import re
import threading
import unittest.mock
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import cachetools
import cachetools.func
import pytest

import fastcache.func
from tests.impls import Implementation

assert int(cachetools.__version__.split(".")[0]) == 8, "these tests compare with cachetools 8"


def _lib(implementation: Implementation) -> SimpleNamespace:
    d = implementation.decorators
    return SimpleNamespace(cached=d.cached, cachedmethod=d.cachedmethod,
                           LRUCache=implementation.caches.LRUCache, func=fastcache.func)


CT = SimpleNamespace(cached=cachetools.cached, cachedmethod=cachetools.cachedmethod,
                     LRUCache=cachetools.LRUCache, func=cachetools.func)


@pytest.fixture()
def fc(implementation: Implementation) -> SimpleNamespace:
    return _lib(implementation)


def same(scenario: Callable[[SimpleNamespace], Any], fc: SimpleNamespace) -> Any:
    expected = scenario(CT)
    assert scenario(fc) == expected
    return expected


def _shape(text: str) -> str:
    """A repr with its addresses and the library's own names masked."""
    return re.sub(r"0x[0-9a-f]+", "0x?", text)


class CountedCondition:
    """A condition that counts what the wrapper does with it (enter, wait, notify)."""

    def __init__(self) -> None:
        self.count = self.wait_count = self.notify_count = 0

    def __enter__(self) -> None:
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        return None

    def wait(self, timeout: float | None = None) -> bool:
        self.wait_count += 1
        return True

    def notify_all(self) -> None:
        self.notify_count += 1


def _transcript(call: Callable[[], Any]) -> Any:
    try:
        return ("ok", call())
    except Exception as exc:
        return ("raise", type(exc).__name__, str(exc))


# --- cached: every combination of lock, condition, info, cache size -------------------------

COMBOS = [(lock, cond, info) for lock in (False, True) for cond in (False, True)
          for info in (False, True)]


@pytest.mark.parametrize("size", [0, 2, None])
@pytest.mark.parametrize(("use_lock", "use_cond", "info"), COMBOS)
def test_cached_counts_info_clear(fc: SimpleNamespace, size: int | None, use_lock: bool,
                                  use_cond: bool, info: bool) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        cache = {} if size is None else lib.LRUCache(size)
        lock, cond = CountedCondition(), CountedCondition()
        calls: list[int] = []

        def f(x: int) -> int:
            calls.append(x)
            return x * 10

        w = lib.cached(cache, lock=lock if use_lock else None,
                       condition=cond if use_cond else None, info=info)(f)
        out: list[Any] = []
        for x in (1, 1, 2, 3, 1, 2.0):
            out.append(w(x))
            out.append((lock.count, cond.count, cond.wait_count, cond.notify_count))
            if info:
                out.append(tuple(w.cache_info()))
        w.cache_clear()
        out.append((lock.count, cond.count, len(cache), calls))
        if info:
            out.append(tuple(w.cache_info()))
        out.append((w.cache_lock is (lock if use_lock else cond if use_cond else None),
                    w.cache_condition is (cond if use_cond else None), w.cache is cache,
                    hasattr(w, "cache_info"), w.__wrapped__ is f))
        return out

    same(scenario, fc)


def test_cached_error_in_function_releases_the_key(fc: SimpleNamespace) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        cond = CountedCondition()
        n = [0]

        def f(x: int) -> int:
            n[0] += 1
            if n[0] == 1:
                raise ValueError(f"boom {x}")
            return x

        w = lib.cached(lib.LRUCache(2), condition=cond, info=True)(f)
        return [_transcript(lambda: w(1)), w(1), w(1), tuple(w.cache_info()),
                (cond.count, cond.wait_count, cond.notify_count)]

    same(scenario, fc)


def test_cached_repr_and_stacking(fc: SimpleNamespace, implementation: Implementation) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        def f(x: int) -> int:
            return x

        inner = lib.cached({}, info=True)(f)
        outer = lib.cached(lib.LRUCache(3), condition=threading.Condition(), info=True)(inner)
        out = [outer(1), outer(1), tuple(outer.cache_info()), tuple(inner.cache_info()),
               outer.__wrapped__ is inner, inner.__wrapped__ is f]
        outer.cache_clear()
        out += [tuple(outer.cache_info()), tuple(inner.cache_info()),
                _shape(repr(outer)).replace(_shape(repr(inner)), "<inner>")]
        return out

    same(scenario, fc)
    w = fc.cached({}, condition=threading.Condition())(_module_level)
    assert repr(w) == f"<cached {_module_level!r}>"
    if implementation.name == "py":  # the compiled wrapper's repr waits for the core
        assert repr(fc.cached({})(_module_level)) == f"<cached {_module_level!r}>"


def _module_level(x: int) -> int:
    return x


def test_cached_key_none_rejected_at_decoration(fc: SimpleNamespace) -> None:
    # a deliberate difference: cachetools accepts key=None and fails at the first call
    w = cachetools.cached({}, key=None)(_module_level)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        w(1)
    with pytest.raises(TypeError, match="key must be callable"):
        fc.cached({}, key=None)


def test_cached_condition_is_waited_on_by_concurrent_callers(fc: SimpleNamespace) -> None:
    """The user's condition is the one waited on and notified (instrumented, real threads)."""

    def scenario(lib: SimpleNamespace) -> Any:
        class Instrumented(threading.Condition):
            waits = notifies = 0

            def wait(self, timeout: float | None = None) -> bool:
                Instrumented.waits += 1
                waiting.set()
                return super().wait(timeout)

            def notify_all(self) -> None:
                Instrumented.notifies += 1
                super().notify_all()

        waiting, release, entered = threading.Event(), threading.Event(), threading.Event()
        calls: list[int] = []

        def slow(x: int) -> int:
            calls.append(x)
            entered.set()
            assert release.wait(30)
            return x + 1

        cond = Instrumented()
        w = lib.cached({}, condition=cond, info=True)(slow)
        results: list[int] = []
        first = threading.Thread(target=lambda: results.append(w(1)))
        first.start()
        assert entered.wait(30)
        second = threading.Thread(target=lambda: results.append(w(1)))
        second.start()
        assert waiting.wait(30)  # the second caller waits on the user's condition
        release.set()
        first.join(30)
        second.join(30)
        return (results, calls, tuple(w.cache_info()), Instrumented.waits >= 1,
                Instrumented.notifies)

    same(scenario, fc)


# --- cachedmethod ------------------------------------------------------------------------------

def _classes(lib: SimpleNamespace) -> SimpleNamespace:
    class Base:
        def __init__(self, cache: Any) -> None:
            self.cache = cache
            self.lock = CountedCondition()
            self.cond = CountedCondition()
            self.calls = 0

        @lib.cachedmethod(lambda self: self.cache, info=True)
        def get(self, value: int) -> int:
            self.calls += 1
            return value + self.calls

        @lib.cachedmethod(lambda self: self.cache, lock=lambda self: self.lock,
                          condition=lambda self: self.cond, info=True)
        def get_cond(self, value: int) -> int:
            self.calls += 1
            return value * 100 + self.calls

    class Child(Base):
        def __init__(self, cache: Any, child_cache: Any) -> None:
            super().__init__(cache)
            self.child_cache = child_cache

        @lib.cachedmethod(lambda self: self.child_cache, info=True)
        def get(self, value: int) -> int:
            return super().get(value) + 1000

    class Grandchild(Child):
        def get(self, value: int) -> int:  # undecorated override, one level further down
            return super().get(value) + 10000

    return SimpleNamespace(Base=Base, Child=Child, Grandchild=Grandchild)


def test_cachedmethod_overrides_several_levels(fc: SimpleNamespace) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        k = _classes(lib)
        g = k.Grandchild(lib.LRUCache(4), lib.LRUCache(4))
        out = [g.get(1), g.get(1), g.get(2), super(k.Child, g).get(1)]
        out += [tuple(super(k.Grandchild, g).get.cache_info()),
                tuple(super(k.Child, g).get.cache_info()),
                sorted(k for k in vars(g) if not k.startswith("_") or "cachetools" in k)]
        super(k.Child, g).get.cache_clear()
        out += [g.get(1), tuple(super(k.Child, g).get.cache_info())]
        return out

    same(scenario, fc)


def test_cachedmethod_through_the_class(fc: SimpleNamespace) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        k = _classes(lib)
        b = k.Base({})
        out = [k.Base.get(b, 1), k.Base.get(self=b, value=1), b.get(1),
               tuple(b.get.cache_info()), _transcript(lambda: k.Base.get(value=1)),
               k.Base.get is k.Base.get, _shape(repr(k.Base.get)).split(" at ")[0]]
        mock = unittest.mock.create_autospec(k.Base, instance=True)
        mock.get.return_value = 42
        out += [mock.get(1), mock.get(value=1), mock.get.call_args]
        return out

    same(scenario, fc)


def test_cachedmethod_lock_and_condition_are_read_per_call(fc: SimpleNamespace) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        k = _classes(lib)
        b = k.Base(lib.LRUCache(0))  # zero size: every call computes
        out = [b.get_cond(1), (b.cond.count, b.cond.notify_count)]
        b.lock, b.cond = CountedCondition(), CountedCondition()  # swapped after binding
        out += [b.get_cond(1), (b.lock.count, b.cond.count, b.cond.notify_count),
                b.get_cond.cache_lock is b.lock, b.get_cond.cache_condition is b.cond,
                tuple(b.get_cond.cache_info())]
        b.get_cond.cache_clear()
        out += [b.lock.count, tuple(b.get_cond.cache_info())]
        return out

    same(scenario, fc)


@pytest.mark.parametrize("copier", ["pickle", "deepcopy"])
def test_cachedmethod_instances_pickle_and_deepcopy(fc: SimpleNamespace, copier: str) -> None:
    k = _classes(fc)
    g = k.Grandchild(fc.LRUCache(4), fc.LRUCache(4))
    assert (g.get(1), g.get_cond(2)) == (11002, 202)
    assert super(k.Child, g).get.cache_info().misses == 1
    # the classes are local: pickle goes through a module-level twin of them
    if copier == "pickle":
        obj = _Picklable(fc_cache := fc.LRUCache(4))
        assert obj.get(1) == 1
        copied = pickle.loads(pickle.dumps(obj))
        assert copied.get(1) == 1 and copied.get.cache_info() == (1, 0, 4, 1)
        assert copied.get.cache is copied.cache is not fc_cache
        return
    copied = copy.deepcopy(g)
    assert copied.get(1) == 11002  # the copied caches answer
    child = super(k.Grandchild, copied).get
    assert child.cache is copied.child_cache is not g.child_cache
    assert super(k.Child, copied).get.cache is copied.cache is not g.cache
    assert child.cache_info() == (1, 0, 4, 1)  # counts start again


class _Picklable:
    def __init__(self, cache: Any) -> None:
        self.cache = cache

    @fastcache.cachedmethod(lambda self: self.cache, info=True)
    def get(self, value: int) -> int:
        return value


def test_cachedmethod_errors(fc: SimpleNamespace) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        out = []
        try:
            class Twice:
                @lib.cachedmethod(lambda self: {})
                def foo(self) -> None: ...

                bar = foo
        except Exception as exc:
            out.append("bar" in str(exc) or "bar" in str(exc.__cause__))

        class NoSetName:
            pass

        NoSetName.m = lib.cachedmethod(lambda self: {})(lambda self: 1)  # type: ignore[attr-defined]
        out.append(_transcript(lambda: NoSetName().m()))  # type: ignore[attr-defined]

        class ReadOnly(dict):  # type: ignore[type-arg]
            def __setitem__(self, key: Any, value: Any) -> None:
                raise TypeError("read-only")

            def setdefault(self, key: Any, value: Any = None) -> Any:
                raise TypeError("read-only")

        class Immutable:
            def __init__(self) -> None:
                self.__dict__ = ReadOnly(cache={})

            @lib.cachedmethod(lambda self: self.cache)
            def get(self, x: int) -> int:
                raise KeyError(f"wrapped {x}")

        out.append(_transcript(lambda: Immutable().get(1)))
        k = _classes(lib)
        b = k.Base({})
        b.calls = "x"  # the method raises TypeError inside
        out.append(_transcript(lambda: b.get(1)))
        out.append(_transcript(lambda: b.get_cond(1)))
        out.append((b.cond.count, b.cond.notify_count, len(b.cache)))
        return out

    same(scenario, fc)


def test_cachedmethod_bound_repr(fc: SimpleNamespace, implementation: Implementation) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        k = _classes(lib)
        b = k.Base({})
        shown = _shape(repr(b.get_cond))  # the Python path (lock, condition): everywhere
        return shown.replace(k.Base.__qualname__, "Base")

    same(scenario, fc)
    if implementation.name == "py":  # the compiled bound wrapper's repr waits for the core
        k = _classes(fc)
        b = k.Base({})
        assert repr(b.get) == (f"<cachedmethod {k.Base.__dict__['get'].method!r} of "
                               f"{object.__repr__(b)}>")


# --- fastcache.func is cachetools.func ----------------------------------------------------------

@pytest.mark.parametrize("name", ["fifo_cache", "lfu_cache", "lru_cache", "rr_cache",
                                  "ttl_cache"])
@pytest.mark.parametrize("maxsize", [None, 0, 2, "bare"])
@pytest.mark.parametrize("typed", [False, True])
def test_func(name: str, maxsize: Any, typed: bool) -> None:
    def scenario(lib: SimpleNamespace) -> Any:
        deco = getattr(lib.func, name)
        if name == "rr_cache":  # a deterministic choice: the same victim in both libraries
            deco = functools.partial(deco, choice=lambda keys: min(keys, key=repr))
        calls: list[Any] = []

        def f(*args: Any, **kwargs: Any) -> Any:
            calls.append((args, kwargs))
            return len(calls)

        w = deco(f) if maxsize == "bare" else deco(maxsize, typed=typed)(f)
        out = [w.cache_parameters(), tuple(w.cache_info())]
        for args, kwargs in [((1,), {}), ((1.0,), {}), ((True,), {}), ((), {"a": 1, "b": 2}),
                             ((), {"b": 2, "a": 1}), ((2,), {}), ((1,), {})]:
            out.append((w(*args, **kwargs), tuple(w.cache_info())))
        w.cache_clear()
        out.append(tuple(w.cache_info()))
        return out

    assert scenario(SimpleNamespace(func=fastcache.func)) == scenario(CT)


def test_func_negative_maxsize_raises_as_cachetools() -> None:
    for lib in (cachetools.func, fastcache.func):
        with pytest.raises(ValueError):
            lib.lru_cache(-1)


def test_lru_cache_is_functools_and_func_lru_cache_is_cachetools(dec: ModuleType) -> None:
    assert "single_flight" in dec.lru_cache.__doc__  # fastcache.lru_cache: functools' own
    w = dec.lru_cache(-1)(_module_level)
    assert w.cache_parameters() == functools.lru_cache(-1)(_module_level).cache_parameters()


# --- the deliberate differences the README lists (fastcache's side asserted) ------------------

def test_cachedmethod_on_slots_binds_per_access(fc: SimpleNamespace) -> None:
    class Slots:
        __slots__ = ("cache",)

        def __init__(self) -> None:
            self.cache: dict[Any, Any] = {}

        @fc.cachedmethod(lambda self: self.cache, info=True)
        def get(self, x: int) -> int:
            return x * 2

    s = Slots()
    assert (s.get(1), s.get(1), s.cache) == (2, 2, {(1,): 2})
    assert s.get is not s.get  # bound on every access: counts per access
    with pytest.raises(TypeError, match="No '__dict__' attribute"):
        _ct_slots().get(1)


def _ct_slots() -> Any:
    class Slots:
        __slots__ = ("cache",)

        def __init__(self) -> None:
            self.cache: dict[Any, Any] = {}

        @cachetools.cachedmethod(lambda self: self.cache)
        def get(self, x: int) -> int:
            return x

    return Slots()


def test_cachedmethod_under_classmethod(fc: SimpleNamespace) -> None:
    store: dict[Any, Any] = {}
    calls: list[int] = []

    class K:
        @classmethod
        @fc.cachedmethod(lambda cls: store)
        def make(cls, x: int) -> tuple[str, int]:
            calls.append(x)
            return (cls.__name__, x)

    assert K.make(1) == K().make(1) == ("K", 1) and calls == [1]
    with pytest.raises(TypeError, match="class method"):
        class T:
            @classmethod
            @cachetools.cachedmethod(lambda cls: {})
            def make(cls, x: int) -> int:
                return x

        T.make(1)


def test_cachedmethod_key_none_rejected_at_decoration(fc: SimpleNamespace) -> None:
    with pytest.raises(TypeError, match="key must be callable"):
        fc.cachedmethod(lambda self: {}, key=None)


def test_condition_recursion_into_own_key_does_not_wait_on_itself(fc: SimpleNamespace) -> None:
    cond = threading.Condition()
    depth = [0]

    @fc.cached({}, condition=cond)
    def f(n: int) -> int:
        depth[0] += 1
        return f(n) + 1 if depth[0] == 1 else n  # the same key, from inside its computation

    done: list[int] = []
    t = threading.Thread(target=lambda: done.append(f(5)), daemon=True)
    t.start()
    t.join(30)
    assert done == [6]  # cachetools 8 waits on its own pending key forever here


def test_functools_lru_cache_wrapper_cannot_be_subclassed() -> None:
    # why isinstance(f, functools._lru_cache_wrapper) cannot hold for fastcache's wrappers
    with pytest.raises(TypeError):
        type("Sub", (functools._lru_cache_wrapper,), {})  # type: ignore[attr-defined]
