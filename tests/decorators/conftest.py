"""``dec``: the decorators module over each call wrapper (compiled and pure Python)."""

from __future__ import annotations

from types import ModuleType

import pytest

from .impls import IMPLS


@pytest.fixture(params=sorted(IMPLS))
def dec(request: pytest.FixtureRequest) -> ModuleType:
    """``fastcache.decorators`` built over the ``c`` or the ``py`` call wrapper."""
    return IMPLS[request.param]
