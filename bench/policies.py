"""Hit and miss paths of SIEVECache and S3FIFOCache as ratios to LRUCache, measured in the
same run.

Hit: a full cache of 1,000 (in the CPU's caches) and of 100,000 (beyond them) int keys (random
60-bit ints), 200,000 lookups ``c[k]`` of keys drawn uniformly at random (SIEVE sets a bit,
S3-FIFO counts up to 3, LRU moves the entry).
Miss: ``c[k] = k`` of 200,000 keys never seen before into a full cache of 10,000 entries
(one eviction each). The caches take turns, one pass each per round, with the garbage
collector off; each cache's best round is kept, and the spread (median over best) says how
noisy the run was. Ratios below 1 mean cheaper than LRUCache.

    python -m bench.policies               # 25 rounds
    python -m bench.policies --rounds 9
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from typing import Any

from fastcache import IMPLEMENTATION, LRUCache, S3FIFOCache, SIEVECache

CLASSES: dict[str, Any] = {"LRUCache": LRUCache, "SIEVECache": SIEVECache,
                           "S3FIFOCache": S3FIFOCache}


HITS = (1_000, 100_000)


def measure(n_miss: int = 10_000, ops: int = 200_000,
            rounds: int = 25) -> dict[str, dict[str, list[float]]]:
    """ns per operation of each class, per path ("hit 1000", "hit 100000", "miss"), one
    figure per round."""
    rnd = random.Random(1)
    keys = [rnd.getrandbits(60) for _ in range(max(HITS))]
    fresh = [rnd.getrandbits(60) | (1 << 61) for _ in range(ops * rounds)]
    full: dict[int, dict[str, Any]] = {}
    orders: dict[int, list[int]] = {}
    for n in HITS:
        orders[n] = [rnd.choice(keys[:n]) for _ in range(ops)]
        full[n] = {name: cls(n) for name, cls in CLASSES.items()}
        for c in full[n].values():
            for k in keys[:n]:
                c[k] = 0
    small = {name: cls(n_miss) for name, cls in CLASSES.items()}
    for c in small.values():
        for k in keys[:n_miss]:
            c[k] = 0

    def hits(c: Any, order: list[int]) -> float:
        t = time.perf_counter()
        for k in order:
            c[k]
        return (time.perf_counter() - t) / ops * 1e9

    def misses(c: Any, r: int) -> float:
        batch = fresh[r * ops:(r + 1) * ops]  # new keys every round: always a miss
        t = time.perf_counter()
        for k in batch:
            c[k] = k
        return (time.perf_counter() - t) / ops * 1e9

    paths = [f"hit {n}" for n in HITS] + ["miss"]
    times: dict[str, dict[str, list[float]]] = {
        path: {name: [] for name in CLASSES} for path in paths}
    gc.disable()
    try:
        for r in range(rounds):
            for name in CLASSES:
                for n in HITS:
                    times[f"hit {n}"][name].append(hits(full[n][name], orders[n]))
                times["miss"][name].append(misses(small[name], r))
    finally:
        gc.enable()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    print(f"# implementation: {IMPLEMENTATION}; ns per operation, lower is better; best of "
          f"{args.rounds} interleaved rounds; spread = median / best")
    times = measure(rounds=args.rounds)
    labels = [(f"hit {n}", f"hit: c[k] on a full cache of {n:,}") for n in HITS]
    labels.append(("miss", "miss: c[k] = k (new key) into a full cache of 10,000"))
    for path, label in labels:
        base = min(times[path]["LRUCache"])
        print(f"## {label}")
        for name, ts in times[path].items():
            best = min(ts)
            print(f"  {name:12s} {best:7.1f} ns  {best / base:5.2f}x LRUCache  "
                  f"spread {statistics.median(ts) / best:5.2f}")


if __name__ == "__main__":
    main()
