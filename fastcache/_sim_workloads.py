"""Seeded synthetic workloads for the simulator (``fastcache simulate --synthetic SPEC``).

A spec is ``KIND:name=value,...``, for example ``zipf:alpha=0.99,n=1e6,keys=1e5,seed=1``.
Every workload is a 1-D ``numpy.uint64`` array of keys; the same spec gives the same array.

Kinds:

``zipf``
    Independent requests whose popularity follows Zipf's law (``alpha``) over ``keys`` keys.
``shift``
    Zipf whose hot set moves ``phases`` times: each phase maps the ranks to other keys.
``loop``
    ``keys`` keys requested in the same order again and again (a loop larger than a cache
    of fewer than ``keys`` entries defeats LRU).
``scan``
    A Zipf core (``keys`` keys) interrupted by scans: with probability ``scan`` a request
    starts a burst of ``length`` keys never seen before.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KINDS", "generate", "parse_spec"]

KINDS = ("zipf", "shift", "loop", "scan")

_DEFAULTS: dict[str, dict[str, float]] = {
    "zipf": {"alpha": 0.99, "n": 1e6, "keys": 1e5, "seed": 1},
    "shift": {"alpha": 0.99, "n": 1e6, "keys": 1e5, "phases": 5, "seed": 1},
    "loop": {"n": 1e6, "keys": 1e4, "seed": 1},
    "scan": {"alpha": 0.99, "n": 1e6, "keys": 1e5, "scan": 0.001, "length": 2000, "seed": 1},
}


def parse_spec(spec: str) -> tuple[str, dict[str, float]]:
    """``"zipf:alpha=0.9,n=1e5"`` -> ``("zipf", {...defaults, alpha: 0.9, n: 1e5})``."""
    kind, _, rest = spec.partition(":")
    kind = kind.strip()
    if kind not in _DEFAULTS:
        raise ValueError(f"unknown synthetic workload {kind!r}; one of {', '.join(KINDS)}")
    params = dict(_DEFAULTS[kind])
    for item in filter(None, (p.strip() for p in rest.split(","))):
        name, eq, value = item.partition("=")
        if not eq or name not in params:
            raise ValueError(
                f"bad parameter {item!r} for {kind}; expected name=value with name in "
                f"{', '.join(params)}"
            )
        try:
            params[name] = float(value)
        except ValueError:
            raise ValueError(
                f"parameter {name} of {kind} must be a number, not {value!r}") from None
    for name in ("n", "keys"):
        if params[name] < 1:
            raise ValueError(f"parameter {name} of {kind} must be >= 1")
    return kind, params


def _zipf_ranks(np: Any, rng: Any, alpha: float, keys: int, n: int) -> Any:
    """n ranks in [0, keys) drawn with P(rank r) proportional to 1 / (r + 1) ** alpha."""
    weights = 1.0 / np.arange(1, keys + 1, dtype=np.float64) ** alpha
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(ranks, keys - 1)


def generate(spec: str) -> Any:
    """The workload ``spec`` describes, as a ``numpy.uint64`` array."""
    import numpy as np

    kind, p = parse_spec(spec)
    n, keys = int(p["n"]), int(p["keys"])
    rng = np.random.default_rng(int(p["seed"]))
    if kind == "loop":
        out = np.resize(np.arange(keys, dtype=np.uint64), n)
    elif kind == "zipf":
        out = rng.permutation(keys).astype(np.uint64)[_zipf_ranks(np, rng, p["alpha"], keys, n)]
    elif kind == "shift":
        phases = max(1, int(p["phases"]))
        ranks = _zipf_ranks(np, rng, p["alpha"], keys, n)
        out = np.empty(n, dtype=np.uint64)
        bounds = np.linspace(0, n, phases + 1).astype(np.int64)
        for i in range(phases):
            # each phase: a fresh mapping of ranks to keys (the hot keys change)
            perm = rng.permutation(keys).astype(np.uint64)
            out[bounds[i]:bounds[i + 1]] = perm[ranks[bounds[i]:bounds[i + 1]]]
    else:  # scan
        core = rng.permutation(keys).astype(np.uint64)[_zipf_ranks(np, rng, p["alpha"], keys, n)]
        length = max(1, int(p["length"]))
        starts = np.flatnonzero(rng.random(n) < p["scan"])
        parts = []
        prev = 0
        fresh = np.uint64(keys)
        for s in starts:
            parts.append(core[prev:s])
            parts.append(np.arange(int(fresh), int(fresh) + length, dtype=np.uint64))
            fresh = np.uint64(int(fresh) + length)
            prev = int(s)
        parts.append(core[prev:])
        out = np.concatenate(parts)[:n]
    return np.ascontiguousarray(out, dtype=np.uint64)
