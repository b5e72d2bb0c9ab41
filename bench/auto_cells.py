"""Every cell of the adaptive-default goal: miss ratios of the online policies, LRU, and the
adaptive candidates on the shared real traces and on synthetic workloads, at 1%, 5% and 10%
of the unique keys.

A candidate passes a cell when its miss ratio is within 0.5 points of the best of the eight
online policies (lru, lfu, fifo, clock, arc, sieve, s3fifo, wtinylfu) and at most 1 point
above LRU's.

    python -m bench.auto_cells                         # auto and the candidates
    python -m bench.auto_cells --policy auto,wtinylfu-hc --traces /work/shared/traces
    python -m bench.auto_cells --holdout                # other synthetic seeds
    python -m bench.auto_cells --param floor=256        # smaller shadow caches
    python -m bench.auto_cells --cache --only web12     # also WTinyLFUCache(cap, seed=0)

``--cache`` replays each cell through the cache class ``WTinyLFUCache`` too
(``fastcache.simulate.replay``, adaptive=True: the same miniature simulations as ``auto``;
slow, a Python loop); its misses equal ``auto``'s where every key is an int below 2**61 - 1
(``hash(k) == k``), and the column says ``=`` when they do.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from typing import Any

import numpy as np

from fastcache import WTinyLFUCache, _core
from fastcache._sim_workloads import generate
from fastcache.simulate import replay

ONLINE = ("lru", "lfu", "fifo", "clock", "arc", "sieve", "s3fifo", "wtinylfu")
SYNTHETIC = ("zipf:", "shift:", "loop:", "scan:")
FRACS = (0.01, 0.05, 0.10)


# other parameters and seeds: workloads no candidate was tuned on
HOLDOUT = ("zipf:alpha=0.8,seed=2", "shift:alpha=0.9,phases=10,seed=3", "loop:keys=20000",
           "scan:alpha=0.8,scan=0.002,length=5000,seed=4")


def workloads(trace_dir: str, synthetic: list[str]) -> list[tuple[str, Any]]:
    out = [(os.path.basename(p)[:-4], np.ascontiguousarray(np.load(p), dtype=np.uint64))
           for p in sorted(glob.glob(os.path.join(trace_dir, "*.npy")))]
    out += [(spec.rstrip(":"), generate(spec)) for spec in synthetic]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", default=os.environ.get("FASTCACHE_TRACES",
                                                       "/work/shared/traces"))
    ap.add_argument("--policy", default="auto")
    ap.add_argument("--only", default="", help="substring of the workload names to run")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a parameter of the candidates (sim_run params), e.g. floor=256")
    ap.add_argument("--holdout", action="store_true",
                    help="other synthetic parameters and seeds (HOLDOUT), no traces")
    ap.add_argument("--cache", action="store_true",
                    help="also replay each cell through WTinyLFUCache (the class)")
    args = ap.parse_args()
    cands = args.policy.split(",")
    params = {n: float(v) for n, _, v in (p.partition("=") for p in args.param)}
    print(f"{'workload':<36}{'C':>7}{'best':>8}{'(who)':>9}{'lru':>8}"
          + "".join(f"{c:>15}" for c in cands)
          + (f"{'WTinyLFUCache':>16}" if args.cache else ""))
    fails = dict.fromkeys(cands, 0)
    cells = 0
    chosen = workloads("", list(HOLDOUT)) if args.holdout else workloads(args.traces,
                                                                          list(SYNTHETIC))
    for name, keys in chosen:
        if args.only and args.only not in name:
            continue
        unique = len(np.unique(keys))
        for frac in FRACS:
            cap = max(1, round(unique * frac))
            mr = {p: _core.sim_run(p, keys, cap)[1] / len(keys) for p in ONLINE}
            who = min(mr, key=mr.__getitem__)
            best, lru = mr[who], mr["lru"]
            cells += 1
            row = f"{name:<36}{cap:>7}{best:>8.4f}{who:>9}{lru:>8.4f}"
            for c in cands:
                m = _core.sim_run(c, keys, cap, params=params)[1] / len(keys)
                ok = m - best <= 0.005 and m - lru <= 0.01
                fails[c] += not ok
                row += f"{m:>13.4f}{' ' if ok else '!'} "
            if args.cache:
                misses = replay(WTinyLFUCache(cap, seed=0), keys.tolist())[0]
                same = misses == _core.sim_run("auto", keys, cap, params=params)[1]
                row += f"{misses / len(keys):>14.4f}{'=' if same else ' '} "
            print(row, flush=True)
    print("cells failed (! = more than 0.5 points over the best or 1 point over LRU): "
          + ", ".join(f"{c} {fails[c]}/{cells}" for c in cands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
