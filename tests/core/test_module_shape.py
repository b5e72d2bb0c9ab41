"""Both implementation modules export the same classes and removal causes."""

from __future__ import annotations

import importlib
import sys

import pytest

from .support import POLICIES


@pytest.mark.parametrize("name", ["fastcache._py", "fastcache._core"])
def test_module_shape(name: str) -> None:
    if name == "fastcache._core":
        import fastcache

        if fastcache.IMPLEMENTATION != "c":
            pytest.skip("the compiled core is not in use")
    mod = importlib.import_module(name)
    for policy in POLICIES:
        cls = getattr(mod, policy)
        assert issubclass(cls, mod.Cache)
    causes = {"EVICTED": "evicted", "EXPIRED": "expired", "REPLACED": "replaced",
              "DELETED": "deleted"}
    for const, text in causes.items():
        value = getattr(mod, const)
        assert type(value) is str and value == text and value is sys.intern(text)


def test_public_layer_is_picklable_by_name(impl: object) -> None:
    import pickle

    for policy in POLICIES:
        cls = getattr(impl, policy)
        assert cls.__module__ == impl.__name__  # type: ignore[attr-defined]
        assert pickle.loads(pickle.dumps(cls)) is cls
