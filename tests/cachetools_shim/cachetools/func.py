"""``cachetools.func`` served by ``fastcache.func`` (see the package's docstring)."""

from fastcache.func import *  # noqa: F403
from fastcache.func import __all__  # noqa: F401
