"""Hit cost on random access: LRUCache, LFUCache and TTLCache against a dict of the same keys.

The workload of the hit goals (LRU <= 1.3x, LFU <= 1.3x, TTL <= 1.5x of the dict): a full
cache of 100,000 int keys (random 60-bit ints), 200,000 lookups ``c[k]`` of keys drawn
uniformly at random (the same sequence for every container). The containers take turns,
one pass each per round, with the garbage collector off; each container's best round is
kept (the least disturbed by the machine), and the spread (median over best) says how
noisy the run was.

    python -m bench.hits                  # 100,000 entries, 25 rounds
    python -m bench.hits 1000000 --rounds 9
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from typing import Any

from fastcache import IMPLEMENTATION, LFUCache, LRUCache, TTLCache


def measure(n: int, lookups: int = 200_000, rounds: int = 25) -> dict[str, list[float]]:
    """ns per hit of each container holding ``n`` entries, one figure per round."""
    rnd = random.Random(1)
    keys = [rnd.getrandbits(60) for _ in range(n)]
    order = [rnd.choice(keys) for _ in range(lookups)]
    containers: dict[str, Any] = {"dict": dict.fromkeys(keys, 0)}
    caches: list[tuple[str, Any]] = [("LRUCache", LRUCache[int, int](n)),
                                     ("LFUCache", LFUCache[int, int](n)),
                                     ("TTLCache", TTLCache[int, int](n, 600))]
    for name, cache in caches:
        for k in keys:
            cache[k] = 0
        containers[name] = cache

    def run(c: Any) -> float:
        t = time.perf_counter()
        for k in order:
            c[k]
        return (time.perf_counter() - t) / len(order) * 1e9

    times: dict[str, list[float]] = {name: [] for name in containers}
    gc.disable()
    try:
        for _ in range(rounds):
            for name, c in containers.items():
                times[name].append(run(c))
    finally:
        gc.enable()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    print(f"# implementation: {IMPLEMENTATION}; ns per hit, lower is better; best of "
          f"{args.rounds} interleaved rounds; spread = median / best")
    for n in args.sizes:
        times = measure(n, args.lookups, args.rounds)
        base = min(times["dict"])
        print(f"## {n:,} entries, {args.lookups:,} uniform random lookups")
        for name, ts in times.items():
            best = min(ts)
            print(f"  {name:9s} {best:7.1f} ns  {best / base:5.2f}x dict  "
                  f"spread {statistics.median(ts) / best:5.2f}")


if __name__ == "__main__":
    main()
