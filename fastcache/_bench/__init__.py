"""The benchmarks ``fastcache bench`` runs, shipped with the package so that an installed
wheel can measure itself: ``compare`` (the side-by-side tables), ``decorators`` (decorator
call costs), ``workloads`` (keys, access orders, timed loops), ``table`` (result cells and
their text layout). ``bench/`` in a checkout holds the rest and reuses these.
"""

from __future__ import annotations

from .compare import Contender, contenders, run
from .table import NOTE, Row, format_rows
from .workloads import (
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

__all__ = [
    "NOTE",
    "Contender",
    "Row",
    "best_ns",
    "cache_aside_loop",
    "contenders",
    "dict_insert_evict_loop",
    "format_rows",
    "gc_off",
    "hit_loop",
    "insert_loop",
    "make_keys",
    "run",
    "scattered",
    "zipf_requests",
]
