"""WTinyLFUCache against LRUCache: the cost of a hit and of a miss (insert with eviction), as
ratios to LRUCache in the same run, and the hit ratio on the real traces of tests/data/traces.

Speed: a full cache of 100,000 random 60-bit int keys, 200,000 hits ``c[k]`` in random order;
and a full cache of 10,000 keys taking 200,000 inserts of new keys (each evicts). The two
classes take turns, one pass each per round, garbage collector off; each one's best round is
kept, and the spread (median over best) says how noisy the run was.
Hit ratio: every request a read, a miss inserts (``if k in c: c[k] else: c[k] = k``), at a
capacity of 1%, 5% and 10% of the trace's unique keys (seed 0 for the sketch).

    python -m bench.wtinylfu                 # both parts
    python -m bench.wtinylfu --rounds 9 --no-traces
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from pathlib import Path
from typing import Any

from fastcache import IMPLEMENTATION, LRUCache, WTinyLFUCache

TRACES = Path(__file__).resolve().parents[1] / "tests" / "data" / "traces"


def _rounds(containers: dict[str, Any], run: Any, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in containers}
    gc.disable()
    try:
        for _ in range(rounds):
            for name, make in containers.items():
                times[name].append(run(make))
    finally:
        gc.enable()
    return times


def hits(n: int, lookups: int, rounds: int) -> dict[str, list[float]]:
    rnd = random.Random(1)
    keys = [rnd.getrandbits(60) for _ in range(n)]
    order = [rnd.choice(keys) for _ in range(lookups)]
    caches: dict[str, Any] = {}
    for name, cls in (("LRUCache", LRUCache), ("WTinyLFUCache", WTinyLFUCache)):
        c: Any = cls(n)
        for k in keys:
            c[k] = 0
        caches[name] = c

    def run(c: Any) -> float:
        t = time.perf_counter()
        for k in order:
            c[k]
        return (time.perf_counter() - t) / len(order) * 1e9

    return _rounds(caches, run, rounds)


def misses(n: int, inserts: int, rounds: int) -> dict[str, list[float]]:
    rnd = random.Random(2)
    fill = [rnd.getrandbits(60) for _ in range(n)]
    new = [rnd.getrandbits(60) for _ in range(inserts)]
    classes = {"LRUCache": LRUCache, "WTinyLFUCache": WTinyLFUCache}

    def run(cls: Any) -> float:
        c = cls(n)
        for k in fill:
            c[k] = 0
        t = time.perf_counter()
        for k in new:
            c[k] = 0
        return (time.perf_counter() - t) / len(new) * 1e9

    return _rounds(classes, run, rounds)


def report(title: str, times: dict[str, list[float]]) -> None:
    base = min(times["LRUCache"])
    print(title)
    for name, ts in times.items():
        best = min(ts)
        print(f"  {name:14} {best:7.1f} ns/op  x{best / base:5.2f} of LRUCache"
              f"  (spread {statistics.median(ts) / best:4.2f})")


def hit_ratios() -> None:
    import numpy as np

    print("hit ratio (%) on tests/data/traces, capacity in % of unique keys")
    print(f"  {'trace':15} {'cap':>6} {'LRU':>7} {'WTinyLFU':>9} {'fixed':>7}")
    for path in sorted(TRACES.glob("*.npy")):
        keys = [int(k) for k in np.load(path)]
        unique = len(set(keys))
        for pct in (1, 5, 10):
            cap = max(1, unique * pct // 100)
            row = []
            caches: list[Any] = [LRUCache(cap), WTinyLFUCache(cap, seed=0),
                                 WTinyLFUCache(cap, seed=0, adaptive=False)]
            for c in caches:
                h = 0
                for k in keys:
                    if k in c:
                        c[k]
                        h += 1
                    else:
                        c[k] = k
                row.append(100.0 * h / len(keys))
            print(f"  {path.stem:15} {pct:5}% {row[0]:7.2f} {row[1]:9.2f} {row[2]:7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-traces", action="store_true")
    args = ap.parse_args()
    print(f"implementation: {IMPLEMENTATION}")
    report("hit (100,000 entries)", hits(100_000, 200_000, args.rounds))
    report("miss: insert with eviction (10,000 entries)", misses(10_000, 200_000, args.rounds))
    if not args.no_traces:
        hit_ratios()


if __name__ == "__main__":
    main()
