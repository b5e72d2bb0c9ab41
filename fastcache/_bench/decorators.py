"""Decorator call costs, each as a ratio to a baseline measured in the same run.

Shipped in the package so that ``python -m fastcache bench`` shows these rows from an
installed wheel too; ``bench/bench_decorators.py`` runs it from a checkout:

    python -m bench.bench_decorators            # full run (~50 s)
    python -m bench.bench_decorators --quick    # fewer repeats (~10 s)
    python -m bench.bench_decorators --threads  # 8 threads x 100k mixed calls (check)

``rows(quick)`` returns ``(label, ns per call, baseline, the baseline's ns per call)`` rows
for ``fastcache bench``: the baseline is ``functools.lru_cache`` doing the same calls, or
the peer (cachetools, cachebox) with its decorator of the same name; the ratio is
fastcache's time over the baseline's (below 0.2 means at least 5x faster). Targets: one
int hit <= 0.75, two positional + one keyword hit <= 0.8, miss with eviction <= 0.9,
ttl/lfu hit <= 1.2 (against an lru hit), every decorator <= 0.2 of cachetools' and < 1.0
of cachebox's ``cached``.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

from .. import decorators as fd


def _one(x: int) -> int:
    return x


def _three(a: int, b: int, c: int = 0) -> int:
    return a + b + c


def _hit_case(deco: Callable[[Callable[..., Any]], Any], stmt: str) -> tuple[str, dict[str, Any]]:
    """A hit: ``stmt`` calling ``f`` = ``deco`` over a trivial function, warmed once."""
    f = deco(_three if "c=" in stmt else _one)
    env = {"f": f}
    exec(stmt, env)  # the first call is a miss
    return stmt, env


def _miss_case(deco: Callable[[Callable[..., Any]], Any]) -> tuple[str, dict[str, Any]]:
    """Always a new key, into a full cache of 1000 (every call evicts)."""
    f = deco(_one)
    for i in range(1000):
        f(i)
    return "f(nxt())", {"f": f, "nxt": itertools.count(10**6).__next__}


def _method_case(cachedmethod: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """A hit of a method cached per instance in ``self.cache`` (a dict)."""

    class Service:
        def __init__(self) -> None:
            self.cache: dict[Any, Any] = {}

        @cachedmethod(lambda self: self.cache)  # type: ignore[untyped-decorator]
        def get(self, x: int) -> int:
            return x

    s = Service()
    s.get(5)
    return "s.get(5)", {"s": s}


def _measure(cases: dict[str, tuple[str, dict[str, Any]]], number: int, repeat: int,
             spreads: list[float] | None = None) -> dict[str, float]:
    """ns per call of each case; repeats interleave the cases (a shared, noisy machine
    slows them alike), each case's best repeat counts. ``spreads`` receives each case's
    median repeat over its best, minus 1 (the noise)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    timers = {name: timeit.Timer(stmt, globals=env) for name, (stmt, env) in cases.items()}
    for _ in range(repeat):
        for name, timer in timers.items():
            times[name].append(timer.timeit(number) / number * 1e9)
    if spreads is not None:
        spreads.extend(statistics.median(t) / min(t) - 1 for t in times.values())
    return {name: min(t) for name, t in times.items()}


def _optional(name: str) -> Any:
    """A peer library, or None when it is not installed (its rows are left out)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def rows(quick: bool, spreads: list[float] | None = None) -> list[tuple[str, float, str, float]]:
    """The decorator rows of ``fastcache bench``: (label, ns/call, baseline, its ns/call).

    The functools rows are always there; the cachetools and cachebox rows when those
    libraries are installed (``pip install "fastcache[bench]"``)."""
    cachebox = _optional("cachebox")
    cachetools = _optional("cachetools")

    from .. import LRUCache

    number, repeat = (20_000, 5) if quick else (100_000, 15)
    one, three = "f(5)", "f(1, 2, c=3)"
    lru = fd.lru_cache(maxsize=128)
    cases = {
        "functools 1": _hit_case(functools.lru_cache(maxsize=128), one),
        "ours 1": _hit_case(lru, one),
        "functools 3": _hit_case(functools.lru_cache(maxsize=128), three),
        "ours 3": _hit_case(lru, three),
        "functools miss": _miss_case(functools.lru_cache(maxsize=1000)),
        "ours miss": _miss_case(fd.lru_cache(maxsize=1000)),
    }
    if cachebox is not None:
        cases["cachebox"] = _hit_case(cachebox.cached(cachebox.LRUCache(128)), one)
    family: list[tuple[str, Any, Any]] = [
        ("ttl_cache", fd.ttl_cache(maxsize=128, ttl=600), (128, 600)),
        ("lfu_cache", fd.lfu_cache(maxsize=128), (128,)),
        ("fifo_cache", fd.fifo_cache(maxsize=128), (128,)),
        ("rr_cache", fd.rr_cache(maxsize=128), (128,)),
        ("lru_cache", lru, (128,)),
        ("cached(LRUCache(128))", fd.cached(LRUCache(128)), None),
    ]
    for name, ours_deco, _ in family:
        cases["ours " + name] = _hit_case(ours_deco, one)
    cases["ours cachedmethod"] = _method_case(fd.cachedmethod)
    if cachetools is not None:
        import cachetools.func

        for name, _, peer_args in family:  # cachetools.func's decorator of the same name
            deco = (cachetools.cached(cachetools.LRUCache(128)) if peer_args is None
                    else getattr(cachetools.func, name)(*peer_args))
            cases["cachetools " + name] = _hit_case(deco, one)
        cases["cachetools cachedmethod"] = _method_case(cachetools.cachedmethod)
    t = _measure(cases, number, repeat, spreads)

    out: list[tuple[str, float, str, float]] = [
        ("lru_cache hit, one int arg", t["ours 1"], "functools", t["functools 1"]),
        ("lru_cache hit, 2 pos + 1 kw", t["ours 3"], "functools", t["functools 3"]),
        ("lru_cache miss + eviction, full 1000", t["ours miss"], "functools",
         t["functools miss"]),
    ]
    for name in ("ttl_cache", "lfu_cache"):
        out.append((f"{name} hit", t["ours " + name], "functools lru_cache hit",
                    t["functools 1"]))
    if cachetools is not None:
        for name in [f[0] for f in family] + ["cachedmethod"]:
            out.append((f"{name} hit", t["ours " + name], "cachetools",
                        t["cachetools " + name]))
    if cachebox is not None:
        for name, _, _ in family:
            out.append((f"{name} hit", t["ours " + name], "cachebox.cached(LRUCache)",
                        t["cachebox"]))
    return out


def threads_check(calls_per_thread: int = 100_000, nthreads: int = 8) -> list[str]:
    """Eight threads making mixed calls (switch interval 1e-6) into each decorator: no
    crash, currsize <= maxsize whenever sampled, hits + misses == calls. Raises if not."""
    import random
    import threading

    report = []
    maxsize = 256
    for name, deco in [("lru_cache", fd.lru_cache(maxsize)), ("lfu_cache", fd.lfu_cache(maxsize)),
                       ("ttl_cache", fd.ttl_cache(maxsize, ttl=0.001)),
                       ("fifo_cache", fd.fifo_cache(maxsize))]:
        f = deco(lambda x, y=0: (x, y))
        over: list[int] = []

        def work(seed: int, f: Any = f, over: list[int] = over) -> None:
            rnd = random.Random(seed)
            for i in range(calls_per_thread):
                x = rnd.randrange(1000)
                r = rnd.random()
                if r < 0.5:
                    f(x)
                elif r < 0.8:
                    f(str(x), y=x)
                else:
                    f(x, x)
                if i % 5000 == 0 and f.cache_info().currsize > maxsize:
                    over.append(f.cache_info().currsize)

        old = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            threads = [threading.Thread(target=work, args=(s,)) for s in range(nthreads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(old)
        hits, misses, _, currsize = f.cache_info()
        calls = nthreads * calls_per_thread
        if over or currsize > maxsize or hits + misses != calls:
            raise AssertionError(f"{name}: over={over} currsize={currsize} "
                                 f"hits+misses={hits + misses} calls={calls}")
        report.append(f"{name}: {nthreads} threads x {calls_per_thread} calls ok "
                      f"(hits {hits}, misses {misses}, currsize {currsize} <= {maxsize})")
    return report


def main() -> None:
    print(f"wrapper: {fd.WRAPPER_IMPLEMENTATION}")
    if "--threads" in sys.argv:
        for line in threads_check():
            print(line)
        return
    quick = "--quick" in sys.argv
    for label, ns, baseline, base_ns in rows(quick):
        print(f"{label:38s} {ns:8.1f} ns  vs {baseline:26s} {base_ns:8.1f} ns"
              f"  {ns / base_ns:6.2f}x")
