"""The compiled module's heap types and per-module state (PEP 489, PEP 573).

Each module object (each interpreter's import, or a second exec of the spec) makes its own
types and shared objects; a cache reaches them through its type, never through a C global.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import pickle
import sys
import textwrap
import weakref
from types import ModuleType

import pytest

from .support import POLICIES

CACHE_TYPES = POLICIES  # Cache included
# constructor arguments, beyond maxsize
EXTRA = {"TTLCache": (600,), "TLRUCache": (lambda k, v, now: now + 600,)}


@pytest.fixture
def core() -> ModuleType:
    import fastcache

    if fastcache.IMPLEMENTATION != "c":
        pytest.skip("the compiled core is not in use")
    import fastcache._core

    return fastcache._core


def items(cache: object) -> dict[object, object]:
    """The entries, in order (the bare compiled types have no keys()/items())."""
    return {k: cache[k] for k in list(cache)}  # type: ignore[attr-defined,index]


def fresh_instance(core: ModuleType) -> ModuleType:
    """A second, independent module object from fastcache._core's spec."""
    spec = core.__spec__
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_instances_have_their_own_types(core: ModuleType) -> None:
    other = fresh_instance(core)
    for name in (*CACHE_TYPES, "_Timer", "_lru_cache_wrapper", "_cached_wrapper"):
        mine, theirs = getattr(core, name), getattr(other, name)
        assert mine is not theirs
        assert (mine.__module__, mine.__qualname__) == (theirs.__module__, theirs.__qualname__)
    assert not issubclass(other.LRUCache, core.Cache)
    assert issubclass(other.LRUCache, other.Cache)
    # the interned causes are the same strings (one interpreter)
    assert other.EVICTED is core.EVICTED


@pytest.mark.parametrize("name", POLICIES)
def test_second_instance_works(core: ModuleType, name: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    other = fresh_instance(core)
    evicted: list[object] = []
    cache = getattr(other, name)(3, *EXTRA.get(name, ()),
                                 on_evict=lambda k, v, cause: evicted.append(k))
    for k in range(5):
        cache[k] = k * 10
    assert len(cache) == 3 and len(evicted) == 2
    assert type(iter(cache)) is not type(iter(getattr(core, name)(1, *EXTRA.get(name, ()))))
    if name in ("TTLCache", "TLRUCache"):
        assert type(cache.timer) is other._Timer
    if name == "TLRUCache":
        return  # its ttu is a lambda: not picklable
    plain = getattr(other, name)(3, *EXTRA.get(name, ()))
    for k, v in items(cache).items():
        plain[k] = v
    # pickling by name finds the module in sys.modules: make it this one
    monkeypatch.setitem(sys.modules, "fastcache._core", other)
    copy = pickle.loads(pickle.dumps(plain))
    assert type(copy) is type(plain) and items(copy) == items(plain)


def test_restore_checks_its_own_types(core: ModuleType) -> None:
    other = fresh_instance(core)
    cache = other.LRUCache(2)
    cache[1] = 1
    _, args, state = cache.__reduce__()
    restored = other._restore(*args)
    restored.__setstate__(state)
    assert type(restored) is other.LRUCache and items(restored) == {1: 1}
    with pytest.raises(TypeError, match="cache type"):
        other._restore(core.LRUCache, {})


def test_subclass_of_second_instance(core: ModuleType) -> None:
    other = fresh_instance(core)
    popped: list[object] = []

    class Mine(other.LRUCache):  # type: ignore[name-defined,misc]
        def popitem(self) -> tuple[object, object]:
            pair: tuple[object, object] = super().popitem()
            popped.append(pair[0])
            return pair

        def __missing__(self, key: object) -> object:
            return ("missing", key)

    cache = Mine(2)
    for k in range(4):
        cache[k] = k
    assert popped == [0, 1] and cache[9] == ("missing", 9)


@pytest.mark.parametrize("name", (*CACHE_TYPES, "_Timer", "_lru_cache_wrapper",
                                  "_cached_wrapper"))
def test_types_are_immutable(core: ModuleType, name: str) -> None:
    tp = getattr(core, name)
    with pytest.raises(TypeError):
        tp.popitem = None
    with pytest.raises(TypeError):
        tp.extra = 1
    assert not hasattr(tp, "extra")


def test_key_iterator_not_instantiable(core: ModuleType) -> None:
    with pytest.raises(TypeError):
        type(iter(core.LRUCache(1)))()


def test_python_subclass_still_mutable(core: ModuleType) -> None:
    class Sub(core.LRUCache):  # type: ignore[name-defined,misc]
        pass

    Sub.extra = 1
    cache = Sub(1)
    cache[1] = 1
    cache[2] = 2
    assert items(cache) == {2: 2} and cache.extra == 1


@pytest.mark.parametrize("name", CACHE_TYPES)
def test_cycle_through_dynamic_subclass_is_collected(core: ModuleType, name: str) -> None:
    sub = type("Sub", (getattr(core, name),), {})
    cache = sub(3, *EXTRA.get(name, ()))
    cache["self"] = cache
    cache["type"] = sub
    ref = weakref.ref(sub)
    del sub, cache
    gc.collect()
    assert ref() is None


def _subinterpreters() -> ModuleType:
    if sys.version_info < (3, 12):
        pytest.skip("per-interpreter GIL needs Python 3.12+")
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            return importlib.import_module(name)
        except ImportError:
            pass
    pytest.skip("no low-level subinterpreter module (_interpreters, _xxsubinterpreters)")


def test_works_in_an_isolated_subinterpreter(core: ModuleType) -> None:
    interpreters = _subinterpreters()
    read, write = os.pipe()
    script = textwrap.dedent(f"""
        import os
        import fastcache._core as core
        c = core.LRUCache(3)
        for k in range(10):
            c[k] = k
        w = core._lru_cache_wrapper(lambda x: x * 2, 4, False, lambda *a: a)
        assert [w(i) for i in range(6)] == [0, 2, 4, 6, 8, 10]
        os.write({write}, f"{{len(c)}} {{sorted(c)}} {{w.cache_info()}}".encode())
    """)
    # the default config is isolated: its own GIL, and only modules that declare support
    interp = interpreters.create()
    try:
        failure = interpreters.run_string(interp, script)
    finally:
        interpreters.destroy(interp)
        os.close(write)
        with os.fdopen(read) as f:
            out = f.read()
    assert failure is None, failure
    assert out == "3 [7, 8, 9] (0, 6, 4, 4)"
