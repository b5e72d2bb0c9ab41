"""The simulator's speed and hit ratios beside peers.

``python bench/bench_simulate.py [TRACE.npy ...] [--rounds N]``

1. Requests per second of every policy on one core (``fastcache._core.sim_run``, best of
   ``--rounds``), beside the ``libcachesim`` package replaying the same trace (written as
   oracleGeneral, object size 1) in the same run, where it is installed. Goal: >= 10 million
   requests/s for LRU.
2. Miss ratios at 1%, 5%, 10% of the unique keys beside theine (W-TinyLFU, Rust) and moka-py
   (TinyLFU), each driven from Python (get, set on a miss) on the same trace.

Default traces: tests/data/traces/*.npy (skipped with a message when absent).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fastcache import _core
from fastcache.simulate import POLICIES

HERE = os.path.dirname(os.path.abspath(__file__))
sim_run: Callable[..., tuple[int, int, int, int, int]] = _core.sim_run


def best_of(rounds: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def libcachesim_replay(keys: Any, cap: int, rounds: int) -> dict[str, tuple[float, float]]:
    """{policy: (miss ratio, requests/s)} from the libcachesim package, or {} if absent."""
    try:
        import libcachesim as lcs  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        print("# libcachesim not installed (pip install libcachesim): no side-by-side")
        return {}
    rec = np.zeros(len(keys), dtype=[("t", "<u4"), ("id", "<u8"), ("size", "<u4"),
                                     ("next", "<i8")])
    rec["id"] = keys
    rec["size"] = 1
    rec["next"] = -1
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.oracleGeneral")
        rec.tofile(path)
        for name, cls in (("lru", lcs.LRU), ("fifo", lcs.FIFO), ("arc", lcs.ARC),
                          ("sieve", lcs.Sieve), ("s3fifo", lcs.S3FIFO),
                          ("wtinylfu", lcs.WTinyLFU)):
            result: list[float] = []

            def run(cls: Any = cls, result: list[float] = result) -> None:
                reader = lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE)
                cache = cls(cache_size=cap)
                result[:] = [cache.process_trace(reader)[0]]

            dt = best_of(rounds, run)
            out[name] = (result[0], len(keys) / dt)
    return out


def peer_miss_ratio(kind: str, keys: Any, cap: int) -> float | None:
    seq = keys.tolist()
    misses = 0
    try:
        if kind == "theine":
            from theine import Cache

            tc: Any = Cache(cap)
            for k in seq:
                if not tc.get(k)[1]:
                    misses += 1
                    tc.set(k, 1)
        else:
            from moka_py import Moka

            mc: Any = Moka(cap)
            for k in seq:
                if mc.get(k) is None:
                    misses += 1
                    mc.set(k, 1)
    except ImportError:
        return None
    return misses / len(seq)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("traces", nargs="*")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true", help="skip theine and moka-py")
    args = ap.parse_args()
    traces = args.traces or sorted(glob.glob(os.path.join(HERE, "..", "tests", "data",
                                                          "traces", "*.npy")))
    if not traces:
        print("# no traces given and none in tests/data/traces: skipped")
        return 0
    for path in traces:
        keys = np.ascontiguousarray(np.load(path), dtype=np.uint64)
        unique = len(np.unique(keys))
        cap = round(unique * 0.05)
        print(f"\n## {os.path.basename(path)}: {len(keys):,} requests, {unique:,} unique keys;"
              f" speed at C = {cap:,} (5%), best of {args.rounds}")
        lcs_rows = libcachesim_replay(keys, cap, args.rounds)
        print(f"{'policy':<12}{'fastcache Mreq/s':>18}{'miss ratio':>12}"
              f"{'libcachesim Mreq/s':>20}{'miss ratio':>12}{'speed ratio':>13}")
        for p in POLICIES:
            res: list[tuple[int, ...]] = []

            def one(p: str = p, res: list[tuple[int, ...]] = res, keys: Any = keys,
                    cap: int = cap) -> None:
                res.append(sim_run(p, keys, cap))

            dt = best_of(args.rounds, one)
            speed = len(keys) / dt
            mr = res[-1][1] / len(keys)
            peer = lcs_rows.get(p)
            tail = (f"{peer[1] / 1e6:>20.1f}{peer[0]:>12.4f}{speed / peer[1]:>12.1f}x"
                    if peer else "")
            print(f"{p:<12}{speed / 1e6:>18.1f}{mr:>12.4f}{tail}")
        if args.no_peers:
            continue
        print(f"\n{'C':>8}{'fastcache wtinylfu':>20}{'auto':>10}{'s3fifo':>10}"
              f"{'theine':>10}{'moka-py':>10}")
        for frac in (0.01, 0.05, 0.10):
            c = round(unique * frac)
            ours = [sim_run(p, keys, c)[1] / len(keys) for p in ("wtinylfu", "auto", "s3fifo")]
            peers = [peer_miss_ratio(k, keys, c) for k in ("theine", "moka")]
            cells = "".join(f"{x:>10.4f}" if x is not None else f"{'n/a':>10}" for x in peers)
            print(f"{c:>8}{ours[0]:>20.4f}{ours[1]:>10.4f}{ours[2]:>10.4f}{cells}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
