"""Optional dependencies, imported when first used, with an error that says what to install.

``require("redis", "redis")`` returns the module, or raises a ``ModuleNotFoundError`` (an
``ImportError``) naming the extra that brings it: ``RedisBackend needs redis, which is not
installed: pip install "fastcache[redis]"``. Only a missing module is translated; an error
raised while importing an installed one propagates unchanged (a bug or a broken install,
not a missing extra).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]

def require(module: str, extra: str, *, feature: str | None = None) -> ModuleType:
    """Import ``module`` (dotted names allowed); when it is not installed, raise an
    ``ImportError`` telling to ``pip install "fastcache[<extra>]"`` for ``feature``."""
    top = module.partition(".")[0]
    try:
        importlib.import_module(top)
    except ModuleNotFoundError as exc:
        if exc.name != top:
            raise  # installed, but something it imports is missing: not ours to explain
        what = feature or "this part of fastcache"
        raise ModuleNotFoundError(f"{what} needs {top}, which is not installed: "
                                  f'pip install "fastcache[{extra}]"', name=top) from exc
    return importlib.import_module(module)
