"""The reentrancy fuzzer (``fuzz_engine.py``): random programs whose user code at every hook
calls back into the cache, run in a child process for a time budget.

``FASTCACHE_FUZZ_SECONDS`` (default 8) is the budget of each test; ``FASTCACHE_FUZZ_SEED``
(default 0) the first program's seed. A failure shows the shrunk program and the command that
replays it; a crash shows the seed of the program that was running."""

from __future__ import annotations

import os
import re

import pytest

from .conftest import load_impl
from .fuzz_support import ENGINE, Child, run_engine

SECONDS = float(os.environ.get("FASTCACHE_FUZZ_SECONDS", "8"))
SEED = int(os.environ.get("FASTCACHE_FUZZ_SEED", "0"))


def explain(child: Child, mode: str, impl: str) -> str:
    seeds = re.findall(r"^program (\d+)$", child.stdout, re.M)
    last = seeds[-1] if seeds else "?"
    return (f"the fuzzer failed (exit status {child.returncode}); replay the program with\n"
            f"  python {os.path.relpath(ENGINE)} --mode {mode} --impl {impl} --replay {last}\n"
            + "\n".join(line for line in child.stdout.splitlines()
                        if not line.startswith("program "))[-6000:]
            + f"\n--- stderr\n{child.stderr[-4000:]}")


def fuzz(mode: str, impl: str) -> None:
    child = run_engine("--mode", mode, "--impl", impl, "--seconds", str(SECONDS),
                       "--seed", str(SEED), timeout=SECONDS * 20 + 300)
    assert child.returncode == 0, explain(child, mode, impl)
    assert re.search(r"^ok: [1-9]\d* programs", child.stdout, re.M), child.stdout[-500:]


def test_fuzz_c_against_twin() -> None:
    """The same programs on the compiled core and the twin: same results, reports, contents."""
    load_impl("c")
    fuzz("diff", "c")


@pytest.mark.parametrize("impl", ["c", "py"])
def test_fuzz_chaos(impl: str) -> None:
    """Hooks acting at random, colliding keys: no crash, ``_check()`` after every operation,
    only the exceptions a cache may raise."""
    load_impl(impl)
    fuzz("chaos", impl)


@pytest.mark.parametrize("impl", ["c", "py"])
def test_fuzz_threads(impl: str) -> None:
    """Six threads run the programs on one cache at a switch interval of 1e-6 s, the hooks
    acting at random: no crash or hang, only the exceptions a cache may raise, ``_check()``
    after every operation (C, whose check is atomic) and at the end."""
    load_impl(impl)
    fuzz("threads", impl)
