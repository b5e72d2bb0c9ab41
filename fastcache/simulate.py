"""Replay cache traces through every eviction policy: ``fastcache simulate TRACE...``.

A trace is a sequence of requested keys; every request is a read and a miss inserts the key.
The replay runs in C (``fastcache._core.sim_run``, the GIL released, one thread per job), or in
the pure-Python twin (``fastcache._py.sim``) when the compiled core is absent.

Traces: ``.npy`` (a 1-D array of integer keys), CSV/text (one request a line; ``--column``
picks a field; non-integer keys are hashed stably), libCacheSim's ``oracleGeneral`` binary
(``.oracleGeneral``, ``.bin``: 24-byte records with object sizes), each of them possibly
compressed (``.gz``, ``.bz2``, ``.xz``, or ``.zst`` as libCacheSim publishes its traces: the
``zstd`` extra), and synthetic workloads (``--synthetic zipf:alpha=0.99,n=1e6,keys=1e5,seed=1``;
see ``fastcache._sim_workloads``).

Record your own traffic with :class:`TraceRecorder` (an opt-in wrapper of a live cache that
writes the keys read, hashed with blake2b, as ``.npy``) and replay it here. Needs numpy
(``pip install "fastcache[plot]"``, which also brings matplotlib for ``--plot``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import struct
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from ._sim_workloads import generate

__all__ = [
    "ONLINE",
    "POLICIES",
    "Result",
    "TraceRecorder",
    "load_trace",
    "parse_sizes",
    "replay",
    "replay_classes",
    "run_cli",
    "simulate",
    "stable_key",
]

#: Every policy the simulator knows, in table order.
POLICIES = ("lru", "lfu", "fifo", "clock", "arc", "sieve", "s3fifo", "wtinylfu",
            "wtinylfu-hc", "wtinylfu-mini", "auto")
#: The online policies of the reference tables ("best online" is the best of these).
ONLINE = ("lru", "lfu", "fifo", "clock", "arc", "sieve", "s3fifo", "wtinylfu")


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError(
            'fastcache simulate needs numpy: pip install "fastcache[plot]"'
        ) from None
    return numpy


def _sim_run() -> Callable[..., tuple[int, int, int, int, int]]:
    """The replay of the implementation ``fastcache._impl`` chose: ``_core.sim_run``, or its
    twin (on lists) under ``FASTCACHE_PURE_PYTHON=1`` or where the core is not built."""
    from . import _impl

    if _impl.IMPLEMENTATION == "c":
        compiled: Callable[..., tuple[int, int, int, int, int]] = _impl.impl.sim_run
        return compiled
    from ._py.sim import sim_run as run_py

    def run(policy: str, keys: Any, capacity: int, sizes: Any = None, seed: int = 0,
            params: Any = None) -> tuple[int, int, int, int, int]:
        return run_py(policy, keys.tolist(), capacity,
                      None if sizes is None else sizes.tolist(), seed, params)
    return run


# ------------------------------------------------------------------ keys and traces

def stable_key(key: object) -> int:
    """A 64-bit hash of ``key`` that is the same in every process (unlike ``hash()``).

    blake2b of a typed encoding of ints, strings, bytes, floats, None, bools and tuples of
    them; other objects are encoded by ``repr()`` (stable only if their repr is).
    """
    return int.from_bytes(hashlib.blake2b(_encode(key), digest_size=8).digest(), "little")


def _encode(key: object) -> bytes:
    if key is None or isinstance(key, bool):
        return b"N" if key is None else (b"T" if key else b"F")
    if isinstance(key, int):
        return b"i" + str(key).encode()
    if isinstance(key, str):
        return b"s" + key.encode("utf-8", "surrogatepass")
    if isinstance(key, (bytes, bytearray)):
        return b"b" + bytes(key)
    if isinstance(key, float):
        return b"f" + repr(key).encode()
    if isinstance(key, tuple):
        parts = [_encode(k) for k in key]
        return b"t" + b"".join(struct.pack("<I", len(p)) + p for p in parts)
    return b"r" + repr(key).encode("utf-8", "surrogatepass")


def _text_key(token: str) -> int:
    token = token.strip()
    try:
        v = int(token)
    except ValueError:
        return stable_key(token)
    return v & 0xFFFFFFFFFFFFFFFF


ORACLE_GENERAL = [("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")]

#: Compressed traces: the suffix -> the module whose ``open(path, mode, ...)`` reads them.
_COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma", ".lzma": "lzma", ".zst": "zstandard"}


def _opener(path: str) -> tuple[Callable[..., Any], str]:
    """(open(path, mode, **kw) decompressing if the name says so, the inner extension)."""
    base, ext = os.path.splitext(path)
    module = _COMPRESSED.get(ext.lower())
    if module is None:
        return open, ext.lower()
    if module == "zstandard":
        from ._optional import require

        mod = require("zstandard", "zstd", feature="a .zst trace")
    else:
        import importlib

        mod = importlib.import_module(module)
    return mod.open, os.path.splitext(base)[1].lower()


def load_trace(path: str, column: str | None = None, size_column: str | None = None
               ) -> tuple[Any, Any]:
    """(keys as numpy.uint64, sizes as numpy.uint64 or None) of the trace at ``path``
    (``.gz``, ``.bz2``, ``.xz``/``.lzma`` and ``.zst`` are decompressed as they are read;
    ``.zst`` needs ``pip install "fastcache[zstd]"``)."""
    opener, ext = _opener(path)
    if opener is open:
        return _load(path, opener, ext, column, size_column)
    try:
        return _load(path, opener, ext, column, size_column)
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError, MemoryError):
        raise
    except Exception as exc:  # a damaged stream: EOFError, BadGzipFile, LZMAError, ZstdError
        raise ValueError(f"{path}: cannot decompress: {exc}") from exc


def _load(path: str, opener: Callable[..., Any], ext: str, column: str | None,
          size_column: str | None) -> tuple[Any, Any]:
    np = _numpy()
    if ext == ".npy":
        if opener is open:
            arr = np.load(path, allow_pickle=False)
        else:
            with opener(path, "rb") as f:
                arr = np.load(io.BytesIO(f.read()), allow_pickle=False)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise ValueError(f"{path}: expected a 1-D integer array, got {arr.dtype} {arr.shape}")
        return np.ascontiguousarray(arr).view(np.uint64) if arr.itemsize == 8 else (
            arr.astype(np.uint64)), None
    if ext in (".oraclegeneral", ".bin"):
        with opener(path, "rb") as f:
            data = f.read()
        if len(data) % 24:
            raise ValueError(f"{path}: not oracleGeneral (size not a multiple of 24 bytes)")
        raw = np.frombuffer(data, dtype=np.dtype(ORACLE_GENERAL))
        return np.ascontiguousarray(raw["id"]), np.ascontiguousarray(raw["size"].astype(np.uint64))
    keys: list[int] = []
    sizes: list[int] = []
    with opener(path, "rt", newline="") as f:  # (a first look, then read again from the start:
        sample = f.read(4096)                  # a compressed stream may not seek back)
    with opener(path, "rt", newline="") as f:
        delim = "," if "," in sample else ("\t" if "\t" in sample else None)
        rows: Iterator[list[str]] = (
            csv.reader(f, delimiter=delim) if delim else (line.split() for line in f))
        key_i, size_i = 0, None
        first = True
        for row in rows:
            if not row:
                continue
            if first:
                first = False
                named = column is not None and not column.isdigit()
                if named or (size_column is not None and not size_column.isdigit()):
                    header = [h.strip() for h in row]
                    try:
                        key_i = header.index(column) if named and column else int(column or 0)
                        if size_column is not None:
                            size_i = (header.index(size_column) if not size_column.isdigit()
                                      else int(size_column))
                    except ValueError:
                        raise ValueError(f"{path}: no column {column!r} or {size_column!r} in "
                                         f"the header {header}") from None
                    continue
                key_i = int(column or 0)
                size_i = None if size_column is None else int(size_column)
            try:
                keys.append(_text_key(row[key_i]))
                if size_i is not None:
                    sizes.append(int(row[size_i]))
            except (IndexError, ValueError) as exc:
                raise ValueError(f"{path}: bad row {row!r}: {exc}") from None
    return np.array(keys, dtype=np.uint64), (np.array(sizes, dtype=np.uint64) if sizes else None)


# ------------------------------------------------------------------ simulation

@dataclass
class Result:
    """One replay: a policy at one capacity over one trace."""

    trace: str
    policy: str
    capacity: int
    requests: int
    hits: int
    misses: int
    miss_ratio: float
    byte_miss_ratio: float | None
    seconds: float


def parse_sizes(spec: str, unique: int) -> list[int]:
    """``"1%,5%,10%"`` (of the unique keys) or ``"100,1000"`` (objects) -> capacities."""
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        if item.endswith("%"):
            out.append(max(1, round(unique * float(item[:-1]) / 100)))
        else:
            try:
                v = float(item)
            except ValueError:
                raise ValueError(f"bad size {item!r}: a count or a percentage") from None
            if v < 0 or v != int(v):
                raise ValueError(f"bad size {item!r}: a count must be a whole number >= 0")
            out.append(int(v))
    if not out:
        raise ValueError("no sizes given")
    return out


def simulate(keys: Any, policies: Sequence[str], capacities: Sequence[int],
             sizes: Any = None, trace: str = "trace", jobs: int = 1,
             progress: Callable[[int, int], None] | None = None,
             params: dict[str, dict[str, float]] | None = None) -> list[Result]:
    """Replay ``keys`` (numpy uint64) through every policy at every capacity.

    Runs ``jobs`` replays at once on threads (the C replay releases the GIL); ``progress``
    is called with (done, total) after each replay.
    """
    for p in policies:
        if p not in POLICIES:
            raise ValueError(f"unknown policy {p!r}; one of {', '.join(POLICIES)}")
    run = _sim_run()
    tasks = [(p, c) for c in capacities for p in policies]
    n = len(keys)
    total_bytes = int(sizes.sum()) if sizes is not None else 0
    lock = threading.Lock()
    done = [0]

    def one(task: tuple[str, int]) -> Result:
        policy, cap = task
        t0 = time.perf_counter()
        hits, misses, _bh, bm, _w = run(policy, keys, cap, sizes, 0,
                                        (params or {}).get(policy))
        dt = time.perf_counter() - t0
        with lock:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(tasks))
        return Result(trace, policy, cap, n, hits, misses, misses / n if n else 0.0,
                      (bm / total_bytes if total_bytes else 0.0) if sizes is not None else None,
                      dt)

    if jobs <= 1:
        return [one(t) for t in tasks]
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        return list(ex.map(one, tasks))


def replay_classes(keys: Any, capacity: int, names: Sequence[str] = (
        "LRUCache", "LFUCache", "FIFOCache", "RRCache")) -> list[tuple[str, float, float]]:
    """Replay through the real cache classes: [(class name, miss ratio, operations/s)]."""
    from . import caches

    out = []
    seq = keys.tolist()
    for name in names:
        misses, dt = replay(getattr(caches, name)(maxsize=capacity), seq)
        out.append((name, misses / len(seq) if seq else 0.0, len(seq) / dt if dt else 0.0))
    return out


def replay(cache: MutableMapping[Any, Any], keys: Sequence[Any]) -> tuple[int, float]:
    """Every request a read, a miss inserts (as ``sim_run``): (misses, seconds taken)."""
    misses = 0
    t0 = time.perf_counter()
    for k in keys:
        try:
            cache[k]
        except KeyError:
            misses += 1
            cache[k] = None
    return misses, time.perf_counter() - t0


# ------------------------------------------------------------------ the recorder

class TraceRecorder(MutableMapping[Any, Any]):
    """An opt-in wrapper of a cache that records the keys read, to replay them later.

    ``cache = TraceRecorder(LRUCache(maxsize=1000))``; use ``cache`` as the cache (reads
    through ``[]`` and ``get`` are recorded as ``stable_key(key)``); ``cache.save(path)``
    writes the trace as ``.npy``. Thread-safe appends; ``limit`` caps the recorded length.
    """

    def __init__(self, cache: MutableMapping[Any, Any], limit: int | None = None) -> None:
        self.cache = cache
        self.recorded = array("Q")
        self.limit = limit
        self._lock = threading.Lock()

    def _record(self, key: object) -> None:
        h = stable_key(key)
        with self._lock:
            if self.limit is None or len(self.recorded) < self.limit:
                self.recorded.append(h)

    def __getitem__(self, key: Any) -> Any:
        self._record(key)
        return self.cache[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._record(key)
        return self.cache.get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.cache[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.cache[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.cache)

    def __len__(self) -> int:
        return len(self.cache)

    def __contains__(self, key: object) -> bool:
        return key in self.cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cache, name)

    def save(self, path: str) -> None:
        """Write the recorded keys as a 1-D uint64 ``.npy``."""
        np = _numpy()
        with self._lock:
            arr = np.frombuffer(self.recorded.tobytes(), dtype=np.uint64)
        np.save(path, arr)


# ------------------------------------------------------------------ the command line

def add_parser(sub: Any) -> None:
    """Add the ``simulate`` subcommand to the ``fastcache`` command line."""
    s = sub.add_parser(
        "simulate",
        help="replay traces through every eviction policy (miss ratios, CSV/JSON/PNG)",
        description="Replay traces (.npy of uint64 keys, CSV/text, oracleGeneral; also .gz,"
        " .bz2, .xz, .zst compressed) or synthetic workloads through every policy at many"
        " sizes; print miss ratios.",
    )
    s.add_argument("traces", nargs="*", metavar="TRACE")
    s.add_argument("--synthetic", action="append", default=[], metavar="SPEC",
                   help="a seeded workload, e.g. zipf:alpha=0.99,n=1e6,keys=1e5,seed=1"
                   " (kinds: zipf, shift, loop, scan)")
    s.add_argument("--policy", default="all",
                   help=f"comma-separated policies or 'all' ({', '.join(POLICIES)})")
    s.add_argument("--sizes", default="1%,5%,10%",
                   help="capacities: percentages of the unique keys and/or object counts")
    s.add_argument("--column", help="CSV/text: the key column (index or header name)")
    s.add_argument("--size-column", help="CSV/text: the object size column")
    s.add_argument("--csv", metavar="F", help="write the results as CSV")
    s.add_argument("--json", metavar="F", help="write the results as JSON")
    s.add_argument("--plot", metavar="F.png", help="write a miss-ratio curve per trace")
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="replays at once (threads; default: the CPU count)")
    s.add_argument("--classes", action="store_true",
                   help="also replay through the real cache classes (ops/s)")
    s.set_defaults(func=run_cli)


class _Bar:
    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label, self.t0 = stream, label, time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        width = 30
        fill = width * done // max(total, 1)
        tty = self.stream.isatty()
        end = "\n" if done == total or not tty else ""
        bar = "#" * fill + "." * (width - fill)
        self.stream.write(f"{chr(13) if tty else ''}{self.label} [{bar}] {done}/{total}"
                          f" {time.perf_counter() - self.t0:.1f}s{end}")
        self.stream.flush()


def format_table(results: Sequence[Result]) -> str:
    """The results as a text table: one row per policy, one column per capacity."""
    out = io.StringIO()
    by_trace: dict[str, list[Result]] = {}
    for r in results:
        by_trace.setdefault(r.trace, []).append(r)
    for trace, rs in by_trace.items():
        caps = sorted({r.capacity for r in rs})
        pols = [p for p in POLICIES if any(r.policy == p for r in rs)]
        cell = {(r.policy, r.capacity): r for r in rs}
        has_bytes = any(r.byte_miss_ratio is not None for r in rs)
        out.write(f"{trace}: {rs[0].requests:,} requests; miss ratio"
                  f"{' (byte miss ratio)' if has_bytes else ''} by capacity\n")
        out.write(f"{'policy':<12}" + "".join(f"{c:>20,}" for c in caps) + "\n")
        for p in pols:
            row = f"{p:<12}"
            for c in caps:
                got = cell.get((p, c))
                txt = "" if got is None else f"{got.miss_ratio:.4f}"
                if got is not None and got.byte_miss_ratio is not None:
                    txt += f" ({got.byte_miss_ratio:.4f})"
                row += f"{txt:>20}"
            out.write(row + "\n")
        best = []
        for c in caps:
            online = [cell[(p, c)] for p in ONLINE if (p, c) in cell]
            best.append(min(online, key=lambda r: r.miss_ratio).policy if online else "")
        out.write(f"{'best online':<12}" + "".join(f"{b:>20}" for b in best) + "\n\n")
    return out.getvalue()


def _plot(results: Sequence[Result], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('--plot needs matplotlib: pip install "fastcache[plot]"') from None
    traces = list(dict.fromkeys(r.trace for r in results))
    fig, axes = plt.subplots(len(traces), 1, figsize=(8, 4 * len(traces)), squeeze=False)
    for ax, trace in zip(axes[:, 0], traces, strict=True):
        for p in POLICIES:
            rs = sorted((r for r in results if r.trace == trace and r.policy == p),
                        key=lambda r: r.capacity)
            if rs:
                ax.plot([r.capacity for r in rs], [r.miss_ratio for r in rs], marker="o",
                        label=p)
        ax.set_xscale("log")
        ax.set_xlabel("capacity (objects)")
        ax.set_ylabel("miss ratio")
        ax.set_title(trace)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_cli(args: argparse.Namespace) -> int:
    """``fastcache simulate``: load, replay, print and write."""
    np = _numpy()
    if not args.traces and not args.synthetic:
        sys.stderr.write("fastcache simulate: give a TRACE or --synthetic SPEC\n")
        return 2
    policies = list(POLICIES) if args.policy == "all" else [
        p.strip() for p in args.policy.split(",") if p.strip()]
    for p in policies:
        if p not in POLICIES:
            sys.stderr.write(f"fastcache simulate: unknown policy {p!r}; one of"
                             f" {', '.join(POLICIES)}\n")
            return 2
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            sys.stderr.write('fastcache simulate: --plot needs matplotlib: '
                             'pip install "fastcache[plot]"\n')
            return 2
    sources: list[tuple[str, Callable[[], tuple[Any, Any]]]] = []
    def from_file(path: str) -> Callable[[], tuple[Any, Any]]:
        return lambda: load_trace(path, args.column, args.size_column)

    def from_spec(spec: str) -> Callable[[], tuple[Any, Any]]:
        return lambda: (generate(spec), None)

    sources += [(os.path.basename(path), from_file(path)) for path in args.traces]
    sources += [(spec, from_spec(spec)) for spec in args.synthetic]
    results: list[Result] = []
    for name, load in sources:
        try:
            keys, sizes = load()
            caps = parse_sizes(args.sizes, len(np.unique(keys)))
        except (ImportError, OSError, ValueError) as exc:
            sys.stderr.write(f"fastcache simulate: {name}: {exc}\n")
            return 2
        rs = simulate(keys, policies, caps, sizes, trace=name, jobs=max(1, args.jobs),
                      progress=_Bar(sys.stderr, name[:30]))
        results.extend(rs)
        if args.classes:
            for cap in caps:
                for cls, mr, ops in replay_classes(keys, cap):
                    sys.stdout.write(f"{name} {cls}(maxsize={cap}): miss ratio {mr:.4f},"
                                     f" {ops:,.0f} ops/s\n")
    sys.stdout.write(format_table(results))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(asdict(results[0])))
            w.writeheader()
            for r in results:
                w.writerow(asdict(r))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([asdict(r) for r in results], f, indent=1)
    if args.plot:
        _plot(results, args.plot)
    return 0

