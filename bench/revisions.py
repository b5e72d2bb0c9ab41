"""Two builds of fastcache side by side, paired and interleaved: is a change faster or slower?

A regression measured in separate runs on a shared machine is often the machine: this script
alternates the two checkouts run by run (each in its own interpreter, importing the
``fastcache`` of its own directory) and reports the best of each and their ratio, per
operation. Each checkout must be built in place (``python setup.py build_ext --inplace``).

Reproduce (an older revision in a second worktree)::

    git worktree add /tmp/old 434028a && (cd /tmp/old && python setup.py build_ext --inplace)
    python bench/revisions.py /tmp/old .            # ratio NEW/OLD per operation

Under ``valgrind --tool=cachegrind --branch-sim=yes`` the same loops give the instruction,
cache-miss and branch-mispredict counts that no machine load disturbs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

# One process per measurement: (label, setup, loop over `keys`); ns per key, best of 5.
CASES = {
    "LRU insert+evict": ("c = LRUCache(1000)\nfor k in range(1000): c[k] = k",
                         "for k in keys: c[k] = k", True),
    "LRU hit": ("c = LRUCache(1000)\nfor k in range(1000): c[k] = k\n"
                "keys = [k % 1000 for k in keys]", "for k in keys: c[k]", False),
    "LFU insert+evict": ("c = LFUCache(1000)\nfor k in range(1000): c[k] = k",
                         "for k in keys: c[k] = k", True),
    "TTL insert+evict": ("c = TTLCache(1000, ttl=3600)\nfor k in range(1000): c[k] = k",
                         "for k in keys: c[k] = k", True),
}

PROGRAM = """
import time
from fastcache import LRUCache, LFUCache, TTLCache
keys = list(range(1000, 201000))
{setup}
best = 1e9
for r in range(5):
    t = time.perf_counter()
{loop}
    best = min(best, time.perf_counter() - t)
    if {fresh}:
        keys = [k + 200000 for k in keys]
print(best / len(keys) * 1e9)
"""


def measure(checkout: str, case: str) -> float:
    """ns per operation of ``case`` with the fastcache built in ``checkout``."""
    setup, loop, fresh = CASES[case]
    source = PROGRAM.format(setup=setup, loop="    " + loop, fresh=fresh)
    out = subprocess.run([sys.executable, "-c", source], cwd=checkout, check=True,
                         capture_output=True, text=True).stdout
    return float(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", help="checkout of the baseline build")
    parser.add_argument("new", help="checkout of the build under test")
    parser.add_argument("--rounds", type=int, default=6, help="alternations per case")
    args = parser.parse_args(argv)
    print(f"{'operation':20} {'old ns':>8} {'new ns':>8} {'new/old':>8}")
    for case in CASES:
        old = new = float("inf")
        for _ in range(args.rounds):
            old = min(old, measure(args.old, case))
            new = min(new, measure(args.new, case))
        print(f"{case:20} {old:8.1f} {new:8.1f} {new / old:8.3f}")


if __name__ == "__main__":
    main()
