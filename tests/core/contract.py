"""The mapping contract every policy honours (docs/core-spec.md), as a mixin.

Each ``test_<policy>.py`` subclasses ``MappingContract`` with ``NAME`` set and adds the tests of
its own eviction order (the cachetools ``CacheTestMixin`` idea). Every test runs against both
implementations through the ``impl`` fixture.
"""

from __future__ import annotations

import collections.abc
import copy
import math
import pickle
from types import ModuleType
from typing import Any

import pytest

from .support import Recorder, make, size_of_value


class MappingContract:
    NAME = ""

    def cache(self, impl: ModuleType, maxsize: Any = 3, getsizeof: Any = None,
              **kw: Any) -> Any:
        return make(impl, self.NAME, maxsize, getsizeof, **kw)

    def subclass(self, impl: ModuleType, body: dict[str, Any]) -> Any:
        return type("My" + self.NAME, (getattr(impl, self.NAME),), body)

    # -- basics -------------------------------------------------------------------------------

    def test_empty(self, impl: ModuleType) -> None:
        c = self.cache(impl)
        assert len(c) == 0 and c.currsize == 0 and c.maxsize == 3
        assert list(c) == [] and 1 not in c
        assert c.get(1) is None and c.get(1, "x") == "x" and c.peek(1, "y") == "y"
        with pytest.raises(KeyError) as info:
            c[1]
        assert info.value.args == (1,)
        with pytest.raises(KeyError) as info:
            c.popitem()
        assert info.value.args == (f"{self.NAME} is empty",)
        with pytest.raises(KeyError):
            del c[1]
        with pytest.raises(KeyError):
            c.pop(1)
        assert c.pop(1, "d") == "d"
        c._check()

    def test_insert_get(self, impl: ModuleType) -> None:
        c = self.cache(impl, 3)
        c[1], c[2] = "a", "b"
        assert len(c) == 2 and c.currsize == 2
        assert c[1] == "a" and c.get(2) == "b" and c.peek(1) == "a"
        assert 1 in c and 3 not in c
        assert sorted(c) == [1, 2]
        c._check()

    def test_is_a_mutable_mapping(self, impl: ModuleType) -> None:
        c = self.cache(impl, 10)
        assert isinstance(c, collections.abc.MutableMapping)
        assert isinstance(c, impl.Cache)
        c.update({1: "a", 2: "b"}, x="y")
        assert dict(c.items()) == {1: "a", 2: "b", "x": "y"}
        assert sorted(c.keys(), key=str) == [1, 2, "x"]
        assert sorted(c.values()) == ["a", "b", "y"]
        assert c == {1: "a", 2: "b", "x": "y"}

    def test_replace(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 2, on_evict=rec)
        c[1] = "a"
        c[1] = "b"
        assert c[1] == "b" and len(c) == 1 and c.currsize == 1
        assert rec.calls == [(1, "a", "replaced")]
        c._check()

    def test_delete_and_pop(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 3, on_evict=rec)
        c[1], c[2] = "a", "b"
        del c[1]
        assert 1 not in c and len(c) == 1
        with pytest.raises(KeyError) as info:
            del c[1]
        assert info.value.args == (1,)
        assert c.pop(2) == "b" and len(c) == 0
        with pytest.raises(KeyError) as info:
            c.pop(2)
        assert info.value.args == (2,)
        assert c.pop(2, None) is None
        assert rec.calls == [(1, "a", "deleted"), (2, "b", "deleted")]
        c._check()

    def test_setdefault(self, impl: ModuleType) -> None:
        c = self.cache(impl, 3)
        assert c.setdefault(1, "a") == "a"
        assert c.setdefault(1, "b") == "a"
        assert c.setdefault(2) is None and c[2] is None
        assert len(c) == 2

    def test_get_does_not_call_missing(self, impl: ModuleType) -> None:
        calls: list[Any] = []

        def __missing__(self: Any, key: Any) -> Any:
            calls.append(key)
            self[key] = value = f"computed {key}"
            return value

        c = make(impl, self.NAME, 3, cls=self.subclass(impl, {"__missing__": __missing__}))
        assert c.get(1) is None and 1 not in c and c.peek(1) is None
        assert calls == []
        assert c[1] == "computed 1" and calls == [1]
        assert c[1] == "computed 1" and calls == [1]  # stored by __missing__
        assert c.setdefault(2, "x") == "x" and calls == [1]
        c._check()

    def test_missing_may_not_store(self, impl: ModuleType) -> None:
        def __missing__(self: Any, key: Any) -> Any:
            return -key

        c = make(impl, self.NAME, 3, cls=self.subclass(impl, {"__missing__": __missing__}))
        assert c[5] == -5 and 5 not in c and len(c) == 0

    def test_popitem_returns_pairs_until_empty(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 5, on_evict=rec)
        for k in range(5):
            c[k] = str(k)
        popped = [c.popitem() for _ in range(5)]
        assert sorted(popped) == [(k, str(k)) for k in range(5)]
        assert rec.calls == []  # the user got the pairs: nothing is reported
        with pytest.raises(KeyError):
            c.popitem()

    def test_eviction_order_matches_iteration(self, impl: ModuleType) -> None:
        """``iter()`` lists the keys in the order ``popitem()`` would remove them."""
        c = self.cache(impl, 6)
        for k in range(6):
            c[k] = k
        for k in (3, 1, 3, 5):
            c[k]
        c[0] = "replaced"
        order = list(c)
        popped = [c.popitem()[0] for _ in range(6)]
        if self.NAME == "RRCache":  # choice=min over the keys
            assert popped == sorted(order)
        elif self.NAME in ("SIEVECache", "S3FIFOCache"):
            # their queue order: the hand or the frequencies decide (test_sieve, test_s3fifo)
            assert sorted(popped) == sorted(order)
        else:
            assert popped == order

    def test_clear(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 3, on_evict=rec)
        c[1], c[2] = 1, 2
        c.clear()
        assert len(c) == 0 and c.currsize == 0 and list(c) == [] and rec.calls == []
        c[3] = 3
        assert list(c) == [3]
        c._check()

    def test_read_only_properties(self, impl: ModuleType) -> None:
        c = self.cache(impl, 3)
        with pytest.raises(AttributeError):
            c.maxsize = 5
        with pytest.raises(AttributeError):
            c.currsize = 5
        assert c.maxsize == 3

    def test_repr(self, impl: ModuleType) -> None:
        c = self.cache(impl, 3)
        c[1], c["b"] = "a", [2]
        assert repr(c) == f"{self.NAME}({{1: 'a', 'b': [2]}}, maxsize=3, currsize=2)"
        sub = make(impl, self.NAME, 3, cls=self.subclass(impl, {}))
        assert repr(sub) == f"My{self.NAME}({{}}, maxsize=3, currsize=0)"
        with pytest.raises(KeyError) as info:
            sub.popitem()
        assert info.value.args == (f"My{self.NAME} is empty",)

    # -- sizes --------------------------------------------------------------------------------

    def test_default_getsizeof(self, impl: ModuleType) -> None:
        c = self.cache(impl, 3)
        assert c.getsizeof("anything") == 1
        assert getattr(impl, self.NAME).getsizeof(object()) == 1  # a static method

    def test_getsizeof_argument(self, impl: ModuleType) -> None:
        c = self.cache(impl, 10, size_of_value)
        assert c.getsizeof(4) == 4
        c[1], c[2] = 3, 4
        assert c.currsize == 7 and len(c) == 2
        c[3] = 3
        assert c.currsize <= 10 and 3 in c
        assert c.currsize == sum(c.peek(k) for k in c)
        c._check()

    def test_getsizeof_override(self, impl: ModuleType) -> None:
        def getsizeof(self: Any, value: Any) -> int:
            return len(value)

        c = make(impl, self.NAME, 5, cls=self.subclass(impl, {"getsizeof": getsizeof}))
        c[1] = "abc"
        assert c.currsize == 3
        c[2] = "de"
        assert c.currsize == 5
        c[3] = "f"
        assert c.currsize <= 5 and 3 in c
        with pytest.raises(ValueError, match="value too large"):
            c[4] = "abcdef"
        c._check()

    def test_bad_sizes(self, impl: ModuleType) -> None:
        c = self.cache(impl, 10, size_of_value)
        c[1] = 2
        for bad in (1.0, "1", None, [1]):
            with pytest.raises(TypeError):
                c[2] = bad
            with pytest.raises(TypeError):
                c[1] = bad
        with pytest.raises(ValueError, match="value size must be non-negative"):
            c[2] = -1
        with pytest.raises(ValueError, match="value too large"):
            c[2] = 11
        with pytest.raises(ValueError, match="value too large"):
            c[1] = 11
        with pytest.raises(ValueError, match="value too large"):
            c[1] = 10**100
        assert dict(c.items()) == {1: 2} and c.currsize == 2  # unchanged
        c[3] = 0
        assert c.currsize == 2 and 3 in c
        c._check()

    def test_getsizeof_raising(self, impl: ModuleType) -> None:
        def getsizeof(value: Any) -> int:
            raise ZeroDivisionError("boom")

        c = self.cache(impl, 10, getsizeof)
        with pytest.raises(ZeroDivisionError):
            c[1] = 1
        assert len(c) == 0 and c.currsize == 0
        c._check()

    def test_maxsize_zero(self, impl: ModuleType) -> None:
        c = self.cache(impl, 0)
        for key in (1, "a", (1, 2)):
            with pytest.raises(ValueError, match="value too large"):
                c[key] = key
        assert len(c) == 0
        z = self.cache(impl, 0, size_of_value)
        z[1] = 0  # a zero-sized value fits
        assert 1 in z

    def test_unbounded(self, impl: ModuleType) -> None:
        c = self.cache(impl, math.inf)
        for k in range(1000):
            c[k] = k
        assert len(c) == 1000 and c.maxsize == math.inf
        big = self.cache(impl, math.inf, size_of_value)
        big[1] = 2**61
        big[2] = 2**61
        assert big.currsize == 2**62
        with pytest.raises(ValueError, match="value too large"):
            big[3] = 10**30  # sizes are bounded by sys.maxsize // 2, even when unbounded
        assert 3 not in big
        big._check()

    def test_insert_evicts_until_it_fits(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 10, size_of_value, on_evict=rec)
        for k in range(5):
            c[k] = 2
        c[9] = 7  # needs room for 7: four entries of 2 must go
        assert c.currsize == 9 and len(c) == 2 and c[9] == 7
        assert [cause for _k, _v, cause in rec.calls] == ["evicted"] * 4
        assert len({k for k, _v, _c in rec.calls}) == 4
        c._check()

    def test_replace_growing_never_evicts_the_key_written(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 10, size_of_value, on_evict=rec)
        c["a"], c["b"], c["c"] = 3, 3, 3
        for _ in range(3):  # "a" is the least recently and least frequently used
            c["b"]
            c["c"]
        c["a"] = 9
        assert dict(c.items()) == {"a": 9} and c.currsize == 9
        assert sorted(rec.calls) == [("a", 3, "replaced"), ("b", 3, "evicted"),
                                     ("c", 3, "evicted")]
        c._check()

    def test_replace_shrinking(self, impl: ModuleType) -> None:
        c = self.cache(impl, 10, size_of_value)
        c["a"], c["b"] = 5, 5
        c["a"] = 1
        assert c.currsize == 6 and len(c) == 2
        c._check()

    # -- overrides ----------------------------------------------------------------------------

    def test_popitem_override_is_used_for_eviction(self, impl: ModuleType) -> None:
        calls: list[Any] = []

        def popitem(self: Any) -> Any:
            pair = super(type(self), self).popitem()
            calls.append(pair)
            return pair

        rec = Recorder()
        cls = self.subclass(impl, {"popitem": popitem})
        c = make(impl, self.NAME, 2, cls=cls, on_evict=rec)
        c[1], c[2], c[3] = 1, 2, 3
        assert len(calls) == 1 and calls[0][0] in (1, 2)
        assert rec.calls == [(*calls[0], "evicted")]
        assert len(c) == 2 and 3 in c
        c._check()

    def test_popitem_override_choosing_its_victim(self, impl: ModuleType) -> None:
        def popitem(self: Any) -> Any:
            key = max(self.keys())  # not what the policy would pick
            return key, self.pop(key)

        c = make(impl, self.NAME, 3, cls=self.subclass(impl, {"popitem": popitem}))
        for k in range(6):
            c[k] = k
        assert sorted(c) == [0, 1, 5]
        c._check()

    def test_popitem_override_evicting_the_key_written(self, impl: ModuleType) -> None:
        def popitem(self: Any) -> Any:
            key = "a" if "a" in self else next(iter(self))
            return key, self.pop(key)

        cls = self.subclass(impl, {"popitem": popitem})
        c = make(impl, self.NAME, 10, size_of_value, cls=cls)
        c["a"], c["b"] = 3, 3
        c["a"] = 9  # the override removes "a" itself, then "b": "a" is stored anew
        assert dict(c.items()) == {"a": 9} and c.currsize == 9
        c._check()

    def test_popitem_override_that_removes_nothing(self, impl: ModuleType) -> None:
        def popitem(self: Any) -> Any:
            return ("k", "v")

        c = make(impl, self.NAME, 1, cls=self.subclass(impl, {"popitem": popitem}))
        c[1] = 1
        with pytest.raises(RuntimeError):
            c[2] = 2
        assert list(c) == [1]
        c._check()

    def test_subclass_dict_and_attributes(self, impl: ModuleType) -> None:
        c = make(impl, self.NAME, 3, cls=self.subclass(impl, {}))
        c.note = "kept"
        assert c.note == "kept"

    # -- iteration ----------------------------------------------------------------------------

    def test_iteration_is_a_snapshot(self, impl: ModuleType) -> None:
        c = self.cache(impl, 10)
        for k in range(5):
            c[k] = k
        seen = []
        for k in c:
            seen.append(k)
            c[100 + k] = k  # mutation while iterating never raises
            c.pop(4 - k, None)  # keys gone when reached are skipped
        assert seen == [0, 1, 2]  # no new key, no key gone when reached
        c._check()

    def test_iteration_while_clearing(self, impl: ModuleType) -> None:
        c = self.cache(impl, 10)
        for k in range(5):
            c[k] = k
        it = iter(c)
        first = next(it)
        c.clear()
        assert list(it) == [] and first in range(5)

    # -- listener -----------------------------------------------------------------------------

    def test_listener_evicted(self, impl: ModuleType) -> None:
        rec = Recorder()
        c = self.cache(impl, 2, on_evict=rec)
        c[1], c[2], c[3] = "a", "b", "c"
        assert len(rec.calls) == 1
        key, value, cause = rec.calls[0]
        assert cause == "evicted" and key in (1, 2) and value == {1: "a", 2: "b"}[key]
        assert key not in c and 3 in c

    def test_listener_may_use_the_cache(self, impl: ModuleType) -> None:
        seen: list[Any] = []

        def listener(key: Any, value: Any, cause: str) -> None:
            c._check()
            seen.append((key, cause, len(c), sorted(c), c.get(3)))
            if cause == "evicted" and "extra" not in c:
                c.pop(3, None)
                c["extra"] = 0

        c = self.cache(impl, 3, on_evict=listener)
        c[1], c[2], c[3] = 1, 2, 3
        c[4] = 4
        assert seen == [(1, "evicted", 3, [2, 3, 4], 3), (3, "deleted", 2, [2, 4], None)]
        assert 3 not in c and "extra" in c and 4 in c and len(c) == 3
        c._check()

    def test_listener_exception_after_completion(self, impl: ModuleType) -> None:
        def listener(key: Any, value: Any, cause: str) -> None:
            raise LookupError(f"{cause} {key}")

        c = self.cache(impl, 1, on_evict=listener)
        c[1] = 1
        with pytest.raises(LookupError, match="evicted 1"):
            c[2] = 2
        assert list(c) == [2]  # the insert completed
        with pytest.raises(LookupError, match="replaced 2"):
            c[2] = 3
        assert c[2] == 3
        with pytest.raises(LookupError, match="deleted 2"):
            del c[2]
        assert 2 not in c
        c._check()

    # -- stats --------------------------------------------------------------------------------

    def test_stats(self, impl: ModuleType) -> None:
        c = self.cache(impl, 2, stats=True)
        assert c.stats() == (0, 0, 0, 0)
        c[1] = 1
        c[1]
        c.get(1)
        c.get(2)
        with pytest.raises(KeyError):
            c[2]
        c.peek(1)
        assert 1 in c and c.setdefault(1, 5) == 1
        c[2], c[3] = 2, 3  # one eviction
        s = c.stats()
        assert (s.hits, s.misses, s.evictions, s.expirations) == (2, 2, 1, 0)
        assert type(s).__name__ == "CacheStats" and s._fields == (
            "hits", "misses", "evictions", "expirations")
        c.popitem()  # a user's popitem() is not an eviction
        c.pop(next(iter(c)))
        assert c.stats() == s
        c.reset_stats()
        assert c.stats() == (0, 0, 0, 0)

    def test_stats_disabled(self, impl: ModuleType) -> None:
        c = self.cache(impl, 2)
        with pytest.raises(RuntimeError, match="stats not enabled"):
            c.stats()

    def test_stats_with_missing(self, impl: ModuleType) -> None:
        def __missing__(self: Any, key: Any) -> Any:
            self[key] = key
            return key

        c = make(impl, self.NAME, 3, cls=self.subclass(impl, {"__missing__": __missing__}),
                 stats=True)
        assert c[1] == 1 and c[1] == 1
        assert c.stats()[:2] == (1, 1)

    # -- pickle and copy ----------------------------------------------------------------------

    def _filled(self, impl: ModuleType) -> Any:
        c = self.cache(impl, 5, stats=True)
        for k in range(7):
            c[k] = [k]
        for k in (3, 3, 5, 2):
            if k in c:  # S3-FIFO keeps 1..4, evicted 5 and 6 from its small queue
                c[k]
        c.get("absent")
        return c

    @pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
    def test_copies(self, impl: ModuleType, how: str) -> None:
        c = self._filled(impl)
        c.note = {"n": 1}
        dup = {"pickle": lambda x: pickle.loads(pickle.dumps(x)), "copy": copy.copy,
               "deepcopy": copy.deepcopy}[how](c)
        assert type(dup) is type(c) and dup is not c
        assert dup.maxsize == c.maxsize and dup.currsize == c.currsize
        assert list(dup) == list(c) and dict(dup.items()) == dict(c.items())
        assert dup.stats() == c.stats()
        assert dup.note == {"n": 1}
        dup._check()
        assert [dup.popitem() for _ in range(4)] == [c.popitem() for _ in range(4)]
        dup[100] = "new"  # independent
        assert 100 not in c and len(c) == 1 and len(dup) == 2
        if how != "copy":
            assert dup.note is not c.note

    def test_pickle_subclass(self, impl: ModuleType) -> None:
        c = make(impl, self.NAME, 3, cls=_subclasses(impl)[self.NAME])
        c[1] = 1
        dup = pickle.loads(pickle.dumps(c))
        assert type(dup) is type(c) and dict(dup.items()) == {1: 1}

    # -- hostile keys (common to every policy) ------------------------------------------------

    def test_unhashable_key(self, impl: ModuleType) -> None:
        c = self.cache(impl, 3)
        c[1] = 1
        for op in (lambda: c.__setitem__([1], 1), lambda: c[[1]], lambda: [1] in c,
                   lambda: c.__delitem__([1]), lambda: c.get([1]), lambda: c.pop([1], None),
                   lambda: c.peek([1]), lambda: c.setdefault([1], 1)):
            with pytest.raises(TypeError):
                op()
        assert dict(c.items()) == {1: 1}
        c._check()


_SUBCLASS_CACHE: dict[str, dict[str, type]] = {}


def _subclasses(impl: ModuleType) -> dict[str, type]:
    """Module-level (hence picklable) subclasses of each public class of ``impl``."""
    key = impl.__name__
    if key not in _SUBCLASS_CACHE:
        out = {}
        for name in ("Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "TLRUCache",
                     "TTLCache", "SIEVECache", "S3FIFOCache", "WTinyLFUCache"):
            qual = f"Sub{name}_{key.replace('.', '_')}"
            cls = type(qual, (getattr(impl, name),), {"__module__": __name__,
                                                     "__qualname__": qual})
            globals()[qual] = cls
            out[name] = cls
        _SUBCLASS_CACHE[key] = out
    return _SUBCLASS_CACHE[key]
