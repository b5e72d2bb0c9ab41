"""The side-by-side benchmark behind ``fastcache bench`` and ``bench/compare.py``.

Every time is the best of several timed loops over key arrays built before timing (as
``timeit``: the loop runs with the garbage collector off), divided by the number of
operations, so it includes the cost of the ``for`` loop itself; the baselines (a plain
``dict``, the peer libraries) run the very same loop in the same process, taking turns with
the contenders round by round, and every ratio is taken against a baseline measured in the
same run, shown beside it. Times are lower-is-better; so are ratios (below 1.00x: faster
than the baseline). Peers that are not installed are shown as such, never guessed. The last
line says how noisy the run was. Nothing here asserts a speed: it reports.

One table per question: what each operation costs against ``dict`` and the peers; how an
LRU hit's cost grows with the number of entries; a cache-aside loop under Zipf; TTL
reclamation; the decorators; how fastcache stands against its speed targets.

Reproduce: ``fastcache bench`` (about 30-60 s), ``--quick`` (a few seconds, small sizes),
``--full`` (longer, adds a 10,000,000-entry row).
"""

from __future__ import annotations

import importlib
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .table import NOTE, Row
from .workloads import (
    Timed,
    best_ns,
    cache_aside_loop,
    dict_insert_evict_loop,
    gc_off,
    hit_loop,
    insert_loop,
    make_keys,
    scattered,
    zipf_requests,
)

__all__ = ["Contender", "contenders", "run"]

DICT = "dict"
FC_C = "fastcache (c)"
FC_PY = "fastcache (py)"

T_OPS = ("Cost per operation, ns (lower is better), and in brackets the ratio to dict's time"
         " in the same run")
T_SIZES = ("LRUCache hit cost by number of entries (c[k], hit): ns per hit (lower is better)"
           " and ratio to a dict of the same size")
T_ZIPF = ("Zipf(0.99) cache-aside loop (get, insert on a miss): hit ratio (higher is better),"
          " ns per request (lower is better)")
T_TTL = ("TTL reclamation: expire() over entries with random per-item TTLs (lower is better;"
         " the cost should follow the number expired, not the cache size)")
T_DECO = ("Decorators: ns per call (lower is better) beside the baseline's, and their ratio"
          " (below 1.00x: faster than the baseline)")
T_TARGETS = ("fastcache's speed targets: measured ratio beside its target (lower is better;"
             " reported, never asserted)")
T_NOISE = "How noisy this run was"

@dataclass(frozen=True)
class Contender:
    """A cache library under test: factories for the policies it has (None: it has none)."""

    name: str
    lru: Callable[[int], Any] | None = None
    lfu: Callable[[int], Any] | None = None
    ttl: Callable[[int], Any] | None = None
    ttl_class: Any = None  # fastcache's TTLCache class, for the reclamation table
    missing: str = ""


@dataclass(frozen=True)
class _Scale:
    """The sizes, repeats and time budgets of one mode (QUICK, DEFAULT, FULL)."""

    hit_n: int
    hit_ops: int
    evict_n: int
    evict_ops: int
    sizes: tuple[int, ...]
    size_ops: int
    zipf_keys: int
    zipf_requests: int
    zipf_maxsize: int
    ttl_n: int
    ttl_n_twin: int
    zipf_runs: int
    repeat: int
    budget_s: float
    fill_budget_s: float


QUICK = _Scale(hit_n=10_000, hit_ops=20_000, evict_n=1_000, evict_ops=5_000,
               sizes=(1_000, 100_000), size_ops=20_000, zipf_keys=100_000,
               zipf_requests=100_000, zipf_maxsize=1_000, ttl_n=100_000, ttl_n_twin=20_000,
               zipf_runs=1, repeat=3, budget_s=0.2, fill_budget_s=2.0)
DEFAULT = _Scale(hit_n=100_000, hit_ops=100_000, evict_n=10_000, evict_ops=30_000,
                 sizes=(1_000, 100_000, 1_000_000), size_ops=100_000, zipf_keys=1_000_000,
                 zipf_requests=1_000_000, zipf_maxsize=10_000, ttl_n=1_000_000,
                 ttl_n_twin=50_000, zipf_runs=1, repeat=5, budget_s=0.8, fill_budget_s=4.0)
FULL = _Scale(hit_n=100_000, hit_ops=200_000, evict_n=10_000, evict_ops=50_000,
              sizes=(1_000, 100_000, 1_000_000, 10_000_000), size_ops=200_000,
              zipf_keys=1_000_000, zipf_requests=1_000_000, zipf_maxsize=10_000,
              ttl_n=1_000_000, ttl_n_twin=1_000_000, zipf_runs=3, repeat=9, budget_s=3.0,
              fill_budget_s=60.0)

HIT_LABEL = "{} hit, {:,} full: c[k]"
EVICT_LABEL = "{} insert+evict, {:,} full"
_LONG_TTL = 1e9  # never expires during a run


def contenders() -> list[Contender]:
    """fastcache's compiled core and its twin, then the peers, in display order."""
    import fastcache

    out: list[Contender] = []
    if fastcache.IMPLEMENTATION == "c":
        from fastcache import caches

        out.append(_fastcache_contender(FC_C, vars(caches)))
    else:
        out.append(Contender(FC_C, missing="compiled core not loaded"))
    try:
        twin = importlib.import_module("fastcache._py.public")  # the same layer over the twin
    except ImportError as exc:
        out.append(Contender(FC_PY, missing=f"not importable: {exc}"))
    else:
        out.append(_fastcache_contender(FC_PY, vars(twin)))

    for name, module in (("cachetools", "cachetools"), ("cachebox", "cachebox"),
                         ("lru-dict", "lru")):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            out.append(Contender(name, missing="not installed"))
        else:
            out.append(_peer_contender(name, mod))
    return out


def _peer_contender(name: str, mod: Any) -> Contender:
    if name == "lru-dict":
        return Contender(name, mod.LRU)
    ttl = mod.TTLCache
    return Contender(name, mod.LRUCache, mod.LFUCache, lambda n: ttl(n, _LONG_TTL))


def _fastcache_contender(name: str, ns: dict[str, Any]) -> Contender:
    lru, lfu, ttl = ns["LRUCache"], ns["LFUCache"], ns["TTLCache"]
    return Contender(name, lru, lfu, lambda n: ttl(n, _LONG_TTL), ttl_class=ttl)


class _Runner:
    """Collects measurements; ``progress`` is told what is measured next."""

    def __init__(self, scale: _Scale, progress: Callable[[str], None] | None) -> None:
        self.scale = scale
        self.progress = progress
        self.rows: list[Row] = []
        self.step = 0
        self.spreads: list[float] = []  # per timed loop: median round / best round - 1

    def say(self, what: str) -> None:
        self.step += 1
        if self.progress is not None:
            self.progress(f"[{self.step}] {what}")

    def time(self, timed: list[Timed], ops: int) -> list[float]:
        return best_ns(timed, ops, self.scale.repeat, self.scale.budget_s, self.spreads)

    def add(self, table: str, label: str, column: str, value: float | None, text: str) -> None:
        self.rows.append(Row(table, label, column, value, text))


def _ops_table(r: _Runner, cons: list[Contender]) -> None:
    s = r.scale
    hit_keys = make_keys(s.hit_n)
    hit_order = scattered(hit_keys, s.hit_ops)
    ev_keys = make_keys(max(s.evict_ops, 2 * s.evict_n + 1), offset=s.hit_n)
    ev_prefill = ev_keys[-s.evict_n:]
    m = len(ev_keys)
    ev_pairs = [(k, ev_keys[(i - s.evict_n) % m]) for i, k in enumerate(ev_keys)]

    ops = [
        (HIT_LABEL.format("LRUCache", s.hit_n), "lru", "hit"),
        (EVICT_LABEL.format("LRUCache", s.evict_n), "lru", "evict"),
        (HIT_LABEL.format("LFUCache", s.hit_n), "lfu", "hit"),
        (EVICT_LABEL.format("LFUCache", s.evict_n), "lfu", "evict"),
        (HIT_LABEL.format("TTLCache", s.hit_n), "ttl", "hit"),
    ]
    r.add(T_OPS, "insert+evict", NOTE, None,
          "dict's insert+evict is d[k] = v; del d[oldest], the oldest key known in advance")
    for label, policy, kind in ops:
        ready = [c for c in cons if getattr(c, policy) is not None]
        r.say(f"{label}: filling dict, {', '.join(c.name for c in ready)}")
        if kind == "hit":
            timed: list[Timed] = [(hit_loop, (dict.fromkeys(hit_keys), hit_order))]
            for con in ready:
                c = getattr(con, policy)(s.hit_n)
                insert_loop(c, hit_keys)
                timed.append((hit_loop, (c, hit_order)))
            n_ops = len(hit_order)
        else:
            timed = [(dict_insert_evict_loop, (dict.fromkeys(ev_prefill), ev_pairs))]
            for con in ready:
                c = getattr(con, policy)(s.evict_n)
                insert_loop(c, ev_prefill)
                timed.append((insert_loop, (c, ev_keys)))
            n_ops = m
        r.say(f"{label}: timing, {len(timed)} loops taking turns")
        base, *others = r.time(timed, n_ops)
        del timed
        r.add(T_OPS, label, DICT, base, f"{base:.0f} ns")
        measured = dict(zip((c.name for c in ready), others, strict=True))
        for con in cons:
            ns = measured.get(con.name)
            if ns is None:
                r.add(T_OPS, label, con.name, None, "-")
                if con.missing:
                    r.add(T_OPS, con.name, NOTE, None, con.missing)
            else:
                r.add(T_OPS, label, con.name, ns, f"{ns:.0f} ns ({ns / base:.2f}x)")


def _sizes_table(r: _Runner, cons: list[Contender]) -> None:
    s = r.scale
    fc = next((c for c in cons if c.lru is not None and c.name in (FC_C, FC_PY)), None)
    if fc is None or fc.lru is None:
        r.add(T_SIZES, "LRUCache", NOTE, None, "no fastcache implementation importable")
        return
    measured = {(x.label, x.column): x.value for x in r.rows if x.table == T_OPS}
    same = HIT_LABEL.format("LRUCache", s.hit_n)
    for n in s.sizes:
        label = f"{n:,} entries"
        base_ns, fc_ns = measured.get((same, DICT)), measured.get((same, fc.name))
        if n == s.hit_n and base_ns is not None and fc_ns is not None:
            # the same workload as the first table's LRU hit row: its figures, not a second
            # measurement of the same thing
            _size_row(r, label, fc.name, base_ns, fc_ns)
            r.add(T_SIZES, label, NOTE, None, f"the '{same}' row of the first table")
            continue
        keys = make_keys(n)
        order = scattered(keys, s.size_ops)
        r.say(f"hit cost at {label}: dict and {fc.name}")
        c = fc.lru(n)
        insert_loop(c, keys)
        base, ns = r.time([(hit_loop, (dict.fromkeys(keys), order)), (hit_loop, (c, order))],
                          len(order))
        del c
        _size_row(r, label, fc.name, base, ns)


def _size_row(r: _Runner, label: str, name: str, base: float, ns: float) -> None:
    r.add(T_SIZES, label, "dict", base, f"{base:.0f} ns")
    r.add(T_SIZES, label, name, ns, f"{ns:.0f} ns")
    r.add(T_SIZES, label, "ratio to dict", ns / base, f"{ns / base:.2f}x")


def _zipf_table(r: _Runner, cons: list[Contender]) -> None:
    s = r.scale
    r.say(f"Zipf: drawing {s.zipf_requests:,} requests over {s.zipf_keys:,} keys")
    reqs = zipf_requests(s.zipf_keys, s.zipf_requests)
    label_of = f"maxsize {s.zipf_maxsize:,}, {s.zipf_requests:,} requests, {s.zipf_keys:,} keys"
    measured: dict[str, float] = {}
    for con in cons:
        label = f"{con.name} LRU"
        if con.lru is None:
            r.add(T_ZIPF, label, "hit ratio", None, "-")
            if con.missing:
                r.add(T_ZIPF, con.name, NOTE, None, con.missing)
            continue
        r.say(f"Zipf cache-aside: {con.name}")
        best = math.inf
        misses = 0
        for _ in range(s.zipf_runs):  # each run starts from an empty cache
            c = con.lru(s.zipf_maxsize)
            with gc_off():
                t0 = time.perf_counter_ns()
                misses = cache_aside_loop(c, reqs)
                dt = time.perf_counter_ns() - t0
            best = min(best, dt / len(reqs))
            del c
        measured[con.name] = best
        hr = 1 - misses / len(reqs)
        r.add(T_ZIPF, label, "hit ratio", hr, f"{hr:.4f}")
        r.add(T_ZIPF, label, "per request", best, f"{best:.0f} ns")
    base = measured.get("cachebox")
    if base is None:
        r.add(T_ZIPF, "vs cachebox", NOTE, None, "cachebox not installed")
    else:
        for name, ns in measured.items():
            r.add(T_ZIPF, f"{name} LRU", "time ratio to cachebox", ns / base,
                  f"{ns / base:.2f}x")
    r.add(T_ZIPF, "workload", NOTE, None, label_of)


def _fill(c: Any, keys: Sequence[int], ttls: Sequence[float], budget_s: float) -> tuple[int, float]:
    """``c.set(k, k, ttl=t)`` for each pair, in chunks, giving up once ``budget_s`` is spent.

    Returns how many were set and the mean ns per ``set``.
    """
    t0 = time.perf_counter_ns()
    done = 0
    while done < len(keys):
        for k, t in zip(keys[done:done + 10_000], ttls[done:done + 10_000], strict=True):
            c.set(k, k, ttl=t)
        done = min(len(keys), done + 10_000)
        if time.perf_counter_ns() - t0 > budget_s * 1e9:
            break
    return done, (time.perf_counter_ns() - t0) / done


def _ttl_table(r: _Runner, cons: list[Contender]) -> None:
    span = 1000.0
    rng = random.Random(2)
    all_ttls = [rng.uniform(1.0, span) for _ in range(r.scale.ttl_n)]
    all_keys = make_keys(r.scale.ttl_n, offset=1 << 50)
    for con in cons:
        if con.ttl_class is None:
            continue
        n = r.scale.ttl_n if con.name == FC_C else r.scale.ttl_n_twin
        keys, ttls = all_keys[:n], all_ttls[:n]
        per_entry: dict[float, float] = {}
        for frac in (0.001, 0.25, 1.0):
            now = [0.0]
            c = con.ttl_class(math.inf, span, timer=lambda now=now: now[0])
            r.say(f"TTL reclamation: {con.name}, set() of {n:,} entries")
            filled, set_ns = _fill(c, keys, ttls, r.scale.fill_budget_s)
            if filled < n:
                r.add(T_TTL, con.name, NOTE, None,
                      f"not measured: set() with per-item TTLs cost {set_ns:,.0f} ns each"
                      f" over the first {filled:,} entries (budget {r.scale.fill_budget_s} s)")
                break
            r.say(f"TTL reclamation: {con.name}, expire about {frac:.1%} of {n:,}")
            now[0] = 1.0 + (span - 1.0) * frac
            with gc_off():
                t0 = time.perf_counter_ns()
                gone = len(c.expire())
                dt = time.perf_counter_ns() - t0
            left = len(c)
            del c
            per_entry[frac] = dt / max(1, gone)
            label = f"{con.name}: {gone:,} of {n:,} expire"
            r.add(T_TTL, label, "set() each", set_ns, f"{set_ns:.0f} ns")
            r.add(T_TTL, label, "expire()", dt / 1e6, f"{dt / 1e6:.2f} ms")
            r.add(T_TTL, label, "per expired entry", per_entry[frac],
                  f"{per_entry[frac]:.0f} ns")
            r.add(T_TTL, label, "entries left", left, f"{left:,}")
        if len(per_entry) == 3:
            ratio = per_entry[1.0] / per_entry[0.25]
            r.add(T_TTL, f"{con.name}: 100% vs 25% of the entries timed out",
                  "per expired entry", ratio, f"{ratio:.2f}x (1.00x: linear)")


def _decorator_rows(r: _Runner, quick: bool) -> None:
    """``fastcache._bench.decorators.rows(quick)``: each row beside its baseline.

    Imported lazily; when it needs a peer that is not installed, the table says so.
    """
    r.say("decorators")
    try:
        module = importlib.import_module("fastcache._bench.decorators")
        rows = module.rows(quick, r.spreads)
    except ImportError as exc:
        r.add(T_DECO, "skipped", NOTE, None, f"needs what is not installed here ({exc})")
        return
    except Exception as exc:  # their bug must not cost the user the other tables
        r.add(T_DECO, "failed", NOTE, None, f"{type(exc).__name__}: {exc}")
        return
    for label, ns, baseline, base_ns in rows:
        row = f"{label}, vs {baseline}"
        r.add(T_DECO, row, "fastcache", ns, f"{ns:.0f} ns")
        r.add(T_DECO, row, "baseline", base_ns, f"{base_ns:.0f} ns")
        r.add(T_DECO, row, "ratio", ns / base_ns, f"{ns / base_ns:.2f}x")


def _targets(r: _Runner) -> None:
    """Each target: fastcache's time beside the baseline's, their ratio and the target."""
    get: dict[tuple[str, str, str], float] = {
        (x.table, x.label, x.column): x.value for x in r.rows if x.value is not None
    }
    s = r.scale
    name = FC_C if any(x.column == FC_C and x.value is not None for x in r.rows) else FC_PY
    lru_hit = HIT_LABEL.format("LRUCache", s.hit_n)
    lfu_hit = HIT_LABEL.format("LFUCache", s.hit_n)
    ttl_hit = HIT_LABEL.format("TTLCache", s.hit_n)
    lru_ev = EVICT_LABEL.format("LRUCache", s.evict_n)
    lfu_ev = EVICT_LABEL.format("LFUCache", s.evict_n)
    targets = [
        ("LRU hit vs dict", (T_OPS, lru_hit, name), (T_OPS, lru_hit, DICT), 1.3),
        ("LRU insert+evict vs cachebox", (T_OPS, lru_ev, name), (T_OPS, lru_ev, "cachebox"),
         1.0),
        ("LFU hit vs dict", (T_OPS, lfu_hit, name), (T_OPS, lfu_hit, DICT), 1.3),
        ("LFU insert+evict vs LRU's", (T_OPS, lfu_ev, name), (T_OPS, lru_ev, name), 1.5),
        ("TTL hit vs dict", (T_OPS, ttl_hit, name), (T_OPS, ttl_hit, DICT), 1.5),
        ("Zipf request vs cachebox", (T_ZIPF, f"{name} LRU", "per request"),
         (T_ZIPF, "cachebox LRU", "per request"), 1.0),
    ]
    for what, num, den, target in targets:
        label = f"{what} ({name})"
        if num in get and den in get:
            ratio = get[num] / get[den]
            r.add(T_TARGETS, label, "fastcache", get[num], f"{get[num]:.0f} ns")
            r.add(T_TARGETS, label, "baseline", get[den], f"{get[den]:.0f} ns")
            r.add(T_TARGETS, label, "ratio", ratio, f"{ratio:.2f}x")
            r.add(T_TARGETS, label, "target", target, f"<= {target:.1f}x")
            r.add(T_TARGETS, label, "met", float(ratio <= target), "yes" if ratio <= target
                  else "no")
        else:
            r.add(T_TARGETS, label, "ratio", None, "not measured")


def _noise(r: _Runner) -> None:
    """How far each timed loop's median round was above its best: the run's noise."""
    if not r.spreads:
        return
    spreads = sorted(r.spreads)
    median, worst = statistics.median(spreads), spreads[-1]
    r.add(T_NOISE, "spread of the rounds", NOTE, None,
          f"over {len(spreads)} timed loops, the median round was {median:.0%} above the "
          f"best one (worst loop: {worst:.0%}); ratios nearer to each other than that are "
          "within the noise")


def run(quick: bool = False, progress: Callable[[str], None] | None = None, *,
        full: bool = False, decorators: bool = True) -> list[Row]:
    """Measure everything and return the result cells in display order.

    ``quick``: small sizes, a few seconds. ``full``: more repeats and a 10,000,000-entry
    size row. ``progress(message)`` is called before each measurement.
    """
    if quick and full:
        raise ValueError("quick and full are exclusive")
    r = _Runner(QUICK if quick else FULL if full else DEFAULT, progress)
    cons = contenders()
    _ops_table(r, cons)
    _sizes_table(r, cons)
    _zipf_table(r, cons)
    _ttl_table(r, cons)
    if decorators:  # their full mode alone takes about 40 s: only with --full
        _decorator_rows(r, quick=not full)
    _targets(r)
    _noise(r)
    return r.rows
