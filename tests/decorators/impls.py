"""The decorators module twice: over the compiled call wrapper and over the pure-Python one.

As CPython's test_functools does with ``py_functools``/``c_functools``: the same source,
``fastcache/decorators.py``, imported a second time with ``FASTCACHE_PURE_PYTHON=1``.
``IMPLS`` maps ``"c"``/``"py"`` to the module; with ``FASTCACHE_PURE_PYTHON=1`` in the
environment only ``"py"`` is there. A missing compiled wrapper is an import error here (the
suite expects it built: ``python setup.py build_ext --inplace``).
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import fastcache.decorators as _selected


def _load(pure: bool) -> ModuleType:
    name = "fastcache._test_decorators_" + ("py" if pure else "c")
    spec = importlib.util.spec_from_file_location(name, _selected.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    old = os.environ.get("FASTCACHE_PURE_PYTHON")
    os.environ["FASTCACHE_PURE_PYTHON"] = "1" if pure else "0"
    try:
        spec.loader.exec_module(module)
    finally:
        if old is None:
            del os.environ["FASTCACHE_PURE_PYTHON"]
        else:
            os.environ["FASTCACHE_PURE_PYTHON"] = old
    return module


PURE_ONLY = os.environ.get("FASTCACHE_PURE_PYTHON", "") not in ("", "0")
py_decorators = _load(pure=True)
IMPLS: dict[str, ModuleType] = {"py": py_decorators}
if not PURE_ONLY:
    import fastcache._core  # noqa: F401  (fail loudly when the extension is not built)

    c_decorators = _load(pure=False)
    assert c_decorators.WRAPPER_IMPLEMENTATION == "c"
    IMPLS["c"] = c_decorators
assert py_decorators.WRAPPER_IMPLEMENTATION == "py"
