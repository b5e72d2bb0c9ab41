"""Selects the compiled core or its pure-Python twin, once, at import.

``FASTCACHE_PURE_PYTHON=1`` selects the twin; otherwise the compiled ``fastcache._core``
is used when it can be imported. ``IMPLEMENTATION`` is ``"c"`` or ``"py"``.
"""

from __future__ import annotations

import os
from types import ModuleType

from . import _py

impl: ModuleType
IMPLEMENTATION: str

if os.environ.get("FASTCACHE_PURE_PYTHON", "") not in ("", "0"):
    impl, IMPLEMENTATION = _py, "py"
else:
    try:
        from . import _core
    except ImportError:  # no compiler where this was installed: the twin is complete
        impl, IMPLEMENTATION = _py, "py"
    else:
        impl, IMPLEMENTATION = _core, "c"
