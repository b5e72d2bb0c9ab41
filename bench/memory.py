"""Bytes per entry beyond the keys and values, from the process RSS at 1,000,000 entries.

Each container is measured in a fresh subprocess: the keys and values (the same 1,000,000
pre-allocated ints) and the libraries are created/imported first, the RSS is read, the
container is filled, and the RSS is read again; the difference over the number of entries
is the container's own cost (hash table, links, nodes). Containers: dict (the baseline),
fastcache's LRUCache/LFUCache/TTLCache (compiled core), functools.lru_cache (bounded, keyed
by the single int argument itself), cachetools.LRUCache, cachebox.LRUCache, lru-dict's LRU,
and fastcache's SIEVECache, S3FIFOCache and WTinyLFUCache (seed=0).
A library that is not installed is shown as such. Goals: LRUCache <= 64 B/entry; the three
policies at most LRUCache's + 16 B/entry.

``--churn`` then writes as many new keys again before the second reading (each one evicts):
the steady state of a full cache, S3-FIFO's ghost holding the hashes of evicted keys and
W-TinyLFU's sketch and shadows made; containers that do not evict are not measured then.

Reproduce (from the repository root, after ``pip install -e .``)::

    python -m bench.memory              # 1,000,000 entries, ~30 s
    python -m bench.memory --n 100000   # smaller
    python -m bench.memory --churn      # full caches after evicting as many entries
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from fastcache import _bench

GOAL = 64.0
POLICY_MARGIN = 16.0  # SIEVE, S3-FIFO, W-TinyLFU: at most LRUCache's + this
POLICIES = ("fastcache SIEVECache (c)", "fastcache S3FIFOCache (c)",
            "fastcache WTinyLFUCache (c)")


def _fastcache(name: str) -> Callable[[int], Any]:
    import fastcache
    from fastcache import caches

    if fastcache.IMPLEMENTATION != "c":
        raise ImportError("compiled core not loaded")
    cls = getattr(caches, name)
    if name == "TTLCache":
        return lambda n: cls(n, 1e9)
    if name == "WTinyLFUCache":
        return lambda n: cls(n, seed=0)
    return cls  # type: ignore[no-any-return]


def _lru_cache(n: int) -> Any:
    import functools

    return functools.lru_cache(maxsize=n)(lambda k: k)


def _module(module: str, attr: str) -> Callable[[int], Any]:
    mod = __import__(module)
    return getattr(mod, attr)  # type: ignore[no-any-return]


# name -> a function that imports the library and returns a factory (maxsize -> container)
CONTAINERS: dict[str, Callable[[], Callable[[int], Any]]] = {
    "dict": lambda: lambda n: {},
    "fastcache LRUCache (c)": lambda: _fastcache("LRUCache"),
    "fastcache LFUCache (c)": lambda: _fastcache("LFUCache"),
    "fastcache TTLCache (c)": lambda: _fastcache("TTLCache"),
    "fastcache SIEVECache (c)": lambda: _fastcache("SIEVECache"),
    "fastcache S3FIFOCache (c)": lambda: _fastcache("S3FIFOCache"),
    "fastcache WTinyLFUCache (c)": lambda: _fastcache("WTinyLFUCache"),
    "functools.lru_cache": lambda: _lru_cache,
    "cachetools LRUCache": lambda: _module("cachetools", "LRUCache"),
    "cachebox LRUCache": lambda: _module("cachebox", "LRUCache"),
    "lru-dict LRU": lambda: _module("lru", "LRU"),
}


def rss() -> int:
    """Resident set size of this process, in bytes (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(name: str, n: int, churn: bool = False) -> dict[str, Any]:
    """Measure one container in this (fresh) process."""
    try:
        factory = CONTAINERS[name]()
    except ImportError as exc:
        return {"error": str(exc) or "not installed"}
    # > 2**30: no small-int cache sharing; with churn, n more keys written after the first n
    keys = _bench.make_keys(2 * n if churn else n, offset=1 << 30)
    container = factory(n)  # empty; its fixed cost is not per entry
    gc.collect()
    before = rss()
    if name == "functools.lru_cache":
        for k in keys:
            container(k)
        size = container.cache_info().currsize
    else:
        _bench.insert_loop(container, keys)
        size = len(container)
    gc.collect()
    after = rss()
    if size != n:
        return {"error": f"holds {size} entries, expected {n}"
                         + (" (does not evict)" if churn and size > n else "")}
    return {"bytes_per_entry": (after - before) / n}


def measure(name: str, n: int, churn: bool = False) -> dict[str, Any]:
    """Run ``child(name, n, churn)`` in a fresh interpreter."""
    proc = subprocess.run([sys.executable, __file__, "--child", name, "--n", str(n)]
                          + (["--churn"] if churn else []),
                          capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "crashed"}
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    """Print bytes per entry for every container."""
    p = argparse.ArgumentParser(description="Bytes per entry beyond keys and values (RSS).")
    p.add_argument("--n", type=int, default=1_000_000, help="entries (default 1,000,000)")
    p.add_argument("--churn", action="store_true",
                   help="write as many new keys again (each evicts) before the second reading")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.n <= 0:
        p.error("--n must be positive")
    if args.child:
        print(json.dumps(child(args.child, args.n, args.churn)))
        return 0
    title = (f"Bytes per entry beyond keys and values, RSS at {args.n:,} entries"
             + (f", after {args.n:,} evictions" if args.churn else ""))
    rows: list[_bench.Row] = []
    base = lru = None
    for name in CONTAINERS:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        res = measure(name, args.n, args.churn)
        if "error" in res:
            rows.append(_bench.Row(title, name, "B/entry", None, "-"))
            rows.append(_bench.Row(title, name, _bench.NOTE, None, res["error"]))
            continue
        b = res["bytes_per_entry"]
        base = b if name == "dict" else base
        rows.append(_bench.Row(title, name, "B/entry", b, f"{b:.0f}"))
        if base:
            rows.append(_bench.Row(title, name, "vs dict", b / base, f"{b / base:.2f}x"))
        if name == "fastcache LRUCache (c)":
            lru = b
            met = "met" if b <= GOAL else "not met"
            rows.append(_bench.Row(title, "goal", _bench.NOTE, None,
                                   f"LRUCache <= {GOAL:.0f} B/entry: {met} ({b:.0f})"))
        if lru is not None and name in POLICIES:
            met = "met" if b <= lru + POLICY_MARGIN else "not met"
            rows.append(_bench.Row(title, name, "vs LRUCache", b - lru,
                                   f"{b - lru:+.0f} B (goal <= +{POLICY_MARGIN:.0f}: {met})"))
    print(_bench.format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
