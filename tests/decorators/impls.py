"""The decorators over each implementation: ``IMPLS`` of ``tests.impls`` (shared by the suite)."""

from __future__ import annotations

from tests.impls import IMPLS, PURE_ONLY

__all__ = ["IMPLS", "PURE_ONLY"]
