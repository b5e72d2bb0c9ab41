"""``dec``: the decorators over each implementation (the suite's ``implementation`` fixture)."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.impls import Implementation


@pytest.fixture()
def dec(implementation: Implementation) -> ModuleType:
    """``fastcache.decorators`` built over the ``c`` or the ``py`` call wrapper."""
    return implementation.decorators
