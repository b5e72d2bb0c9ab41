"""Both implementations in one process: the compiled core (``c``) and the twin (``py``).

``NAMES``: the implementations this run covers: ``["c", "py"]``, or ``["py"]`` under
``FASTCACHE_PURE_PYTHON=1`` (CI's twin run). ``CACHES``: the public cache classes over each
(``fastcache.caches``, ``fastcache._py.public``). ``IMPLS``: the decorators over each.

The twin's decorators come as CPython's test_functools gets ``py_functools`` with
``import_fresh_module``: the selector ``fastcache._impl`` and the modules that read it
(``fastcache._cached``, ``fastcache.decorators``) imported a second time with
``FASTCACHE_PURE_PYTHON=1``, then the originals put back. A checkout where the compiled
core is not built fails at ``import fastcache`` (``fastcache.exceptions.PurePythonWarning``,
an error under the suite's ``filterwarnings``): the suite expects it built.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from types import ModuleType

import fastcache
import fastcache.decorators as _selected

# the modules that read the choice of fastcache._impl at import, selector first
_FRESH = ("fastcache._impl", "fastcache._cached", "fastcache.decorators")


def _load_pure() -> ModuleType:
    saved = {name: sys.modules.pop(name) for name in _FRESH}
    attributes = {name: getattr(fastcache, name.rpartition(".")[2]) for name in _FRESH}
    old = os.environ.get("FASTCACHE_PURE_PYTHON")
    os.environ["FASTCACHE_PURE_PYTHON"] = "1"
    try:
        return importlib.import_module("fastcache.decorators")
    finally:
        if old is None:
            del os.environ["FASTCACHE_PURE_PYTHON"]
        else:
            os.environ["FASTCACHE_PURE_PYTHON"] = old
        sys.modules.update(saved)
        for name, value in attributes.items():
            setattr(fastcache, name.rpartition(".")[2], value)


PURE_ONLY = _selected.WRAPPER_IMPLEMENTATION == "py"
IMPLS: dict[str, ModuleType] = {"py": _selected if PURE_ONLY else _load_pure()}
if not PURE_ONLY:
    c_decorators = _selected
    IMPLS["c"] = c_decorators
assert IMPLS["py"].WRAPPER_IMPLEMENTATION == "py"

NAMES = sorted(IMPLS)
CACHES: dict[str, ModuleType] = {"py": importlib.import_module("fastcache._py.public")}
if not PURE_ONLY:
    CACHES["c"] = importlib.import_module("fastcache.caches")


@dataclass(frozen=True)
class Implementation:
    """One implementation: ``name`` ("c" or "py"), its cache classes and its decorators."""

    name: str
    caches: ModuleType  # fastcache.caches or fastcache._py.public
    decorators: ModuleType  # fastcache.decorators over that implementation's call wrappers
