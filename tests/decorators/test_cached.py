"""cached / cachedmethod and fastcache.keys: cachetools' semantics, checked side by side."""

from __future__ import annotations

import pickle
import threading
import time
from types import ModuleType
from typing import Any

import cachetools
import cachetools.keys
import pytest

import fastcache
from fastcache import keys


class CountingLock:
    """A lock that counts how often it is entered."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.count = 0

    def __enter__(self) -> None:
        self.lock.__enter__()
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self.lock.__exit__(*exc)


@pytest.mark.parametrize("key_name", ["hashkey", "typedkey", "methodkey", "typedmethodkey"])
def test_keys_equal_cachetools(key_name: str) -> None:
    ours, theirs = getattr(keys, key_name), getattr(cachetools.keys, key_name)
    receiver: tuple[Any, ...] = (object(),) if "method" in key_name else ()
    for args, kwargs in [((), {}), ((1, "a"), {}), ((1,), {"b": 2, "a": 1.0}),
                         ((None, (1, 2)), {"z": "x"})]:
        a, b = ours(*receiver, *args, **kwargs), theirs(*receiver, *args, **kwargs)
        n = len(args)
        assert a[:n] == b[:n] == args
        assert a[n + 1:] == b[n + 1:]  # past the (library-specific) keyword mark
        assert len(a) == len(b)
        # keyword order does not matter for these keys
        assert a == ours(*receiver, *args, **dict(reversed(list(kwargs.items()))))
        assert hash(a) == hash(ours(*receiver, *args, **kwargs))
    assert keys.hashkey(1, a=2) != keys.hashkey(1, 2)
    assert keys.typedkey(3) != keys.typedkey(3.0)
    assert keys.hashkey(3) == keys.hashkey(3.0)
    assert keys.methodkey(object(), 1) == keys.methodkey(object(), 1)
    assert pickle.loads(pickle.dumps(keys.hashkey(1, a=2))) == keys.hashkey(1, a=2)


def test_cached_same_as_cachetools(dec: ModuleType) -> None:
    ours_cache, theirs_cache = fastcache.LRUCache(5), cachetools.LRUCache(5)

    @dec.cached(ours_cache, info=True)
    def ours(x: int, y: int = 0) -> int:
        return x + y

    @cachetools.cached(theirs_cache, info=True)
    def theirs(x: int, y: int = 0) -> int:
        return x + y

    for i in [1, 2, 3, 1, 2, 9, 8, 7, 1, 1, 5]:
        assert ours(i, y=i % 2) == theirs(i, y=i % 2)
    assert tuple(ours.cache_info()) == tuple(theirs.cache_info())
    assert set(ours_cache) == set(keys.hashkey(*k[:1], y=k[-1][1]) for k in theirs_cache)
    assert ours.cache is ours_cache
    assert ours.cache_key is keys.hashkey
    assert ours.cache_lock is None and ours.cache_condition is None
    assert ours.__wrapped__(2, 3) == 5 and ours.__name__ == "ours"
    ours.cache_clear()
    assert len(ours_cache) == 0 and tuple(ours.cache_info()) == (0, 0, 5, 0)


def test_cached_info_of_a_dict(dec: ModuleType) -> None:
    @dec.cached({}, info=True)
    def f(x: int) -> int:
        return x

    f(1)
    f(1)
    assert tuple(f.cache_info()) == (1, 1, None, 1)
    with pytest.raises(AttributeError):
        dec.cached({})(lambda: 1).cache_info  # noqa: B018  (no info unless asked)
    outer = dec.cached({}, info=True)(f)  # stacked: the outer wrapper's own state wins
    outer(2)
    assert tuple(outer.cache_info()) == (0, 1, None, 1)


def test_cached_with_lock(dec: ModuleType) -> None:
    lock = CountingLock()

    @dec.cached({}, lock=lock)
    def f(x: int) -> int:
        return x

    f(1)  # miss: lookup + store
    f(1)  # hit: lookup
    assert lock.count == 3
    assert f.cache_lock is lock
    f.cache_clear()
    assert lock.count == 4 and f.cache == {}


def test_cached_value_too_large_is_not_stored(dec: ModuleType) -> None:
    cache = fastcache.LRUCache(maxsize=2, getsizeof=len)

    @dec.cached(cache)
    def f(n: int) -> str:
        return "x" * n

    assert f(5) == "xxxxx"  # ValueError("value too large") swallowed
    assert f(1) == "x"
    assert len(cache) == 1


def test_cached_custom_key_and_typed(dec: ModuleType) -> None:
    cache: dict[Any, Any] = {}

    @dec.cached(cache, key=keys.typedkey)
    def f(x: float) -> str:
        return type(x).__name__

    assert (f(1), f(1.0)) == ("int", "float")
    assert len(cache) == 2
    with pytest.raises(TypeError):
        dec.cached(None)


def test_cached_condition_single_flight(dec: ModuleType) -> None:
    calls = 0
    cond = threading.Condition()

    @dec.cached({}, condition=cond, info=True)
    def f(x: int) -> int:
        nonlocal calls
        calls += 1
        time.sleep(0.1)
        return x

    threads = [threading.Thread(target=f, args=(1,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == 1
    assert tuple(f.cache_info()) == (3, 1, None, 1)
    assert f.cache_condition is cond


def test_cached_pickles_and_copies_as_itself(dec: ModuleType) -> None:
    import copy

    f = MODULE_LEVEL[dec.WRAPPER_IMPLEMENTATION]
    assert pickle.loads(pickle.dumps(f)) is f
    assert copy.copy(f) is f and copy.deepcopy(f) is f


class Account:
    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.cache: dict[Any, Any] = {}
        self.lock = CountingLock()
        self.calls = 0


def _make_account_class(dec: ModuleType) -> type[Account]:
    class A(Account):
        @dec.cachedmethod(lambda self: self.cache, lock=lambda self: self.lock, info=True)
        def interest(self, amount: int) -> int:
            self.calls += 1
            return amount * self.rate

    return A


def test_cachedmethod_per_instance(dec: ModuleType) -> None:
    A = _make_account_class(dec)
    a, b = A(2), A(3)
    assert a.interest(10) == 20
    assert a.interest(10) == 20
    assert b.interest(10) == 30
    assert (a.calls, b.calls) == (1, 1)
    assert a.interest.cache is a.cache and a.cache == {(10,): 20}
    assert a.interest.cache_lock is a.lock and a.lock.count == 3
    assert a.interest.cache_key(10) == keys.methodkey(a, 10)
    assert tuple(a.interest.cache_info()) == (1, 1, None, 1)
    assert tuple(b.interest.cache_info()) == (0, 1, None, 1)
    a.interest.cache_clear()
    assert a.cache == {} and tuple(a.interest.cache_info()) == (0, 0, None, 0)
    assert A.interest(b, 10) == 30  # through the class
    assert a.interest.__name__ == "interest" and a.interest.__wrapped__(a, 1) == 2


def test_cachedmethod_same_as_cachetools() -> None:
    class Ours:
        def __init__(self) -> None:
            self.cache = fastcache.LRUCache(3)

        @fastcache.decorators.cachedmethod(lambda self: self.cache)
        def f(self, x: int) -> int:
            return x * 2

    class Theirs:
        def __init__(self) -> None:
            self.cache = cachetools.LRUCache(3)

        @cachetools.cachedmethod(lambda self: self.cache)
        def f(self, x: int) -> int:
            return x * 2

    o, t = Ours(), Theirs()
    for i in [1, 2, 3, 4, 1, 2, 5, 5, 1]:
        assert o.f(i) == t.f(i)
        assert dict(o.cache.items()) == dict(t.cache.items())


def test_cachedmethod_needs_callable_cache(dec: ModuleType) -> None:
    with pytest.raises(TypeError):
        dec.cachedmethod({})


import fastcache.decorators  # noqa: E402  (after the tests that use it by module)

from .impls import IMPLS  # noqa: E402

MODULE_LEVEL: dict[str, Any] = {}
for _impl, _mod in IMPLS.items():

    def _square(x: int) -> int:
        return x * x

    _square.__qualname__ = _square.__name__ = f"cached_square_{_impl}"
    MODULE_LEVEL[_mod.WRAPPER_IMPLEMENTATION] = globals()[_square.__name__] = _mod.cached({})(
        _square)


def test_cached_errors_propagate_and_release_the_lock(dec: ModuleType) -> None:
    lock = threading.Lock()

    class Broken(dict[Any, Any]):
        def __getitem__(self, key: Any) -> Any:
            raise RuntimeError("backend down")  # not a KeyError: never a miss

    @dec.cached(Broken(), lock=lock)
    def f(x: int) -> int:
        return x

    with pytest.raises(RuntimeError, match="backend down"):
        f(1)
    assert lock.acquire(blocking=False)
    lock.release()

    def bad_key(*args: Any) -> Any:
        raise LookupError("no key")

    @dec.cached({}, key=bad_key)
    def g(x: int) -> int:
        return x

    with pytest.raises(LookupError, match="no key"):
        g(1)

    @dec.cached({}, lock=lock)
    def h(x: int) -> int:
        raise ValueError(x)

    with pytest.raises(ValueError):
        h(1)
    assert lock.acquire(blocking=False)  # released on the error path too
    lock.release()


def test_cached_honours_missing_and_sorted_keywords(dec: ModuleType) -> None:
    class Defaulting(dict[Any, Any]):
        def __missing__(self, key: Any) -> str:
            return "default"

    @dec.cached(Defaulting(), info=True)
    def f(**kwargs: Any) -> str:
        return "computed"

    assert f(a=1) == "default"  # cachetools: cache[key] consults __missing__
    assert tuple(f.cache_info())[:2] == (1, 0)

    cache: dict[Any, Any] = {}

    @dec.cached(cache)
    def g(**kwargs: Any) -> int:
        return len(cache)

    assert g(a=1, b=2) == g(b=2, a=1) == 0  # hashkey sorts keywords, as cachetools
    assert len(cache) == 1


def test_cached_binds_as_a_method(dec: ModuleType) -> None:
    class A:
        calls = 0

        @dec.cached({})
        def f(self, x: int) -> int:
            A.calls += 1
            return x

    a, b = A(), A()
    assert a.f(1) == b.f(1) == a.f(1) == 1
    assert A.calls == 2  # self is part of the key


class Priced:
    """Module level, so that instances (and their cached methods) pickle."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.cache: dict[Any, Any] = {}

    @fastcache.decorators.cachedmethod(lambda self: self.cache, info=True)
    def price(self, n: int) -> int:
        return n * self.rate


def test_cachedmethod_pickles_and_reads_the_cache_each_call() -> None:
    p = Priced(3)
    assert p.price(2) == 6
    assert p.price.cache is p.cache
    p.cache = {}  # replaced: the wrapper asks cache(self) on every call, as cachetools
    assert p.price(2) == 6
    assert p.cache == {(2,): 6}
    assert tuple(p.price.cache_info()) == (0, 2, None, 1)
    clone = pickle.loads(pickle.dumps(p))
    assert clone.price(2) == 6 and clone.rate == 3
    bound = pickle.loads(pickle.dumps(p.price))
    assert bound(5) == 15


def test_cache_getter_shapes_read_as_attributes() -> None:
    from fastcache._cached import _attribute_getter_name as name_of

    def store(self: Any) -> Any:
        return self.store

    y = 3
    assert name_of(lambda self: self.cache) == "cache"
    assert name_of(store) == "store"
    for other in (lambda self: self.a.b, lambda self: self.c(), lambda self, x=1: self.c,
                  lambda self: y, lambda self: self, lambda *a: a[0].x, len, print):
        assert name_of(other) is None
