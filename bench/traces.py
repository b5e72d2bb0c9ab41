"""Replay real access traces through LRUCache and LFUCache and print the miss ratios next to
the reference values of the traces' README (by default the small traces kept in the
repository, ``tests/data/traces``; ``--traces DIR`` for a folder of larger ones laid out
the same way: ``*.npy`` beside a ``README.md`` with the reference tables).

Each trace (``*.npy``, a 1-D array of uint64 keys in request order) is replayed as the
README says: every request is a read (``get``) and a miss inserts the key. Capacities are
the README's (1%, 5%, 10% of the unique keys). LRU and LFU (in-cache counts, ties to the
least recently used) are exact policies, so a correct cache reproduces the reference to
every printed digit: the ``match`` column says whether it does. Uses the implementation
``fastcache`` selected (``FASTCACHE_PURE_PYTHON=1`` for the twin: much slower on the 5.3M-
request CloudPhysics trace). Needs numpy to read the traces.

Reproduce (from the repository root, after ``pip install -e .``)::

    python -m bench.traces                          # the repository's traces, seconds
    python -m bench.traces --trace lirs_glimpse     # one trace
    python -m bench.traces --traces DIR             # every trace of DIR (CloudPhysics w106:
                                                    # 5.3M requests, ~1 min with the C core)
    python -m bench.traces --check --trace lirs_glimpse    # exit 1 on a mismatch (CI)
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

import fastcache
from fastcache import _bench

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "traces"
POLICIES = ("LRU", "LFU")


def references(readme: str) -> dict[str, tuple[list[int], dict[str, list[float]]]]:
    """Per trace file: the capacities of its table and each policy's reference miss ratios."""
    out: dict[str, tuple[list[int], dict[str, list[float]]]] = {}
    current = None
    for line in readme.splitlines():
        m = re.match(r"^`([\w.-]+\.npy)`", line)
        if m:
            current = m.group(1)
            continue
        if current is None or not line.startswith("|"):
            continue
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if cells[0] == "policy":
            caps = [int(re.sub(r"\D", "", c.split("(")[0])) for c in cells[1:]]
            out[current] = (caps, {})
        elif current in out and re.fullmatch(r"[\d.]+", cells[1].strip("*")):
            out[current][1][cells[0]] = [float(c) for c in cells[1:]]
    return out


def replay(cls: Any, capacity: int, keys: list[int]) -> float:
    """Miss ratio of ``cls(capacity)`` over ``keys`` (get; insert on a miss)."""
    misses = _bench.cache_aside_loop(cls(capacity), keys)
    return misses / len(keys)


def main(argv: list[str] | None = None) -> int:
    """Replay the traces and print one table per trace."""
    p = argparse.ArgumentParser(description="Miss ratios on real traces vs the README's.")
    p.add_argument("--traces", type=Path, default=DEFAULT_DIR,
                   help="folder of *.npy traces and their README.md (default: the "
                   "repository's, tests/data/traces)")
    p.add_argument("--trace", action="append", help="trace name (repeatable); default all")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless every LRU/LFU miss ratio matches the reference")
    args = p.parse_args(argv)
    import numpy

    readme = args.traces / "README.md"
    if not readme.is_file():
        p.error(f"no {readme}: pass --traces DIR")
    refs = references(readme.read_text())
    names = args.trace or sorted(Path(f).stem for f in refs)
    print(f"# fastcache {fastcache.__version__}, implementation {fastcache.IMPLEMENTATION}")
    rows: list[_bench.Row] = []
    mismatches = 0
    for name in names:
        fname = f"{name}.npy" if not name.endswith(".npy") else name
        if fname not in refs:
            p.error(f"{fname} is not in {readme}")
        keys = numpy.load(args.traces / fname).tolist()
        caps, ref = refs[fname]
        title = f"{fname}: {len(keys):,} requests, {len(set(keys)):,} unique keys"
        for policy in POLICIES:
            cls = getattr(fastcache, f"{policy}Cache")
            for i, cap in enumerate(caps):
                label = f"{policy} C={cap:,}"
                print(f"replaying {fname} {label} ...", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                ratio = replay(cls, cap, keys)
                dt = time.perf_counter() - t0
                rows.append(_bench.Row(title, label, "miss ratio", ratio, f"{ratio:.4f}"))
                want = ref.get(policy, [None] * len(caps))[i]
                if want is None:
                    rows.append(_bench.Row(title, label, "reference", None, "-"))
                else:
                    same = f"{ratio:.4f}" == f"{want:.4f}"
                    mismatches += not same
                    rows.append(_bench.Row(title, label, "reference", want, f"{want:.4f}"))
                    rows.append(_bench.Row(title, label, "match", float(same),
                                           "yes" if same else "NO"))
                rows.append(_bench.Row(title, label, "ns/request", dt / len(keys) * 1e9,
                                       f"{dt / len(keys) * 1e9:.0f}"))
    print(_bench.format_rows(rows))
    if args.check and mismatches:
        print(f"{mismatches} miss ratio(s) differ from the reference", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
