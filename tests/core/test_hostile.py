"""Hostile keys and values: exceptions from ``__hash__``/``__eq__`` propagate (never a miss),
``__eq__`` that mutates the same cache, ``__del__`` that touches it."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from .support import POLICIES, make


class BadHash:
    def __hash__(self) -> int:
        raise ZeroDivisionError("hash")


class Stored:
    """A stored key that collides with the hostile ones (default identity ``__eq__``)."""

    def __hash__(self) -> int:
        return 7


class BadEq:
    def __hash__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        raise ValueError("eq")


class Churner:
    """Collides with ``victim``; each comparison removes and re-inserts it (``times`` times):
    the table the lookup was walking has changed."""

    def __init__(self, cache: Any, victim: Any, times: float) -> None:
        self.cache = cache
        self.victim = victim
        self.times = times
        self.comparisons = 0
        self.busy = False

    def __hash__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        self.comparisons += 1
        if self.times > 0 and other is self.victim and not self.busy:
            self.times -= 1
            self.busy = True  # the re-insertion may compare the victim with this key
            try:
                value = self.cache.pop(self.victim)
                self.cache[self.victim] = value
            finally:
                self.busy = False
        return self is other


def operations(c: Any, key: Any) -> list[Callable[[], Any]]:
    return [lambda: c[key], lambda: c.get(key), lambda: key in c,
            lambda: c.__setitem__(key, 1), lambda: c.__delitem__(key),
            lambda: c.pop(key, None), lambda: c.peek(key), lambda: c.setdefault(key, 1)]


@pytest.mark.parametrize("name", POLICIES)
def test_hash_exception_propagates(impl: ModuleType, name: str) -> None:
    c = make(impl, name, 10)
    c[1] = 1
    for op in operations(c, BadHash()):
        with pytest.raises(ZeroDivisionError):
            op()
    assert dict(c.items()) == {1: 1}
    c._check()


@pytest.mark.parametrize("name", POLICIES)
def test_eq_exception_propagates(impl: ModuleType, name: str) -> None:
    c = make(impl, name, 10)
    stored = Stored()
    c[stored] = "s"
    for op in operations(c, BadEq()):
        with pytest.raises(ValueError, match="eq"):
            op()
    assert len(c) == 1 and c[stored] == "s"
    c._check()


@pytest.mark.parametrize("name", POLICIES)
def test_eq_that_mutates_a_few_times(impl: ModuleType, name: str) -> None:
    c = make(impl, name, 10)
    victim = Stored()
    c[victim] = "v"
    c[1] = 1
    key = Churner(c, victim, 3)
    assert c.get(key) is None and key.comparisons >= 2
    key.times = 3
    assert key not in c
    key.times = 3
    c[key] = "k"
    key.times = 3
    assert c[key] == "k" and c[victim] == "v" and len(c) == 3
    c._check()


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("op", ["get", "getitem", "contains", "setitem", "pop"])
def test_eq_that_keeps_mutating(impl: ModuleType, name: str, op: str) -> None:
    c = make(impl, name, 10)
    victim = Stored()
    c[victim] = "v"
    key = Churner(c, victim, float("inf"))
    run = {"get": lambda: c.get(key), "getitem": lambda: c[key], "contains": lambda: key in c,
           "setitem": lambda: c.__setitem__(key, 1), "pop": lambda: c.pop(key, None)}[op]
    with pytest.raises(RuntimeError, match="cache changed during lookup"):
        run()
    assert key.comparisons < 1000
    c._check()
    key.times = 0
    assert key not in c


def first(keys: Any) -> Any:
    return keys[0]


class Touchy:
    """A value (or key) whose ``__del__`` reads and writes the cache that dropped it."""

    def __init__(self, box: dict[str, Any], n: int) -> None:
        self.box = box
        self.n = n

    def __hash__(self) -> int:
        return hash(self.n)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Touchy) and other.n == self.n

    def __del__(self) -> None:
        c = self.box.get("cache")
        if c is None:
            return
        try:
            c._check()
            len(c)
            list(c)
            c.get("probe")
            c["written by __del__"] = 0
            self.box["deletions"] += 1
        except Exception as exc:
            self.box["errors"].append(exc)


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("role", ["value", "key"])
def test_del_touching_the_cache(impl: ModuleType, name: str, role: str) -> None:
    box: dict[str, Any] = {"errors": [], "deletions": 0}
    c = make(impl, name, 4, **({"choice": first} if name == "RRCache" else {}))
    box["cache"] = c

    def put(n: int) -> None:
        if role == "value":
            c[n] = Touchy(box, n)
        else:
            c[Touchy(box, n)] = n

    for n in range(12):  # evictions
        put(n)
    if role == "value":
        c[11] = "replaced"  # drops a Touchy value
    for k in list(c):
        if k != "written by __del__":
            del c[k]
            break
    put(20)
    put(21)
    c.popitem()
    c.clear()
    box["cache"] = None
    assert box["errors"] == []
    assert box["deletions"] >= 8
    c._check()


def test_recursive_missing(impl: ModuleType) -> None:
    class Fib(impl.LRUCache):  # type: ignore[name-defined, misc]
        def __missing__(self, n: int) -> int:
            value = n if n < 2 else self[n - 1] + self[n - 2]
            self[n] = value
            return value

    f = Fib(1000)
    assert f[300] == 222232244629420445529739893461909967206666939096499764990979600
    f._check()
