"""Cache patterns over a slow sqlite3 source under a Zipf workload, and the L1 hit path.

    python -m bench.bench_patterns            # from the repository root, ~50 s
    python -m bench.bench_patterns --quick    # fewer operations (~15 s)

The source is ``SQLSource`` on a sqlite3 file of 10,000 rows with 1 ms added to every SQL
statement (a ``set_trace_callback`` that sleeps, so the latency is inside the database
call, where a network round trip would be). Keys are drawn from a Zipf distribution
(exponent 1.0) over those rows; 95 % of operations are reads, 5 % writes. Every pattern
gets a fresh ``MemoryBackend(maxsize=1000)`` (10 % of the rows) and the same operation
sequence: 5,000 warm-up operations (without the added latency), then 6,000 measured.
MultiLevelCache uses that memory backend as L1 over a Redis L2 (a redis-server started on
a free port).

Reported per pattern: hit ratio (1 - source reads / cache reads), read p50/p99 and write
p50/p99 in microseconds, and the ratio of the read p50 to the uncached source's read p50.

Then the L1 hit path: ``MultiLevelCache.get`` of a key held in L1 against a bare
``MemoryBackend.get`` of the same key on the same backend, the two sides alternating in
chunks, the median of the per-chunk ratios (goal: <= 2.0x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fastcache.backends import MemoryBackend, RedisBackend
from fastcache.patterns import (
    CacheAside,
    Level,
    MultiLevelCache,
    ReadThrough,
    WriteAround,
    WriteBehind,
    WriteThrough,
)
from fastcache.sources import SQLSource
from tests.servers import RedisServer

ROWS = 10_000
L1_SIZE = 1_000
WRITE_SHARE = 0.05
LATENCY = 0.001


class CountingSource:
    """Counts the reads that reach the source."""

    def __init__(self, inner: SQLSource) -> None:
        self.inner = inner
        self.reads = 0

    def get(self, key: str) -> object:
        self.reads += 1
        return self.inner.get(key)

    def get_many(self, keys: Any) -> dict[str, Any]:
        self.reads += 1
        return self.inner.get_many(keys)

    def set(self, key: str, value: Any) -> None:
        self.inner.set(key, value)

    def set_many(self, mapping: Any) -> None:
        self.inner.set_many(mapping)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def make_source(path: str) -> SQLSource:
    src = SQLSource.sqlite(path, "kv")
    src.connection.execute("PRAGMA journal_mode=WAL")
    src.connection.execute("PRAGMA synchronous=OFF")
    src.set_many({f"row:{i}": {"id": i, "name": f"item {i}", "price": i % 97}
                  for i in range(ROWS)})
    return src


def add_latency(src: SQLSource, on: bool) -> None:
    """1 ms per SQL statement, inside the database call (or none, for the warm-up)."""
    src.connection.set_trace_callback((lambda _stmt: time.sleep(LATENCY)) if on else None)


def workload(n: int, seed: int = 42) -> list[tuple[bool, str, int]]:
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, ROWS + 1, dtype=np.float64)
    p = 1.0 / ranks
    p /= p.sum()
    perm = rng.permutation(ROWS)  # hot keys spread over the table
    keys = perm[rng.choice(ROWS, size=n, p=p)]
    writes = rng.random(n) < WRITE_SHARE
    pairs = zip(writes, keys, strict=True)
    return [(bool(w), f"row:{int(k)}", i) for i, (w, k) in enumerate(pairs)]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def run_pattern(name: str, make: Callable[[CountingSource], Any], src: SQLSource,
                ops: list[tuple[bool, str, int]], warmup: int) -> dict[str, Any]:
    counting = CountingSource(src)
    cache = make(counting)
    get = cache.get
    put = getattr(cache, "set", None)
    reads: list[float] = []
    writes: list[float] = []
    perf = time.perf_counter
    add_latency(src, False)  # the warm-up only fills the cache
    for i, (is_write, key, seq) in enumerate(ops):
        if i == warmup:
            counting.reads = 0
            add_latency(src, True)
        value = {"id": seq, "name": f"item v{seq}", "price": seq % 97}
        t0 = perf()
        if is_write:
            if put is not None:
                put(key, value)
            else:
                src.set(key, value)
                cache.invalidate(key)
        else:
            get(key)
        dt = perf() - t0
        if i >= warmup:
            (writes if is_write else reads).append(dt * 1e6)
    close = getattr(cache, "close", None)
    if close is not None:
        close()
    return {
        "name": name,
        "hit": 1 - counting.reads / max(1, len(reads)),
        "r50": pct(reads, 0.5), "r99": pct(reads, 0.99),
        "w50": pct(writes, 0.5), "w99": pct(writes, 0.99),
    }


class NoCache:
    """The baseline: every read and write goes to the source."""

    def __init__(self, source: CountingSource) -> None:
        self.source = source

    def get(self, key: str) -> object:
        return self.source.get(key)

    def set(self, key: str, value: Any) -> None:
        self.source.set(key, value)


def l1_hit_ratio(rounds: int, chunk: int = 20_000) -> tuple[float, float, float]:
    mem = MemoryBackend(maxsize=L1_SIZE)
    ml = MultiLevelCache([Level(mem, ttl=3600)], None)
    mem.set("hot", {"id": 1})
    assert ml.get("hot") == {"id": 1}
    keys = ["hot"] * chunk
    ratios, ours, base = [], [], []
    bare_get, ml_get = mem.get, ml.get
    for _ in range(rounds):
        t0 = time.perf_counter()
        for k in keys:
            bare_get(k)
        t1 = time.perf_counter()
        for k in keys:
            ml_get(k)
        t2 = time.perf_counter()
        base.append((t1 - t0) / chunk * 1e9)
        ours.append((t2 - t1) / chunk * 1e9)
        ratios.append((t2 - t1) / (t1 - t0))
    return statistics.median(ours), statistics.median(base), statistics.median(ratios)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer operations")
    args = ap.parse_args()
    n_ops = 2_000 if args.quick else 6_000
    warmup = 2_000 if args.quick else 5_000
    ops = workload(n_ops + warmup)

    def memory() -> MemoryBackend:
        return MemoryBackend(maxsize=L1_SIZE)

    with tempfile.TemporaryDirectory() as tmp, RedisServer() as redis_server:
        src = make_source(os.path.join(tmp, "bench.sqlite3"))
        l2 = RedisBackend(redis_server.url, prefix="bench")
        patterns: list[tuple[str, Callable[[CountingSource], Any]]] = [
            ("no cache (source only)", NoCache),
            ("CacheAside", lambda s: CacheAside(memory(), s, ttl=300)),
            ("ReadThrough", lambda s: ReadThrough(memory(), s.get, ttl=300)),
            ("WriteThrough", lambda s: WriteThrough(memory(), s, ttl=300)),
            ("WriteAround", lambda s: WriteAround(memory(), s, ttl=300)),
            ("WriteBehind", lambda s: WriteBehind(memory(), s, ttl=300)),
            ("MultiLevel L1 mem / L2 redis",
             lambda s: MultiLevelCache([Level(memory(), ttl=60), Level(l2, ttl=300)], s)),
        ]
        rows = []
        for name, make in patterns:
            l2.clear()
            rows.append(run_pattern(name, make, src, ops, warmup))
        l2.close()
        src.close()

    base = rows[0]["r50"]
    print(f"\nZipf(1.0) over {ROWS:,} sqlite3 rows, +{LATENCY * 1e3:.0f} ms per statement, "
          f"{n_ops:,} ops measured after {warmup:,} warm-up, {WRITE_SHARE:.0%} writes, "
          f"L1 = MemoryBackend(maxsize={L1_SIZE:,})")
    print(f"{'pattern':30} {'hit ratio':>9} {'read p50':>10} {'read p99':>10} "
          f"{'write p50':>10} {'write p99':>10} {'p50 vs source':>14}")
    for r in rows:
        print(f"{r['name']:30} {r['hit']:9.3f} {r['r50']:9.1f}us {r['r99']:9.1f}us "
              f"{r['w50']:9.1f}us {r['w99']:9.1f}us {base / r['r50']:13.1f}x")
    ours, bare, ratio = l1_hit_ratio(rounds=5 if args.quick else 15)
    verdict = "meets" if ratio <= 2.0 else "MISSES"
    print(f"\nL1 hit path: MultiLevelCache.get {ours:.0f} ns, bare MemoryBackend.get {bare:.0f} "
          f"ns -> {ratio:.2f}x ({verdict} the <= 2.0x goal)")


if __name__ == "__main__":
    main()
