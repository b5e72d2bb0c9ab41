"""MemoryBackend hot paths against a bare ``fastcache.TTLCache`` and a ``dict``, same run.

    python -m bench.bench_memory_backend            # from the repository root, ~15 s
    python -m bench.bench_memory_backend --quick    # fewer rounds (~2 s)
    FASTCACHE_PURE_PYTHON=1 python -m bench.bench_memory_backend   # over the twin

1,000 distinct ``str`` keys, visited in a random order by the same Python loop for every
contender (``for k in keys: f(k)``, the bound method looked up once, so loop overhead is
equal and included in ns/op). Rows:

- ``dict.get`` and ``TTLCache(maxsize, math.inf).get`` of a present key: the baselines;
- ``MemoryBackend.get`` hit and miss for each policy (``lru``, ``ttl``, ``lfu``; the
  entries of the ``*+ttl`` rows were stored with ``ttl=3600``), hit with a serializer;
- ``MemoryBackend.set`` of a present key, without and with a ``ttl``.

Every row of a round is timed once per round, the row order rotating from round to round,
so load from other processes on the shared machine falls on all rows alike; each figure is
the best (minimum) over the rounds, as ``timeit``, garbage collector off while timing.
Reported: ns per operation, and the ratios to ``dict.get`` and to ``TTLCache.get``.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import time
from collections.abc import Callable

import fastcache
from fastcache import TTLCache
from fastcache.backends import MemoryBackend
from fastcache.serializers import MsgpackSerializer

N = 1_000


def loop(fn: Callable[[str], object], keys: list[str]) -> float:
    """Seconds for ``fn(k)`` over ``keys`` (one pass)."""
    clock = time.perf_counter
    start = clock()
    for k in keys:
        fn(k)
    return clock() - start


Row = tuple[str, Callable[[str], object], list[str]]


def rows(keys: list[str], missing: list[str]) -> list[Row]:
    """(name, one-argument callable, keys it is called with) for every row."""
    d = {k: k for k in keys}
    ttl_cache: TTLCache[str, str] = TTLCache(N * 2, math.inf)
    for k in keys:
        ttl_cache[k] = k
    out: list[Row] = [
        ("dict.get", d.get, keys),
        ("TTLCache.get", ttl_cache.get, keys),
    ]
    for policy in ("lru", "ttl", "lfu"):
        for ttl in (None, 3600.0):
            b = MemoryBackend(N * 2, policy)
            for k in keys:
                b.set(k, k, ttl)
            name = policy + ("" if ttl is None else "+ttl")
            out.append((f"MemoryBackend({name}).get hit", b.get, keys))
            if ttl is None:
                out.append((f"MemoryBackend({name}).get miss", b.get, missing))
    coded = MemoryBackend(N * 2, serializer=MsgpackSerializer())
    for k in keys:
        coded.set(k, k)
    out.append(("MemoryBackend(lru, msgpack).get hit", coded.get, keys))
    setter = MemoryBackend(N * 2)
    for k in keys:
        setter.set(k, k)
    out.append(("MemoryBackend(lru).set", lambda k: setter.set(k, k), keys))
    out.append(("MemoryBackend(lru).set ttl", lambda k: setter.set(k, k, 3600.0), keys))
    return out


def main() -> None:
    """Time every row, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    args = ap.parse_args()
    rounds = 50 if args.quick else 200
    rng = random.Random(1)
    keys = [f"key:{rng.getrandbits(40):x}" for _ in range(N)]
    missing = [f"absent:{i}" for i in range(N)]
    rng.shuffle(keys)
    table = rows(keys, missing)
    best = [math.inf] * len(table)
    gc.disable()
    try:
        for r in range(rounds):
            shift = r % len(table)
            for i in list(range(shift, len(table))) + list(range(shift)):
                _, fn, ks = table[i]
                best[i] = min(best[i], loop(fn, ks) / len(ks))
    finally:
        gc.enable()
    base_dict, base_ttl = best[0], best[1]
    print(f"implementation {fastcache.IMPLEMENTATION}, {N:,} str keys, best of {rounds} "
          f"rounds (ns/op includes the loop)")
    print(f"{'operation':38} {'ns/op':>8} {'/ dict.get':>11} {'/ TTLCache.get':>15}")
    for (name, _, _), t in zip(table, best, strict=True):
        print(f"{name:38} {t * 1e9:8.1f} {t / base_dict:10.2f}x {t / base_ttl:14.2f}x")


if __name__ == "__main__":
    main()
