"""The workloads and the timing of the benchmarks: keys, access orders, the timed loops.

The same loop function times every contender (``for k in keys: c[k]``), so the loop's own
overhead is equal on both sides of every ratio; ``best_ns`` makes the contenders take turns
round by round and keeps each one's best round, and how far the other rounds fell from it
(the spread, a measure of how noisy the machine was).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import random
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = [
    "Timed",
    "best_ns",
    "cache_aside_loop",
    "dict_insert_evict_loop",
    "gc_off",
    "hit_loop",
    "insert_loop",
    "make_keys",
    "scattered",
    "zipf_requests",
]

# Odd multiplier: i -> (i * _MIX) & _MASK is a bijection on [0, 2**61), so the keys are
# distinct, spread over the hash space, and cheap to build (no random.sample of millions).
_MIX = 0x9E3779B97F4A7C15
_MASK = (1 << 61) - 1


def make_keys(n: int, offset: int = 0) -> list[int]:
    """``n`` distinct pseudo-random ints (the same for every call with the same arguments)."""
    return [(i * _MIX) & _MASK for i in range(offset, offset + n)]


def scattered(keys: Sequence[int], ops: int, seed: int = 3) -> list[int]:
    """``ops`` accesses visiting ``keys`` in a random order, each about equally often.

    (A random order, not a stride: a stride through keys inserted in order would walk a
    dict's entry array sequentially, which the CPU prefetches, and flatter the dict.)
    """
    rng = random.Random(seed)
    out: list[int] = []
    while len(out) < ops:
        out += rng.sample(keys, min(len(keys), ops - len(out)))
    return out


# The timed loops. The same function times every contender, so the loop overhead is equal.
def hit_loop(cache: Any, keys: Iterable[Any]) -> None:
    """``cache[k]`` for every k (all hits)."""
    for k in keys:
        cache[k]


def insert_loop(cache: Any, keys: Iterable[Any]) -> None:
    """``cache[k] = k`` for every k."""
    for k in keys:
        cache[k] = k


def dict_insert_evict_loop(d: dict[Any, Any], pairs: Iterable[tuple[Any, Any]]) -> None:
    """The dict baseline of an insert with eviction: ``d[k] = k; del d[oldest]``."""
    for k, old in pairs:
        d[k] = k
        del d[old]


def cache_aside_loop(cache: Any, requests: Iterable[Any]) -> int:
    """Cache-aside: ``get``, and on a miss load (the key itself) and insert. Returns misses."""
    misses = 0
    get = cache.get
    for k in requests:
        if get(k) is None:
            misses += 1
            cache[k] = k
    return misses


Timed = tuple[Callable[..., object], tuple[Any, ...]]  # a loop and its arguments


@contextlib.contextmanager
def gc_off() -> Iterator[None]:
    """The garbage collector off inside (as ``timeit``), as it was after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def best_ns(timed: list[Timed], ops: int, repeat: int, budget_s: float,
            spreads: list[float] | None = None) -> list[float]:
    """The best of up to ``repeat`` timed calls of each ``loop(*args)``, in ns per operation.

    The loops take turns (one call each per round), so a baseline and the contenders see
    the same machine load. Stops early, after at least two rounds, once ``budget_s``
    seconds per loop were spent. ``spreads``, when given, receives for each loop how far
    its median round was above its best (0.05: 5% slower), a measure of the noise.
    """
    rounds: list[list[int]] = [[] for _ in timed]
    spent = 0
    with gc_off():
        for i in range(repeat):
            for j, (loop, args) in enumerate(timed):
                t0 = time.perf_counter_ns()
                loop(*args)
                dt = time.perf_counter_ns() - t0
                rounds[j].append(dt)
                spent += dt
            if i >= 1 and spent > budget_s * 1e9 * len(timed):
                break
    if spreads is not None:
        spreads.extend(statistics.median(r) / min(r) - 1 for r in rounds)
    return [min(r) / ops for r in rounds]


def zipf_requests(n_keys: int, n_requests: int, s: float = 0.99, seed: int = 1) -> list[int]:
    """``n_requests`` keys drawn with P(rank r) proportional to 1 / r**s over ``n_keys`` keys.

    Ranks are mapped to scattered keys, so popularity is not correlated with hash order.
    """
    cum = list(itertools.accumulate(1.0 / r**s for r in range(1, n_keys + 1)))
    ranks = random.Random(seed).choices(range(n_keys), cum_weights=cum, k=n_requests)
    keys = make_keys(n_keys, offset=1 << 40)
    return [keys[i] for i in ranks]
