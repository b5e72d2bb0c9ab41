"""Backend overhead and batching, each figure a ratio measured in the same run.

    python -m bench.bench_backends            # from the repository root, ~30 s
    python -m bench.bench_backends --quick    # fewer rounds

Starts its own redis-server, 3-node Redis Cluster and 3 memcached servers (tests/servers.py)
on free loopback ports and reports:

- RedisBackend.get / redis-py ``Redis.get`` (goal <= 1.1x), the same client options, a hit
  of a 100-byte value;
- MemcachedBackend.get / pymemcache ``HashClient.get`` (goal <= 1.1x), same servers and
  options (both with ``FastRendezvousHash``; pymemcache's default pure-Python murmur3
  hasher costs more than the round trip itself, see the extra line);
- 1,000 x ``get`` / one ``get_many`` of the same 1,000 keys (goal >= 10x) on Redis,
  Redis Cluster and memcached.

The two sides of each ratio alternate call by call and each figure is a median (see
``ratio``), so load from other processes on a shared machine falls on both sides alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from fastcache.backends import MemcachedBackend, RedisBackend, RedisClusterBackend
from fastcache.backends.memcached import FastRendezvousHash
from tests.servers import MemcachedServers, RedisCluster, RedisServer

VALUE = b"v" * 100


def ratio(ours: Callable[[], object], theirs: Callable[[], object], calls: int,
          rounds: int) -> tuple[float, float, float]:
    """(seconds per call of ours, of theirs, ours/theirs).

    The two sides alternate call by call (the order flipping each time), each call timed on
    its own, and each side's figure is the median of its calls: load from other processes
    on a shared machine falls on both sides alike and outliers do not move a median.
    ``rounds`` repeats a batch of ``calls`` calls (a side is timed over a batch when one
    call is too short to time alone).
    """
    clock = time.perf_counter
    a: list[float] = []
    b: list[float] = []
    ours(), theirs()
    for i in range(rounds):
        pair = ((ours, a), (theirs, b)) if i % 2 == 0 else ((theirs, b), (ours, a))
        for fn, samples in pair:
            start = clock()
            for _ in range(calls):
                fn()
            samples.append((clock() - start) / calls)
    ma, mb = statistics.median(a), statistics.median(b)
    return ma, mb, ma / mb


def report(name: str, a: float, b: float, r: float, goal: str, ok: bool) -> bool:
    print(f"{name:<44} {a * 1e6:10.1f} us {b * 1e6:10.1f} us {r:8.2f}x  "
          f"goal {goal:<7} {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    calls, rounds = (1, 1000) if args.quick else (1, 4000)
    many_rounds = 3 if args.quick else 7
    keys = [f"key:{i}" for i in range(1000)]
    results = []
    print(f"{'':<44} {'ours':>13} {'baseline':>13} {'ratio':>9}")
    with RedisServer() as rs, RedisCluster(3) as rc, MemcachedServers(3) as ms:
        import redis
        from pymemcache.client.hash import HashClient  # type: ignore[import-untyped]

        # -- single get overhead ---------------------------------------------------------
        rb = RedisBackend(rs.url, prefix="bench")
        raw = redis.Redis.from_url(rs.url, socket_timeout=1.0, socket_connect_timeout=1.0)
        rb.set("k", VALUE)
        full = rb.namespace.head + "k"
        assert raw.get(full) is not None
        a, b, r = ratio(lambda: rb.get("k"), lambda: raw.get(full), calls, rounds)
        results.append(report("RedisBackend.get / redis-py get", a, b, r, "<= 1.1x", r <= 1.1))

        mb = MemcachedBackend(ms.addresses, prefix="bench")
        mb.set("k", VALUE)
        mkey = mb._key("k")
        hc = HashClient(ms.addresses, connect_timeout=1.0, timeout=1.0, use_pooling=True,
                        default_noreply=False, no_delay=True, retry_attempts=2,
                        retry_timeout=1.0, dead_timeout=30.0, hasher=FastRendezvousHash)
        assert hc.get(mkey) is not None
        a, b, r = ratio(lambda: mb.get("k"), lambda: hc.get(mkey), calls, rounds)
        results.append(report("MemcachedBackend.get / pymemcache get", a, b, r, "<= 1.1x",
                              r <= 1.1))

        # -- get_many vs gets ------------------------------------------------------------
        cb = RedisClusterBackend(startup_nodes=rc.startup_nodes, prefix="bench")
        for name, backend in (("Redis", rb), ("Cluster", cb), ("Memcached", mb)):
            backend.set_many(dict.fromkeys(keys, VALUE))
            assert len(backend.get_many(keys)) == len(keys)

            def one_by_one(backend: object = backend) -> None:
                get = backend.get  # type: ignore[attr-defined]
                for k in keys:
                    get(k)

            def batched(backend: Any = backend) -> None:
                backend.get_many(keys)

            a, b, r = ratio(one_by_one, batched, 1, many_rounds)
            results.append(report(f"{name}: 1,000 get / get_many(1,000)", a, b, r,
                                  ">= 10x", r >= 10))
        for closeable in (rb, raw, mb, cb):
            closeable.close()
        hc.close()
    print("all goals met" if all(results) else "some goals missed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
