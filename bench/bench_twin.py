"""The pure-Python twin against cachetools 8 on the same operations, in one process,
interleaved.

Reproduce (from the repository root; the twin is timed whether or not the compiled core is
built)::

    python -m bench.bench_twin [Policy ...]

For each policy: ``c[k]`` hits (a third of the keys, 1000 entries), inserts of new keys into a
full cache (one eviction each), and ``get`` misses. The two caches are timed alternately, 40
rounds, and the best round of each is kept, so the ratio is measured under the same machine
load; each line prints both times and the ratio twin/cachetools (< 1: the twin is faster).
Run it two or three times on a shared machine. A measurement, not an assertion: pytest does
not collect it.
"""

from __future__ import annotations

import itertools
import sys
import timeit
from collections.abc import Callable
from typing import Any

import cachetools

# Run from a checkout: import the package next to this directory.
from fastcache._py import public as twin

N = 1000
POLICIES = ["Cache", "FIFOCache", "LRUCache", "LFUCache", "RRCache", "TTLCache", "TLRUCache"]


def ttu(key: Any, value: Any, now: Any) -> Any:
    return now + 100


def make(module: Any, name: str) -> Any:
    if name == "TTLCache":
        return module.TTLCache(N, 100, lambda: 0)
    if name == "TLRUCache":
        return module.TLRUCache(N, ttu, lambda: 0)
    return getattr(module, name)(N)


def operations(c: Any) -> dict[str, tuple[Callable[[], None], int]]:
    for i in range(N):
        c[i] = i
    hits = list(range(0, N, 3))
    fresh = itertools.count(N)

    def hit() -> None:
        for k in hits:
            c[k]

    def insert() -> None:
        for _ in range(300):
            c[next(fresh)] = 0

    def miss() -> None:
        for k in range(-300, 0):
            c.get(k)

    return {"hit": (hit, len(hits)), "insert+evict": (insert, 300), "get miss": (miss, 300)}


def main(names: list[str]) -> None:
    for name in names or POLICIES:
        ops = operations(make(cachetools, name)), operations(make(twin, name))
        out = []
        for op in ops[0]:
            best = [float("inf")] * 2
            for _ in range(40):
                for i, table in enumerate(ops):
                    fn, n = table[op]
                    best[i] = min(best[i], timeit.timeit(fn, number=1) / n * 1e9)
            out.append(f"{op} {best[0]:.0f}/{best[1]:.0f} ns ({best[1] / best[0]:.2f})")
        print(f"{name:9} cachetools/twin: " + "  ".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
