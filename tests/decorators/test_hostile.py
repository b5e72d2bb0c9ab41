"""Hostile input for the call wrappers: reentrant keys, failing hashes, deep recursion,
reference cycles, finalizers that call back, and threads hammering one wrapper."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import weakref
from types import ModuleType
from typing import Any

import pytest


class Key:
    """A key whose __eq__ runs a callback (reentrancy) before comparing."""

    def __init__(self, x: int, on_eq: Any = None) -> None:
        self.x = x
        self.on_eq = on_eq

    def __hash__(self) -> int:
        return 7  # every Key collides: lookups must compare

    def __eq__(self, other: object) -> bool:
        if self.on_eq is not None:
            self.on_eq()
        return isinstance(other, Key) and self.x == other.x


@pytest.mark.parametrize("maxsize", [4, None])
def test_eq_that_clears_the_cache(dec: ModuleType, maxsize: int | None) -> None:
    @dec.lru_cache(maxsize)
    def f(k: Key) -> int:
        return k.x

    f(Key(1))
    assert f(Key(2, on_eq=f.cache_clear)) == 2
    assert f(Key(3, on_eq=f.cache_clear)) == 3
    hits, _misses, _, currsize = f.cache_info()
    assert hits == 0 and currsize <= 1


@pytest.mark.parametrize("maxsize", [8, None])
def test_eq_that_grows_the_cache(dec: ModuleType, maxsize: int | None) -> None:
    counter = iter(range(1000, 100000))

    @dec.lru_cache(maxsize)
    def f(k: Any) -> Any:
        return k

    rounds = 3

    def grow() -> None:  # enough inserts to resize the table mid-lookup, a few times
        nonlocal rounds
        if rounds > 0:
            rounds -= 1
            for _ in range(20):
                f(next(counter))

    for i in range(5):
        f(Key(i))
    assert f(Key(4, on_eq=grow)).x == 4
    assert f(Key(1)).x == 1
    if maxsize is not None:
        assert f.cache_info().currsize <= maxsize


def test_eq_that_always_mutates_gives_up_cleanly(dec: ModuleType) -> None:
    # each comparison changes the cache: the compiled wrapper restarts its lookup and gives
    # up after 100 rounds (RuntimeError); a dict (the twin) restarts only on resizes.
    counter = iter(range(1000, 10**9))

    @dec.lru_cache(None)
    def f(k: Any) -> Any:
        return k

    f(Key(1))
    try:
        assert f(Key(1, on_eq=lambda: f(next(counter)))).x == 1
    except RuntimeError as e:
        assert dec.WRAPPER_IMPLEMENTATION == "c"
        assert "cache changed during lookup" in str(e)
    assert f(Key(1)).x == 1


def test_eq_error_propagates(dec: ModuleType) -> None:
    def boom() -> None:
        raise ZeroDivisionError

    @dec.lru_cache(4)
    def f(k: Key) -> int:
        return k.x

    stored = Key(1)
    f(stored)
    stored.on_eq = boom  # the stored key's __eq__ runs first (stored == probe)
    with pytest.raises(ZeroDivisionError):
        f(Key(1))  # never turned into a miss
    assert f.cache_info().misses == 1


def test_hash_error_propagates(dec: ModuleType) -> None:
    class BadHash:
        def __hash__(self) -> int:
            raise ValueError("no hash")

    @dec.lru_cache(4)
    def f(*args: Any, **kwargs: Any) -> int:
        return 1

    with pytest.raises(ValueError, match="no hash"):
        f(1, BadHash())
    with pytest.raises(ValueError, match="no hash"):
        f(1, k=BadHash())
    assert f.cache_info() == (0, 0, 4, 0)


def test_finalizers_calling_back_during_eviction(dec: ModuleType) -> None:
    calls: list[int] = []

    @dec.lru_cache(2)
    def f(x: Any) -> Any:
        return Noisy(x) if isinstance(x, int) and x >= 0 else x

    class Noisy:
        def __init__(self, x: int) -> None:
            self.x = x

        def __del__(self) -> None:  # runs when the evicted value is released
            calls.append(self.x)
            f(-self.x - 1)
            f.cache_info()

    for i in range(50):
        assert f(i).x == i
    assert f.cache_info().currsize == 2
    assert len(calls) >= 40


def test_cycle_through_the_cache_is_collected(dec: ModuleType) -> None:
    class Node:
        pass

    def make() -> weakref.ref[Any]:
        @dec.lru_cache(8)
        def f(x: int) -> Node:
            n = Node()
            n.f = f  # type: ignore[attr-defined]  # value -> wrapper -> cache -> value
            return n

        f(1)
        return weakref.ref(f)

    ref = make()
    gc.collect()
    assert ref() is None


def test_exceptions_are_not_cached(dec: ModuleType) -> None:
    attempts = 0

    @dec.lru_cache(4)
    def flaky(x: int) -> int:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise OSError("try again")
        return x

    for _ in range(2):
        with pytest.raises(OSError):
            flaky(1)
    assert flaky(1) == 1
    assert flaky(1) == 1
    assert attempts == 3
    assert flaky.cache_info() == (1, 3, 4, 1)


def test_big_keys_and_many_entries(dec: ModuleType) -> None:
    @dec.lru_cache(None)
    def f(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return args + tuple(kwargs.items())

    for i in range(3000):
        assert f(i, str(i), k=(i,)) == (i, str(i), ("k", (i,)))
    for i in range(3000):
        assert f(i, str(i), k=(i,)) == (i, str(i), ("k", (i,)))
    assert f.cache_info() == (3000, 3000, None, 3000)


DEEP = """
import sys
sys.setrecursionlimit(1_000_000)
sys.path.insert(0, {root!r})
from tests.decorators.impls import IMPLS
dec = IMPLS[{impl!r}]

@dec.lru_cache({maxsize})
def depth(n):
    return 0 if n == 0 else depth(n - 1) + 1

try:
    print(depth(300_000))
except RecursionError:
    print("RecursionError")
print(depth(100))

import threading
threading.stack_size(1 << 20)  # a small thread stack: the guard must see it
out = []
def deep_in_thread():
    depth.cache_clear()
    try:
        out.append(str(depth(300_000)))
    except RecursionError:
        out.append("RecursionError")
t = threading.Thread(target=deep_in_thread)
t.start()
t.join()
print(out[0])
"""


@pytest.mark.parametrize("maxsize", [None, 128])
def test_recursion_beyond_the_c_stack_never_crashes(dec: ModuleType, maxsize: Any) -> None:
    from .impls import IMPLS

    impl = next(k for k, v in IMPLS.items() if v is dec)
    if impl == "py" and sys.version_info < (3, 11):
        pytest.skip("CPython 3.10 runs pure-Python calls on the C stack: 300,000 nested "
                    "Python frames under a recursion limit of 1,000,000 crash the "
                    "interpreter itself, whatever the code (3.11+ keeps them off it)")
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    code = textwrap.dedent(DEEP.format(root=root, impl=impl, maxsize=maxsize))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second, in_thread = proc.stdout.split()
    assert first in ("300000", "RecursionError")
    assert second == "100"
    assert in_thread in ("300000", "RecursionError")


def test_eight_threads_mixed_calls(dec: ModuleType) -> None:
    maxsize, calls_per_thread = 64, 20_000
    seen_over: list[int] = []

    @dec.lru_cache(maxsize)
    def f(x: Any, y: int = 0) -> Any:
        return (x, y)

    def work(seed: int) -> None:
        import random

        rnd = random.Random(seed)
        for i in range(calls_per_thread):
            x = rnd.randrange(150)
            r = rnd.random()
            if r < 0.4:
                assert f(x) == (x, 0)
            elif r < 0.7:
                assert f(str(x), y=x) == (str(x), x)
            else:
                assert f(x, x) == (x, x)
            if i % 1000 == 0:
                size = f.cache_info().currsize
                if size > maxsize:
                    seen_over.append(size)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    hits, misses, _, currsize = f.cache_info()
    assert not seen_over
    assert currsize <= maxsize
    assert hits + misses == 8 * calls_per_thread
