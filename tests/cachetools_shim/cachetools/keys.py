"""``cachetools.keys`` served by ``fastcache.keys`` (see the package's docstring)."""

from fastcache.keys import *  # noqa: F403
from fastcache.keys import __all__  # noqa: F401
