"""Hostile keys and values: exceptions from ``__hash__``/``__eq__`` propagate (never a miss),
``__eq__`` that mutates the same cache, ``__del__`` that touches it."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from .fuzz_support import impl_name
from .support import POLICIES, Recorder, make, size_of_value


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


class Refiller:
    """A restored key colliding with the others: the first comparison after ``act`` is set
    runs it (once), from inside ``__setstate__``'s lookup of a restored key."""

    act: Callable[[], Any] | None = None

    def __init__(self, name: str) -> None:
        self.name = name

    def __hash__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        act, Refiller.act = Refiller.act, None
        if act is not None:
            act()
        return self is other

    def __repr__(self) -> str:
        return f"Refiller({self.name!r})"


def never(keys: Any) -> Any:
    raise AssertionError("choice() called")


def restore(impl: ModuleType, name: str, sized: bool, act: Callable[[Any], Any]
            ) -> tuple[Any, Recorder, BaseException | None]:
    """A cache restored (``__setstate__``, in place) from the state of one holding two colliding
    keys, ``act(cache)`` running from the second key's lookup (RR's ``choice`` must not run);
    its listener; what the restore raised."""
    listener = Recorder()
    kw: dict[str, Any] = {"on_evict": listener}
    if name == "RRCache":
        kw["choice"] = never

    def new() -> Any:
        return make(impl, name, 10 if sized else 3, size_of_value if sized else None, **kw)

    c = new()
    c[Refiller("a")] = 3
    c[Refiller("b")] = 3
    state = c.__reduce__()[2] if impl_name(impl) == "c" else c.__getstate__()
    d = new()
    Refiller.act = lambda: act(d)
    error = None
    try:
        d.__setstate__(state)
    except Exception as exc:
        error = exc
    finally:
        Refiller.act = None
    d._check()
    assert d.currsize <= d.maxsize
    return d, listener, error


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("sized", [False, True])
def test_setstate_keeps_maxsize_when_user_code_fills_the_room(
        impl: ModuleType, name: str, sized: bool) -> None:
    """Nested writes from a restored key's ``__eq__`` fill the room checked before its lookup:
    the policy's own victims are evicted (reported; never RR's ``choice``), the key stored."""

    def fill(d: Any) -> None:
        for k in (100, 101):
            d[k] = 3

    d, listener, error = restore(impl, name, sized, fill)
    assert error is None
    keys = {getattr(k, "name", k) for k in d}
    assert "b" in keys and len(keys) == len(d) == 3
    assert d.currsize == (9 if sized else 3)
    evicted = listener.causes("evicted")
    assert len(evicted) == 1
    assert {getattr(k, "name", k) for k, _ in evicted} | keys == {"a", "b", 100, 101}


@pytest.mark.parametrize("name", POLICIES)
def test_setstate_stops_when_user_code_reinitialises(impl: ModuleType, name: str) -> None:
    """``__init__`` from a restored key's ``__eq__``: the restore stops with RuntimeError, the
    cache consistent (emptied by the ``__init__``; the key not stored)."""

    def reinit(d: Any) -> None:
        make(impl, name, 3, cls=lambda *a, **kw: d.__init__(*a, **kw))
        d[100] = 1

    d, _, error = restore(impl, name, False, reinit)
    assert isinstance(error, RuntimeError), error
    assert "re-initialised during __setstate__" in str(error)
    assert list(d) == [100]
