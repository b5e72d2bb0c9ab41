"""CPython's Lib/test/test_functools.py lru_cache tests (TestLRU, TestCache), ported.

Every test runs over the compiled and the pure-Python call wrapper (the ``dec`` fixture).
Bug numbers are CPython's (bugs.python.org / GitHub issues) where the original names one.
"""

from __future__ import annotations

import builtins
import copy
import functools
import gc
import pickle
import sys
import threading
import time
import unittest.mock
import weakref
from random import choice
from types import ModuleType
from typing import Any

import pytest

from .impls import IMPLS

CacheInfo = functools._CacheInfo  # type: ignore[attr-defined]


def _orig(x: int, y: int) -> int:
    return 3 * x + y


# Module-level decorated functions and methods, one set per implementation (pickle tests).
def _c_or_py(name: str) -> ModuleType:
    return IMPLS[name]


CACHED_FUNCS: dict[str, Any] = {}
HOLDERS: dict[str, Any] = {}
for _name, _mod in IMPLS.items():
    _f = _mod.lru_cache()(_orig)
    _f.__qualname__ = _f.__name__ = f"cached_func_{_name}"
    globals()[f"cached_func_{_name}"] = _f
    CACHED_FUNCS[_name] = _f

    class _Holder:
        @_mod.lru_cache()
        def cached_meth(self, x: int, y: int) -> int:
            return 3 * x + y

        @staticmethod
        @_mod.lru_cache()
        def cached_staticmeth(x: int, y: int) -> int:
            return 3 * x + y

    _Holder.__name__ = _Holder.__qualname__ = f"Holder_{_name}"
    for _attr in ("cached_meth",):
        getattr(_Holder, _attr).__qualname__ = f"Holder_{_name}.{_attr}"
    _Holder.__dict__["cached_staticmeth"].__func__.__qualname__ = (
        f"Holder_{_name}.cached_staticmeth")
    globals()[f"Holder_{_name}"] = _Holder
    HOLDERS[_name] = _Holder


@pytest.fixture()
def impl_name(dec: ModuleType) -> str:
    return next(k for k, v in IMPLS.items() if v is dec)


def test_cache(dec: ModuleType) -> None:
    @dec.cache
    def fib(n: int) -> int:
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    assert [fib(n) for n in range(16)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144,
                                           233, 377, 610]
    assert fib.cache_info() == CacheInfo(hits=28, misses=16, maxsize=None, currsize=16)
    fib.cache_clear()
    assert fib.cache_info() == CacheInfo(hits=0, misses=0, maxsize=None, currsize=0)


def test_lru(dec: ModuleType) -> None:
    f = dec.lru_cache(maxsize=20)(_orig)
    hits, misses, maxsize, currsize = f.cache_info()
    assert (hits, misses, maxsize, currsize) == (0, 0, 20, 0)
    domain = range(5)
    for _ in range(1000):
        x, y = choice(domain), choice(domain)
        assert f(x, y) == _orig(x, y)
    hits, misses, maxsize, currsize = f.cache_info()
    assert hits > misses
    assert hits + misses == 1000
    assert currsize == 20

    f.cache_clear()
    assert f.cache_info() == (0, 0, 20, 0)
    f(x, y)
    assert f.cache_info() == (0, 1, 20, 1)
    # bypassing the cache
    assert f.__wrapped__ is _orig
    f.__wrapped__(x, y)
    assert f.cache_info() == (0, 1, 20, 1)

    f_cnt = 0

    @dec.lru_cache(0)
    def g() -> int:
        nonlocal f_cnt
        f_cnt += 1
        return 20

    assert g.cache_info().maxsize == 0
    for _ in range(5):
        assert g() == 20
    assert f_cnt == 5
    assert g.cache_info() == (0, 5, 0, 0)

    f_cnt = 0

    @dec.lru_cache(1)
    def h() -> int:
        nonlocal f_cnt
        f_cnt += 1
        return 20

    for _ in range(5):
        assert h() == 20
    assert f_cnt == 1
    assert h.cache_info() == (4, 1, 1, 1)

    f_cnt = 0

    @dec.lru_cache(2)
    def k(x: int) -> int:
        nonlocal f_cnt
        f_cnt += 1
        return x * 10

    for x in 7, 9, 7, 9, 7, 9, 8, 8, 8, 9, 9, 9, 8, 8, 8, 7:
        assert k(x) == x * 10
    assert f_cnt == 4
    assert k.cache_info() == (12, 4, 2, 2)


def test_lru_no_args(dec: ModuleType) -> None:
    @dec.lru_cache
    def square(x: int) -> int:
        return x**2

    assert list(map(square, [10, 20, 10])) == [100, 400, 100]
    assert square.cache_info() == (1, 2, 128, 2)


def test_lru_bug_35780(dec: ModuleType) -> None:
    # the wrapper must check whether the user function stored the key meanwhile
    once = True

    @dec.lru_cache(maxsize=10)
    def f(x: int) -> str:
        nonlocal once
        rv = f".{x}."
        if x == 20 and once:
            once = False
            rv = f(x)
        return rv

    for x in range(15):
        assert f(x) == f".{x}."
    assert f.cache_info().currsize == 10
    assert f(20) == ".20."
    assert f.cache_info().currsize == 10


def test_lru_bug_36650(dec: ModuleType) -> None:
    # an empty **kwargs is the same call as no keywords at all
    @dec.lru_cache()
    def f(x: int) -> None:
        pass

    f(0)
    f(0, **{})
    assert f.cache_info().hits == 1


def test_lru_hash_only_once(dec: ModuleType) -> None:
    @dec.lru_cache(maxsize=1)
    def f(x: Any, y: int) -> Any:
        return x * 3 + y

    mock_int = unittest.mock.Mock()
    mock_int.__mul__ = unittest.mock.Mock(return_value=15)
    mock_int.__hash__ = unittest.mock.Mock(return_value=999)

    assert f(mock_int, 1) == 16
    assert mock_int.__hash__.call_count == 1
    assert f.cache_info() == (0, 1, 1, 1)
    assert f(mock_int, 1) == 16
    assert mock_int.__hash__.call_count == 2
    assert f.cache_info() == (1, 1, 1, 1)
    assert f(6, 2) == 20
    assert mock_int.__hash__.call_count == 2
    assert f.cache_info() == (1, 2, 1, 1)
    assert f(mock_int, 1) == 16
    assert mock_int.__hash__.call_count == 3
    assert f.cache_info() == (1, 3, 1, 1)


def test_lru_reentrancy_with_len(dec: ModuleType) -> None:
    old_len = builtins.len
    try:
        builtins.len = dec.lru_cache(4)(len)
        for i in [0, 0, 1, 2, 3, 3, 4, 5, 6, 1, 7, 2, 1]:
            assert len("abcdefghijklmn"[:i]) == i
    finally:
        builtins.len = old_len


def test_lru_star_arg_handling(dec: ModuleType) -> None:
    @dec.lru_cache()
    def f(*args: Any) -> Any:
        return args

    assert f(1, 2) == (1, 2)
    assert f((1, 2)) == ((1, 2),)


def test_lru_type_error(dec: ModuleType) -> None:
    # bpo-28653: an unhashable argument must not leak
    @dec.lru_cache(maxsize=None)
    def infinite_cache(o: Any) -> None:
        pass

    @dec.lru_cache(maxsize=10)
    def limited_cache(o: Any) -> None:
        pass

    with pytest.raises(TypeError):
        infinite_cache([])
    with pytest.raises(TypeError):
        limited_cache([])


def test_lru_with_maxsize_none(dec: ModuleType) -> None:
    @dec.lru_cache(maxsize=None)
    def fib(n: int) -> int:
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    assert [fib(n) for n in range(16)][-1] == 610
    assert fib.cache_info() == CacheInfo(hits=28, misses=16, maxsize=None, currsize=16)
    fib.cache_clear()
    assert fib.cache_info() == CacheInfo(hits=0, misses=0, maxsize=None, currsize=0)


def test_lru_with_maxsize_negative(dec: ModuleType) -> None:
    @dec.lru_cache(maxsize=-10)
    def eq(n: int) -> int:
        return n

    for _ in (0, 1):
        assert [eq(n) for n in range(150)] == list(range(150))
    assert eq.cache_info() == CacheInfo(hits=0, misses=300, maxsize=0, currsize=0)


def test_lru_with_exceptions(dec: ModuleType) -> None:
    # bpo-13177: exceptions pass through unchained, and are not cached
    for maxsize in (None, 128):

        @dec.lru_cache(maxsize)
        def func(i: int) -> str:
            return "abc"[i]

        assert func(0) == "a"
        with pytest.raises(IndexError) as cm:
            func(15)
        assert cm.value.__context__ is None
        with pytest.raises(IndexError):
            func(15)
        assert func.cache_info().misses == 3


def test_lru_with_types(dec: ModuleType) -> None:
    for maxsize in (None, 128):

        @dec.lru_cache(maxsize=maxsize, typed=True)
        def square(x: float) -> float:
            return x * x

        assert square(3) == 9
        assert type(square(3)) is int
        assert square(3.0) == 9.0
        assert type(square(3.0)) is float
        assert square(x=3) == 9
        assert type(square(x=3)) is int
        assert square(x=3.0) == 9.0
        assert type(square(x=3.0)) is float
        assert square.cache_info().hits == 4
        assert square.cache_info().misses == 4


def test_untyped_int_and_float_are_distinct_entries(dec: ModuleType) -> None:
    # as functools: f(3) is keyed by 3 itself and f(3.0) by (3.0,), two entries
    @dec.lru_cache()
    def square(x: float) -> float:
        return x * x

    assert type(square(3)) is int
    assert type(square(3.0)) is float
    assert square.cache_info() == (0, 2, 128, 2)


def test_lru_cache_typed_is_not_recursive(dec: ModuleType) -> None:
    cached = dec.lru_cache(typed=True)(repr)
    assert cached(1) == "1"
    assert cached(True) == "True"
    assert cached(1.0) == "1.0"
    assert cached(0) == "0"
    assert cached(False) == "False"
    assert cached(0.0) == "0.0"
    assert cached((1,)) == "(1,)"
    assert cached((True,)) == "(1,)"
    assert cached((1.0,)) == "(1,)"
    assert cached((0,)) == "(0,)"
    assert cached((False,)) == "(0,)"
    assert cached((0.0,)) == "(0,)"

    class T(tuple[Any, ...]):
        pass

    assert cached(T((1,))) == "(1,)"
    assert cached(T((True,))) == "(1,)"
    assert cached(T((1.0,))) == "(1,)"


@pytest.mark.parametrize("maxsize", [128, None])
def test_lru_with_keyword_args(dec: ModuleType, maxsize: int | None) -> None:
    @dec.lru_cache(maxsize)
    def fib(n: int) -> int:
        if n < 2:
            return n
        return fib(n=n - 1) + fib(n=n - 2)

    assert [fib(n=number) for number in range(16)][-1] == 610
    assert fib.cache_info() == CacheInfo(hits=28, misses=16, maxsize=maxsize, currsize=16)
    fib.cache_clear()
    assert fib.cache_info() == CacheInfo(hits=0, misses=0, maxsize=maxsize, currsize=0)


def test_kwargs_order(dec: ModuleType) -> None:
    # PEP 468: keyword order is preserved, so it is part of the key
    @dec.lru_cache(maxsize=10)
    def f(**kwargs: Any) -> Any:
        return list(kwargs.items())

    assert f(a=1, b=2) == [("a", 1), ("b", 2)]
    assert f(b=2, a=1) == [("b", 2), ("a", 1)]
    assert f.cache_info() == CacheInfo(hits=0, misses=2, maxsize=10, currsize=2)


def test_positional_and_keyword_are_distinct_calls(dec: ModuleType) -> None:
    @dec.lru_cache()
    def f(a: int, b: int = 0) -> int:
        return a + b

    assert f(1, 2) == f(1, b=2) == f(a=1, b=2) == 3
    assert f.cache_info().misses == 3  # as functools: three different keys


def test_lru_cache_decoration(dec: ModuleType) -> None:
    def f(zomg: zomg_annotation) -> int:  # type: ignore[name-defined]  # noqa: F821
        """f doc string"""
        return 42

    g = dec.lru_cache()(f)
    for attr in functools.WRAPPER_ASSIGNMENTS:
        assert getattr(g, attr) == getattr(f, attr)
    assert g.__wrapped__ is f


def test_lru_cache_threaded(dec: ModuleType) -> None:
    n, m = 5, 11
    f = dec.lru_cache(maxsize=n * m)(_orig)
    assert f.cache_info().currsize == 0
    start = threading.Event()
    failures: list[BaseException] = []

    def full(k: int) -> None:
        try:
            start.wait(10)
            for _ in range(m):
                assert f(k, 0) == _orig(k, 0)
        except BaseException as e:  # reported below
            failures.append(e)

    def clear() -> None:
        start.wait(10)
        for _ in range(2 * m):
            f.cache_clear()

    orig_si = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=full, args=[k]) for k in range(n)]
        for t in threads:
            t.start()
        start.set()
        for t in threads:
            t.join()
        hits, misses, _maxsize, currsize = f.cache_info()
        assert misses <= n or dec is IMPLS.get("c")  # functools: "XXX why not equal" for py
        if dec is IMPLS.get("c"):
            assert misses == n
        assert hits + misses == m * n
        assert currsize == n

        threads = [threading.Thread(target=clear)]
        threads += [threading.Thread(target=full, args=[k]) for k in range(n)]
        start.clear()
        for t in threads:
            t.start()
        start.set()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(orig_si)
    assert not failures


def test_lru_cache_threaded2(dec: ModuleType) -> None:
    # simultaneous calls with the same arguments all run (no single flight by default)
    n, m = 5, 7
    start = threading.Barrier(n + 1)
    pause = threading.Barrier(n + 1)
    stop = threading.Barrier(n + 1)

    @dec.lru_cache(maxsize=m * n)
    def f(x: int) -> int:
        pause.wait(10)
        return 3 * x

    assert f.cache_info() == (0, 0, m * n, 0)
    failures: list[BaseException] = []

    def test() -> None:
        try:
            for i in range(m):
                start.wait(10)
                assert f(i) == 3 * i
                stop.wait(10)
        except BaseException as e:  # reported below
            failures.append(e)

    threads = [threading.Thread(target=test) for _ in range(n)]
    for t in threads:
        t.start()
    for i in range(m):
        start.wait(10)
        stop.reset()
        pause.wait(10)
        start.reset()
        stop.wait(10)
        pause.reset()
        assert f.cache_info() == (0, (i + 1) * n, m * n, i + 1)
    for t in threads:
        t.join()
    assert not failures


def test_lru_cache_threaded3(dec: ModuleType) -> None:
    @dec.lru_cache(maxsize=2)
    def f(x: int) -> int:
        time.sleep(0.01)
        return 3 * x

    results: dict[int, int] = {}

    def test(i: int, x: int) -> None:
        results[i] = f(x)

    values = [1, 2, 2, 3, 2]
    threads = [threading.Thread(target=test, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 3 * v for i, v in enumerate(values)}


def test_need_for_rlock(dec: ModuleType) -> None:
    # a reentrant lru_cache call within a single thread, from a key's __eq__
    @dec.lru_cache(maxsize=10)
    def test_func(x: Any) -> Any:
        return x

    class DoubleEq:
        def __init__(self, x: int) -> None:
            self.x = x

        def __hash__(self) -> int:
            return self.x

        def __eq__(self, other: object) -> bool:
            if self.x == 2:
                test_func(DoubleEq(1))
            return self.x == other.x  # type: ignore[attr-defined, no-any-return]

    test_func(DoubleEq(1))
    test_func(DoubleEq(2))
    assert test_func(DoubleEq(2)) == DoubleEq(2)


def test_lru_method(dec: ModuleType) -> None:
    class X(int):
        f_cnt = 0

        @dec.lru_cache(2)
        def f(self, x: int) -> int:
            self.f_cnt += 1
            return x * 10 + self

    a, b, c = X(5), X(5), X(7)
    assert X.f.cache_info() == (0, 0, 2, 0)
    for x in 1, 2, 2, 3, 1, 1, 1, 2, 3, 3:
        assert a.f(x) == x * 10 + 5
    assert (a.f_cnt, b.f_cnt, c.f_cnt) == (6, 0, 0)
    assert X.f.cache_info() == (4, 6, 2, 2)
    for x in 1, 2, 1, 1, 1, 1, 3, 2, 2, 2:
        assert b.f(x) == x * 10 + 5
    assert (a.f_cnt, b.f_cnt, c.f_cnt) == (6, 4, 0)
    assert X.f.cache_info() == (10, 10, 2, 2)
    for x in 2, 1, 1, 1, 1, 2, 1, 3, 2, 1:
        assert c.f(x) == x * 10 + 7
    assert (a.f_cnt, b.f_cnt, c.f_cnt) == (6, 4, 5)
    assert X.f.cache_info() == (15, 15, 2, 2)
    assert a.f.cache_info() == X.f.cache_info()


def test_stacking_with_classmethod_and_staticmethod(dec: ModuleType) -> None:
    class A:
        calls = 0

        @classmethod
        @dec.lru_cache
        def c(cls, x: int) -> tuple[type, int]:
            cls.calls += 1
            return cls, x

        @staticmethod
        @dec.lru_cache
        def s(x: int) -> int:
            A.calls += 1
            return x

    assert A.c(1) == (A, 1)
    assert A().c(1) == (A, 1)
    assert A.s(2) == 2
    assert A().s(2) == 2
    assert A.calls == 2


def test_pickle(impl_name: str) -> None:
    holder = HOLDERS[impl_name]
    for f in (CACHED_FUNCS[impl_name], holder.cached_meth, holder.cached_staticmeth):
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(f, proto)) is f


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy])
def test_copy(impl_name: str, copier: Any) -> None:
    holder = HOLDERS[impl_name]
    part = functools.partial(_orig, 2)
    dec = IMPLS[impl_name]
    for f in (CACHED_FUNCS[impl_name], holder.cached_meth, holder.cached_staticmeth,
              dec.lru_cache(2)(part)):
        assert copier(f) is f


def test_lru_cache_parameters(dec: ModuleType) -> None:
    @dec.lru_cache(maxsize=2)
    def f() -> int:
        return 1

    assert f.cache_parameters() == {"maxsize": 2, "typed": False}

    @dec.lru_cache(maxsize=1000, typed=True)
    def g() -> int:
        return 1

    assert g.cache_parameters() == {"maxsize": 1000, "typed": True}


def test_lru_cache_weakrefable(dec: ModuleType) -> None:
    @dec.lru_cache
    def test_function(x: int) -> int:
        return x

    class A:
        @dec.lru_cache
        def test_method(self, x: int) -> tuple[Any, int]:
            return (self, x)

        @staticmethod
        @dec.lru_cache
        def test_staticmethod(x: int) -> int:
            return x

    refs = [weakref.ref(test_function), weakref.ref(A.test_method),
            weakref.ref(A.test_staticmethod)]
    for ref in refs:
        assert ref() is not None
    del A
    del test_function
    gc.collect()
    for ref in refs:
        assert ref() is None


def test_bad_arguments(dec: ModuleType) -> None:
    with pytest.raises(TypeError, match="Expected first argument"):
        dec.lru_cache("128")
    with pytest.raises(TypeError):
        dec.lru_cache(128)(42)


def test_same_cache_info_type(dec: ModuleType) -> None:
    @dec.lru_cache
    def f(x: int) -> int:
        return x

    f(1)
    ours, theirs = f.cache_info(), functools.lru_cache(lambda x: x).cache_info()
    assert type(ours) is type(theirs)  # functools' own class (unpicklable there too)
    assert ours == (0, 1, 128, 1)


@pytest.mark.parametrize("maxsize", [True, 2**40, sys.maxsize])
def test_maxsize_reported_as_functools(dec: ModuleType, maxsize: int) -> None:
    f = dec.lru_cache(maxsize)(_orig)
    ft = functools.lru_cache(maxsize)(_orig)
    for i in range(3):
        f(i, 0)
        ft(i, 0)
    assert repr(f.cache_info()) == repr(ft.cache_info())  # True reports 1, as in C
    assert f.cache_parameters() == ft.cache_parameters()


def test_maxsize_beyond_ssize(dec: ModuleType) -> None:
    # functools raises OverflowError here (a bug: any int is documented); fastcache caches
    with pytest.raises(OverflowError):
        functools.lru_cache(10**30)(_orig)
    f = dec.lru_cache(10**30)(_orig)
    f(1, 2)
    f(1, 2)
    assert f.cache_info() == (1, 1, 10**30, 1)
