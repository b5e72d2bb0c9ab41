"""WTinyLFUCache against LRUCache: the cost of a hit and of a miss (insert with eviction), as
ratios to LRUCache in the same run, and the hit ratio on the real traces of tests/data/traces.

Speed: bench/policies.py's cases (hits on full caches of 1,000 and 100,000 int keys, uniform
and Zipf 0.99; inserts with eviction into full caches of 10,000 and 100,000, uniform and Zipf
0.99) for the two classes alone; each one's best round is kept, and the spread (median over
best) says how noisy the run was.
Hit ratio: every request a read, a miss inserts (``fastcache.simulate.replay``), at a
capacity of 1%, 5% and 10% of the trace's unique keys (seed 0 for the sketch).

    python -m bench.wtinylfu                 # both parts
    python -m bench.wtinylfu --rounds 9 --no-traces
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import policies
from fastcache import IMPLEMENTATION, LRUCache, WTinyLFUCache
from fastcache.simulate import replay

TRACES = Path(__file__).resolve().parents[1] / "tests" / "data" / "traces"


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
                row.append(100.0 * (1 - replay(c, keys)[0] / len(keys)))
            print(f"  {path.stem:15} {pct:5}% {row[0]:7.2f} {row[1]:9.2f} {row[2]:7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-traces", action="store_true")
    args = ap.parse_args()
    print(f"implementation: {IMPLEMENTATION}")
    policies.report(policies.measure(["WTinyLFUCache"], rounds=args.rounds))
    if not args.no_traces:
        hit_ratios()


if __name__ == "__main__":
    main()
