"""cachetools 8.0's own tests (vendored verbatim: ``LICENSE`` beside them), run on fastcache.

They are collected only when ``import cachetools`` is the shim of ``tests/cachetools_shim``
(``tests/decorators/test_dropin_cachetools8.py`` runs them so, in a subprocess, once per
implementation); in the ordinary run, where ``cachetools`` is the real package the other
tests compare against, this directory is skipped at collection (not collected, not skipped
tests).

Every deliberate difference is listed in ``DIFFERENCES`` below with its reason, and marked
``xfail(strict=True)``: a listed test that starts passing fails the run, so the list stays
true.
"""

from __future__ import annotations

import cachetools
import pytest

SHIM = getattr(cachetools, "FASTCACHE_SHIM", False)
collect_ignore_glob = [] if SHIM else ["test_*.py"]

# "file::Class::test" -> why fastcache differs (README, "Moving from cachetools / functools")
DIFFERENCES: dict[str, str] = {
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        reason = DIFFERENCES.get(item.nodeid.rpartition("cachetools8/")[2])
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
