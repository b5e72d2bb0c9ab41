"""Hit cost of LRUCache, LFUCache and TTLCache against a plain dict of the same keys.

One process, keys random 60-bit ints, hits in a shuffled order; the four containers take
turns, one pass each per round, 30 rounds, garbage collector off, and the best round of
each is kept, so machine load hits them alike. A narrower, longer-repeated version of the
hit rows of ``compare.py``, for the issue's hit goals (LRU <= 1.3x, LFU <= 1.3x, TTL <= 1.5x
of the dict).

    python -m bench.hits            # 10,000 and 100,000 entries
    python -m bench.hits 1000000    # other sizes
"""

from __future__ import annotations

import gc
import random
import sys
import time
from typing import Any

from fastcache import IMPLEMENTATION, LFUCache, LRUCache, TTLCache


def measure(n: int, rounds: int = 30) -> dict[str, float]:
    """Best ns per hit for each container holding ``n`` entries."""
    rnd = random.Random(1)
    keys = [rnd.getrandbits(60) for _ in range(n)]
    order = keys[:]
    rnd.shuffle(order)
    order *= max(1, 100_000 // n)
    containers: dict[str, Any] = {"dict": dict.fromkeys(keys, 0)}
    caches: list[tuple[str, Any]] = [("LRUCache", LRUCache(n)), ("LFUCache", LFUCache(n)),
                                     ("TTLCache", TTLCache(n, 600))]
    for name, cache in caches:
        for k in keys:
            cache[k] = 0
        containers[name] = cache

    def run(c: Any) -> float:
        t = time.perf_counter()
        for k in order:
            c[k]
        return (time.perf_counter() - t) / len(order)

    best = dict.fromkeys(containers, float("inf"))
    gc.disable()
    try:
        for _ in range(rounds):
            for name, c in containers.items():
                best[name] = min(best[name], run(c))
    finally:
        gc.enable()
    return {name: t * 1e9 for name, t in best.items()}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    print(f"# implementation: {IMPLEMENTATION}")
    for n in sizes:
        ns = measure(n)
        print(f"## {n:,} entries")
        for name, t in ns.items():
            print(f"  {name:9s} {t:7.1f} ns  {t / ns['dict']:.2f}x dict")


if __name__ == "__main__":
    main()
