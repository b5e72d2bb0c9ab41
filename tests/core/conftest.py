"""``impl``: the public cache classes over the compiled core (``c``) or the twin (``py``)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


def load_impl(name: str) -> ModuleType:
    """The public layer module of implementation ``name`` (skip ``c`` if it is not in use)."""
    if name == "py":
        return importlib.import_module("fastcache._py.public")
    import fastcache

    if fastcache.IMPLEMENTATION != "c":
        pytest.skip("the compiled core is not in use (FASTCACHE_PURE_PYTHON set, or "
                    "fastcache._core failed to import)")
    return importlib.import_module("fastcache.caches")


@pytest.fixture(params=["c", "py"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """``fastcache.caches`` over the compiled core, or ``fastcache._py.public``."""
    return load_impl(request.param)
