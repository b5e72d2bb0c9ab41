"""pydantic models with fastcache-decorated methods (README, "Moving from cachetools / functools").

pydantic accepts as a non-field class attribute only a function, ``property``,
``classmethod``, ``staticmethod``, its own descriptors, or an object whose class's module is
``functools``. fastcache's wrappers are none of these (the compiled type cannot be a
``functools`` class: CPython's ``_lru_cache_wrapper`` is not subclassable), so a model
names them in pydantic's documented ``ignored_types``: ``fastcache.decorators.WRAPPER_TYPES``.
These tests pin both halves: functools' wrapper accepted as is, fastcache's with that one
line, every decorator working on the model afterwards, on the compiled core and the twin.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import pydantic
import pytest


def _model(dec: ModuleType, config: dict[str, Any]) -> Any:
    calls: list[str] = []

    class Model(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True, **config)  # hashable: a cache key
        x: int
        _memo: dict[Any, Any] = pydantic.PrivateAttr(default_factory=dict)

        @dec.lru_cache
        def lru(self, n: int) -> int:
            calls.append("lru")
            return self.x * n

        @dec.cache
        def unbounded(self, n: int) -> int:
            calls.append("cache")
            return self.x + n

        @dec.cached({})
        def shared(self, n: int) -> int:  # one mapping for all instances, self in the key
            calls.append("cached")
            return -n * self.x

        @dec.cachedmethod(lambda self: self._memo, info=True)
        def per_instance(self, n: int) -> int:
            calls.append("cachedmethod")
            return self.x - n

    return Model, calls


def test_functools_wrapper_is_accepted_as_is() -> None:
    class Model(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True)
        x: int

        @functools.lru_cache  # noqa: B019
        def double(self) -> int:
            return 2 * self.x

    assert Model(x=2).double() == 4


def test_fastcache_wrappers_work_on_a_model_with_ignored_types(dec: ModuleType) -> None:
    Model, calls = _model(dec, {"ignored_types": dec.WRAPPER_TYPES})
    m = Model(x=3)
    for _ in range(2):
        assert (m.lru(2), m.unbounded(2), m.shared(2), m.per_instance(2)) == (6, 5, -6, 1)
    assert sorted(calls) == ["cache", "cached", "cachedmethod", "lru"]
    assert m.per_instance.cache_info().hits == 1
    assert m.model_dump() == {"x": 3}  # the bound cachedmethod is no field
    assert Model.model_validate({"x": 3}).model_dump() == m.model_dump()


def test_without_ignored_types_the_compiled_wrapper_is_refused(dec: ModuleType) -> None:
    # the difference the README lists: pydantic refuses the class attributes it does not
    # know (the twin's lru_cache is a plain function, its cached/cachedmethod are not)
    with pytest.raises(pydantic.PydanticUserError, match="non-annotated attribute"):
        _model(dec, {})


def test_cachetools_wrappers_are_refused_too() -> None:
    import cachetools

    with pytest.raises(pydantic.PydanticUserError, match="non-annotated attribute"):
        class Model(pydantic.BaseModel):
            x: int

            @cachetools.cached({})
            def f(self) -> int:
                return self.x
