"""The decorators twice: over the compiled call wrappers and over the pure-Python ones.

As CPython's test_functools does with ``import_fresh_module``: the selector
``fastcache._impl`` and the decorator modules (``fastcache.decorators``,
``fastcache._cached``) imported a second time with ``FASTCACHE_PURE_PYTHON=1``, then the
originals put back. ``IMPLS`` maps ``"c"``/``"py"`` to a module with the public decorators;
with ``FASTCACHE_PURE_PYTHON=1`` in the environment only ``"py"`` is there. A checkout where
the compiled core is not built fails here (``fastcache.exceptions.PurePythonWarning``, an
error under the suite's ``filterwarnings``).
"""

from __future__ import annotations

import importlib
import os
import sys
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
