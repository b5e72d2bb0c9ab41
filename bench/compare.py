"""Side-by-side table: fastcache (compiled and pure twin) vs dict, cachetools, cachebox, lru-dict.

The measuring code lives in the package (``fastcache/_bench/``) so that the installed
``python -m fastcache bench`` shows the same table; this script is its repository entry
point. Figures: ns per operation and the ratio to a ``dict`` measured in the same run
(LRU/LFU/TTL hit on a full cache, insert with eviction), hit cost at 1e3..1e7 entries,
a Zipf(0.99) cache-aside loop against cachebox, TTL reclamation cost against the number
expired, and fastcache's speed targets as measured ratios (reported, never asserted).

Reproduce (from the repository root, after ``pip install -e .``)::

    python -m bench.compare            # default sizes, about a minute
    python -m bench.compare --quick    # a few seconds
    python -m bench.compare --full     # adds 10,000,000 entries; minutes, ~3 GB
    FASTCACHE_PURE_PYTHON=1 python -m bench.compare --quick   # without the compiled core
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from fastcache import _bench, cli


def run(quick: bool = False, progress: Callable[[str], None] | None = None,
        full: bool = False) -> list[_bench.Row]:
    """Measure and return the result rows (see ``fastcache._bench.Row``)."""
    return _bench.run(quick=quick, progress=progress, full=full)


def main(argv: list[str] | None = None) -> int:
    """Print the tables as ``python -m fastcache bench`` does (same options)."""
    return cli.main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
