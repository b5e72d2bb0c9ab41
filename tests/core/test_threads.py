"""Threads: 8 threads hammer one cache with a tiny switch interval. No exception, ``len`` never
above ``maxsize``, the structure consistent afterwards, and hits + misses == gets."""

from __future__ import annotations

import random
import sys
import threading
import time
from types import ModuleType
from typing import Any

import pytest

from .support import POLICIES, make, ttu_plus

THREADS = 8
OPS = 2500
MAXSIZE = 32


def hammer(c: Any, seed: int, gets: list[int], errors: list[BaseException],
           start: threading.Barrier) -> None:
    rng = random.Random(seed)
    n = 0
    try:
        start.wait()
        for i in range(OPS):
            key = rng.randrange(3 * MAXSIZE)
            op = rng.randrange(10)
            if op < 3:
                c.get(key)
                n += 1
            elif op == 3:
                try:
                    c[key]
                except KeyError:
                    pass
                n += 1
            elif op < 6:
                c[key] = i
            elif op == 6:
                c.pop(key, None)
            elif op == 7:
                try:
                    c.popitem()
                except KeyError:
                    pass
            elif op == 8:
                assert len(c) <= MAXSIZE
                assert len(list(c)) <= MAXSIZE
            else:
                try:
                    del c[key]
                except KeyError:
                    pass
                key in c  # noqa: B015
    except BaseException as exc:
        errors.append(exc)
    gets.append(n)


@pytest.mark.parametrize("name", POLICIES)
def test_threads(impl: ModuleType, name: str) -> None:
    extra: dict[str, Any] = {}
    if name == "TTLCache":
        extra = {"ttl": 0.002, "timer": time.monotonic}
    elif name == "TLRUCache":
        extra = {"ttu": ttu_plus(0.002), "timer": time.monotonic}
    c = make(impl, name, MAXSIZE, stats=True, **extra)
    gets: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=hammer, args=(c, seed, gets, errors, start))
                   for seed in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert len(gets) == THREADS
    stats = c.stats()
    assert stats.hits + stats.misses == sum(gets)
    assert len(c) <= MAXSIZE
    c._check()
