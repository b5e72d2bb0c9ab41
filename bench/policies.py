"""Hit and miss paths of SIEVECache, S3FIFOCache and WTinyLFUCache as ratios to LRUCache,
measured in the same run.

Hit: 200,000 lookups ``c[k]`` on a full cache of int keys (random 60-bit ints): of 1,000 keys
(in the CPU's caches) drawn uniformly, and of 100,000 keys (beyond them) drawn uniformly and
with Zipf 0.99 popularity (SIEVE sets a bit, S3-FIFO counts up to 3, LRU moves the entry,
W-TinyLFU counts the key in its sketch and moves the entry within its segment).
Miss: ``c[k] = k`` of keys not in the cache into a full cache (one eviction each): new keys
(uniform) into a cache of 10,000 and of 100,000; and (Zipf) into a cache of 100,000 that Zipf
0.99 traffic over 1,000,000 keys filled (every request a read, a miss inserts), each round
the next distinct keys of that traffic that are not in the cache, so the cache's state (the
sketch, S3-FIFO's frequencies and ghost, W-TinyLFU's segments) is the one that traffic makes.
The caches take turns, one pass each per round, with the garbage collector off; each cache's
best round is kept, and the spread (median over best) says how noisy the run was. Ratios
below 1 mean cheaper than LRUCache. "paired" is the median over rounds of the ratio to
LRUCache's pass of the same round (the passes of a round share the machine's state: on a
noisy machine it moves less than the ratio of the bests). WTinyLFUCache runs with seed=0
(the same sketch every run).

``--peers`` adds, on the 100,000-entry paths, a ``dict`` of the same keys (hits ``d[k]``; the
hit rows then also show their ratio to it) and the W-TinyLFU caches of PyPI where installed:
theine (Rust) and moka-py (Rust's moka, TinyLFU), through their ``get(k)`` and ``set(k, v)``,
filled with the same keys; a peer that did not keep every key shows the share it hits.

    python -m bench.policies               # 25 rounds
    python -m bench.policies --rounds 9 --peers
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from fastcache import IMPLEMENTATION, LRUCache, S3FIFOCache, SIEVECache, WTinyLFUCache

CLASSES: dict[str, Any] = {"LRUCache": LRUCache, "SIEVECache": SIEVECache,
                           "S3FIFOCache": S3FIFOCache, "WTinyLFUCache": WTinyLFUCache}
LABELS = {
    "hit 1000": "hit: c[k] on a full cache of 1,000, uniform",
    "hit 100000": "hit: c[k] on a full cache of 100,000, uniform",
    "hit 100000 zipf": "hit: c[k] on a full cache of 100,000, Zipf 0.99",
    "miss 10000": "miss: c[k] = k (new key) into a full cache of 10,000, uniform",
    "miss 100000": "miss: c[k] = k (new key) into a full cache of 100,000, uniform",
    "miss 100000 zipf": "miss: c[k] = k (absent key) into a full cache of 100,000, Zipf 0.99",
}
ZIPF_KEYS = 1_000_000
PEER_PATHS = ("hit 100000", "hit 100000 zipf", "miss 100000")


class Peer:
    """A peer cache (or a dict) behind one shape: ``get`` and ``set`` bound methods."""

    def __init__(self, name: str, n: int) -> None:
        self.name = name
        if name == "dict":
            self.obj: Any = {}
            self.get: Callable[[Any], Any] = self.obj.__getitem__
            self.set: Callable[[Any, Any], Any] = self.obj.__setitem__
        elif name == "theine":
            from theine import Cache

            self.obj = Cache(n)
            self.get, self.set = self.obj.get, self.obj.set
        else:
            from moka_py import Moka

            self.obj = Moka(n)
            self.get, self.set = self.obj.get, self.obj.set

    def hits(self, keys: list[int]) -> float:
        """The share of keys it holds (a miss: theine's (None, False), moka-py's None)."""
        if self.name == "dict":
            return sum(k in self.obj for k in keys) / len(keys)
        miss = (None, False) if self.name == "theine" else None
        return sum(bool(self.get(k) != miss) for k in keys) / len(keys)


def available_peers() -> list[str]:
    out = ["dict"]
    for name, module in (("theine", "theine"), ("moka-py", "moka_py")):
        try:
            __import__(module)
        except ImportError:
            continue
        out.append(name)
    return out


def make(cls: Any, n: int) -> Any:
    return cls(n, seed=0) if cls is WTinyLFUCache else cls(n)


def zipf_draws(rnd: random.Random, keys: list[int], count: int, s: float = 0.99) -> list[int]:
    """count keys drawn with Zipf(s) popularity, keys[0] the most popular."""
    cum = list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(len(keys))))
    top = cum[-1]
    return [keys[bisect.bisect_left(cum, rnd.random() * top)] for _ in range(count)]


def measure(names: list[str] | None = None, ops: int = 200_000, rounds: int = 25,
            peers: Sequence[str] = ()) -> dict[str, dict[str, list[float]]]:
    """ns per operation of each class (of `names`, all by default; LRUCache always), per path
    (LABELS' keys), one figure per round; `peers` (available_peers()) on PEER_PATHS."""
    classes = {name: CLASSES[name] for name in CLASSES
               if names is None or name in names or name == "LRUCache"}
    rnd = random.Random(1)
    keys = [rnd.getrandbits(60) for _ in range(100_000)]
    orders = {"hit 1000": [rnd.choice(keys[:1000]) for _ in range(ops)],
              "hit 100000": [rnd.choice(keys) for _ in range(ops)],
              "hit 100000 zipf": zipf_draws(rnd, keys, ops)}
    caches: dict[str, dict[str, Any]] = {path: {} for path in LABELS}
    for path in orders:
        n = int(path.split()[1])
        for name, cls in classes.items():
            c = caches[path][name] = make(cls, n)
            for k in keys[:n]:
                c[k] = 0
    universe = [rnd.getrandbits(60) | (1 << 62) for _ in range(ZIPF_KEYS)]
    traffic = iter(zipf_draws(rnd, universe, 1_000_000 + 2 * ops * rounds))
    warm = list(itertools.islice(traffic, 1_000_000))
    zipf_misses = list(itertools.islice(traffic, 2 * ops * rounds))
    for n in (10_000, 100_000):
        for name, cls in classes.items():
            c = caches[f"miss {n}"][name] = make(cls, n)
            for k in keys[:n]:
                c[k] = 0
    for name, cls in classes.items():
        c = caches["miss 100000 zipf"][name] = make(cls, 100_000)
        for k in warm:
            if k in c:
                c[k]
            else:
                c[k] = k
    zipf_at = dict.fromkeys(classes, 0)
    peer_objs: dict[str, dict[str, Peer]] = {path: {} for path in PEER_PATHS}
    for path in PEER_PATHS:
        for name in peers:
            if name == "dict" and path.startswith("miss"):
                continue  # a dict does not evict
            pc = Peer(name, 100_000)
            for k in keys:
                pc.set(k, 0)
            share = pc.hits(orders[path][:10_000]) if path in orders else 1.0
            peer_objs[path][name if share == 1.0 else f"{name} ({share:.0%} hits)"] = pc

    def fresh() -> list[int]:
        """Keys never seen before (built before the timing starts)."""
        return [rnd.getrandbits(60) | (1 << 61) for _ in range(ops // 2)]

    def hits(c: Any, order: list[int]) -> float:
        t = time.perf_counter()
        for k in order:
            c[k]
        return (time.perf_counter() - t) / len(order) * 1e9

    def peer_hits(pc: Peer, order: list[int]) -> float:
        get = pc.get
        t = time.perf_counter()
        for k in order:
            get(k)
        return (time.perf_counter() - t) / len(order) * 1e9

    def peer_inserts(pc: Peer, batch: list[int]) -> float:
        put = pc.set
        t = time.perf_counter()
        for k in batch:
            put(k, k)
        return (time.perf_counter() - t) / len(batch) * 1e9

    def inserts(c: Any, batch: list[int]) -> float:
        t = time.perf_counter()
        for k in batch:
            c[k] = k
        return (time.perf_counter() - t) / len(batch) * 1e9

    def zipf_batch(name: str, c: Any) -> list[int]:
        """The traffic's next distinct keys that are not in c (each one an insert)."""
        batch: dict[int, None] = {}
        i = zipf_at[name]
        while len(batch) < ops // 4 and i < len(zipf_misses):
            k = zipf_misses[i]
            i += 1
            if k not in c:
                batch[k] = None
        zipf_at[name] = i
        if not batch:
            raise RuntimeError("the Zipf traffic ran out: more rounds than it was drawn for")
        return list(batch)

    runs: dict[str, Callable[[str, Any], float]] = {
        "hit 1000": lambda name, c: hits(c, orders["hit 1000"]),
        "hit 100000": lambda name, c: hits(c, orders["hit 100000"]),
        "hit 100000 zipf": lambda name, c: hits(c, orders["hit 100000 zipf"]),
        # new keys every round: always a miss
        "miss 10000": lambda name, c: inserts(c, fresh()),
        "miss 100000": lambda name, c: inserts(c, fresh()),
        "miss 100000 zipf": lambda name, c: inserts(c, zipf_batch(name, c)),
    }
    times: dict[str, dict[str, list[float]]] = {
        path: {name: [] for name in classes} for path in LABELS}
    for path, objs in peer_objs.items():
        for label in objs:
            times[path][label] = []
    gc.disable()
    try:
        for _ in range(rounds):
            for name in classes:
                for path, run in runs.items():
                    times[path][name].append(run(name, caches[path][name]))
            for path, objs in peer_objs.items():
                for label, pc in objs.items():
                    t = (peer_hits(pc, orders[path]) if path in orders
                         else peer_inserts(pc, fresh()))
                    times[path][label].append(t)
    finally:
        gc.enable()
    return times


def report(times: dict[str, dict[str, list[float]]]) -> None:
    for path, label in LABELS.items():
        base = min(times[path]["LRUCache"])
        d = min(times[path]["dict"]) if "dict" in times[path] else None
        print(f"## {label}")
        for name, ts in times[path].items():
            best = min(ts)
            vs_dict = f"  {best / d:5.2f}x dict" if d else ""
            paired = statistics.median(t / b for t, b in zip(ts, times[path]["LRUCache"],
                                                              strict=True))
            print(f"  {name:14s} {best:7.1f} ns  {best / base:5.2f}x LRUCache{vs_dict}  "
                  f"paired {paired:5.2f}x  spread {statistics.median(ts) / best:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--peers", action="store_true",
                        help="also a dict, theine and moka-py (where installed) on the 100k paths")
    args = parser.parse_args()
    peers = available_peers() if args.peers else []
    print(f"# implementation: {IMPLEMENTATION}; ns per operation, lower is better; best of "
          f"{args.rounds} interleaved rounds; spread = median / best"
          + (f"; peers: {', '.join(peers)} (through get/set)" if peers else ""))
    report(measure(rounds=args.rounds, peers=peers))


if __name__ == "__main__":
    main()
