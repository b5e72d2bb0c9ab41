"""Selects the compiled core or its pure-Python twin, once, at import: the one place that does.

Everything that depends on the choice asks this module: the cache classes
(``fastcache.caches``: ``impl``), the decorators (``lru_cache_wrapper``, ``cached_wrapper``),
``fastcache info`` (``REASON``). The environment variable ``FASTCACHE_PURE_PYTHON`` is read
here and by ``setup.py`` (which then builds no extension), nowhere else:

1. ``FASTCACHE_PURE_PYTHON`` set (to anything but ``""`` or ``"0"``): the twin, silently,
   since it was asked for;
2. else the compiled ``fastcache._core`` when it imports;
3. else the twin, which is complete. Silently where fastcache was installed without the
   extension (built with ``FASTCACHE_PURE_PYTHON=1``, or an interpreter other than CPython):
   that copy was made to run the twin and ``fastcache info`` says so. With a
   ``PurePythonWarning`` naming the command that builds it in a source checkout where
   nobody built it (``setup.py`` beside the package), or when an extension is there but
   fails to import: there the user expects the compiled core and would measure the twin.

``IMPLEMENTATION`` is ``"c"`` or ``"py"``; ``WRAPPER_IMPLEMENTATION`` (the decorators' call
wrapper, kept for readers of round one) is always the same.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from . import _py
from ._py import wrapper as _pywrapper
from .exceptions import PurePythonWarning

__all__ = [
    "ENV_VAR",
    "IMPLEMENTATION",
    "REASON",
    "WRAPPER_IMPLEMENTATION",
    "cached_wrapper",
    "impl",
    "lru_cache_wrapper",
    "pure_python_requested",
]

ENV_VAR = "FASTCACHE_PURE_PYTHON"
BUILD_COMMAND = "pip install -e . (or: python setup.py build_ext --inplace)"


def pure_python_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``FASTCACHE_PURE_PYTHON`` asks for the twin (set, and not ``""``/``"0"``)."""
    return environ.get(ENV_VAR, "") not in ("", "0")


def _source_checkout() -> bool:
    root = Path(__file__).resolve().parent.parent
    return (root / "setup.py").is_file() and (root / "csrc").is_dir()


def _load_compiled() -> tuple[ModuleType, ModuleType]:
    """The compiled core, which also holds the compiled call wrappers."""
    core = importlib.import_module("fastcache._core")
    return core, core


impl: ModuleType
IMPLEMENTATION: str
REASON: str  # why this implementation, for ``fastcache info``
lru_cache_wrapper: Callable[..., Any]
cached_wrapper: Callable[..., Any] | None  # None: cached() uses its Python closures

if pure_python_requested():
    impl, IMPLEMENTATION, REASON = _py, "py", f"{ENV_VAR} is set"
else:
    try:
        _core, _wrappers = _load_compiled()
    except ImportError as exc:
        impl, IMPLEMENTATION = _py, "py"
        missing = isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith(
            "fastcache._")
        if missing:
            REASON = "the compiled core was not built here"
        else:
            REASON = f"the compiled core failed to import ({exc})"
        if not missing or _source_checkout():
            warnings.warn(
                f"fastcache runs its pure-Python twin: {REASON}. Build the compiled core "
                f"with: {BUILD_COMMAND}; or set {ENV_VAR}=1 to ask for the twin.",
                PurePythonWarning, stacklevel=2)
    else:
        impl, IMPLEMENTATION, REASON = _core, "c", "compiled core imported"

if IMPLEMENTATION == "c":
    lru_cache_wrapper = _wrappers._lru_cache_wrapper
    cached_wrapper = _wrappers._cached_wrapper
else:
    lru_cache_wrapper, cached_wrapper = _pywrapper._lru_cache_wrapper, None
WRAPPER_IMPLEMENTATION = IMPLEMENTATION
