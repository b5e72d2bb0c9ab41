"""Reentrancy fuzzer of the decorators (compiled call wrapper and pure-Python one): arguments
whose ``__hash__``/``__eq__`` call ``cache_clear()``, ``cache_info()``, the decorated function
itself (recursion), or raise; a decorated function that does the same. Every call must return
what the undecorated function returns (never a wrong value), or raise the hook's exception;
no crash. The fuzz loop runs in a child process (this file run as a script) for
``FASTCACHE_FUZZ_SECONDS`` (default 8) per implementation."""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SECONDS = float(os.environ.get("FASTCACHE_FUZZ_SECONDS", "8"))
SEED = int(os.environ.get("FASTCACHE_FUZZ_SEED", "0"))
MAX_DEPTH = 3


class HookError(Exception):
    """Raised on purpose by an argument's hook."""


class State:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.func: Any = None
        self.depth = 0
        self.p = 0.2  # how often a hook acts

    def act(self, where: str) -> None:
        """Maybe run a reentrant action (from a hook or from the decorated function)."""
        if self.func is None or self.depth >= MAX_DEPTH or self.rng.random() >= self.p:
            return
        action = self.rng.choice(["clear", "clear", "info", "call", "call", "raise"])
        if action == "raise":
            raise HookError(where)
        self.depth += 1
        try:
            if action == "clear":
                if hasattr(self.func, "cache_clear"):
                    self.func.cache_clear()
                else:
                    self.func.cache.clear()
            elif action == "info":
                if hasattr(self.func, "cache_info"):
                    info = self.func.cache_info()
                    assert info.hits >= 0 and info.misses >= 0, info
            else:
                call_checked(self, gen_args(self))
        except HookError:
            pass
        finally:
            self.depth -= 1


class Arg:
    """A hostile argument: equal to another ``Arg`` of the same ident; hashes collide."""

    def __init__(self, state: State, ident: int) -> None:
        self.state = state
        self.ident = ident

    def __hash__(self) -> int:
        self.state.act("hash")
        return self.ident % 3

    def __eq__(self, other: object) -> bool:
        self.state.act("eq")
        return isinstance(other, Arg) and other.ident == self.ident

    def __repr__(self) -> str:
        return f"Arg({self.ident})"


def plain(obj: Any) -> Any:
    return ("A", obj.ident) if isinstance(obj, Arg) else obj


def expected(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return (tuple(plain(a) for a in args), tuple(sorted((k, plain(v)) for k, v in
                                                        kwargs.items())))


def gen_args(state: State) -> tuple[tuple[Any, ...], dict[str, Any]]:
    rng = state.rng

    def one() -> Any:
        r = rng.random()
        if r < 0.4:
            return rng.randrange(6)
        if r < 0.5:
            return float(rng.randrange(3))  # typed: 1 and 1.0
        return Arg(state, rng.randrange(6))

    args = tuple(one() for _ in range(rng.randrange(3)))
    kwargs = {"k": one()} if rng.random() < 0.3 else {}
    return args, kwargs


def call_checked(state: State, call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    args, kwargs = call
    try:
        result = state.func(*args, **kwargs)
    except HookError:
        return
    except RuntimeError as exc:
        if "changed during lookup" not in str(exc):
            raise
        return
    want = expected(args, kwargs)
    if result != want:
        raise AssertionError(f"f{args!r} {kwargs!r} returned {result!r}, expected {want!r}")


def decorators(mod: ModuleType, rng: random.Random, state: State) -> list[tuple[str, Any]]:
    import fastcache

    clock = [0.0]

    def timer() -> float:
        clock[0] += 0.001
        return clock[0]

    n = rng.choice([0, 1, 2, 4, None])
    m = n if n is not None else 8
    return [
        (f"lru_cache({n}, typed)", mod.lru_cache(n, typed=rng.random() < 0.5)),
        (f"lfu_cache({m})", mod.lfu_cache(m)),
        (f"fifo_cache({m})", mod.fifo_cache(m)),
        (f"rr_cache({m})", mod.rr_cache(m)),
        (f"ttl_cache({m})", mod.ttl_cache(m, ttl=0.005, timer=timer)),
        (f"tlru_cache({m})", mod.tlru_cache(m, ttu=lambda k, v, now: now + 0.003, timer=timer)),
        (f"sieve_cache({n})", mod.sieve_cache(n)),
        (f"s3fifo_cache({n})", mod.s3fifo_cache(n)),
        (f"wtinylfu_cache({n})", mod.wtinylfu_cache(n)),
        ("cache", mod.cache),
        (f"cached(LRUCache({m}))", mod.cached(fastcache.LRUCache(max(m, 1)))),
        (f"cached(TTLCache({m}), info)", mod.cached(
            fastcache.TTLCache(max(m, 1), 0.004, timer=timer), info=True)),
    ]


def fuzz(impl: str, seconds: float, seed: int) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.decorators.impls import IMPLS

    mod = IMPLS[impl]
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        print(f"round {seed + rounds}", flush=True)
        rng = random.Random(seed + rounds)
        state = State(rng)
        for name, deco in decorators(mod, rng, state):
            def raw(*args: Any, state: State = state, **kwargs: Any) -> Any:
                state.act("function")
                return expected(args, kwargs)

            state.func = deco(raw)
            try:
                for _ in range(60):
                    call_checked(state, gen_args(state))
                    try:
                        info = (state.func.cache_info() if hasattr(state.func, "cache_info")
                                else None)
                    except HookError:
                        # The twin's timed caches remove expired keys by key, so cache_info()
                        # (currsize expires first) runs a key's __hash__/__eq__, and its
                        # exception propagates; the compiled core removes by entry and runs
                        # no user code there (a difference of the twin, listed in _py/caches.py).
                        if impl != "py":
                            raise
                        info = None
                    if info is not None and info.maxsize is not None:
                        assert info.currsize <= max(info.maxsize, 0), (name, info)
            except BaseException as exc:
                print(f"FINDING in {name} ({impl}, round {seed + rounds}): "
                      f"{type(exc).__name__}: {exc}", flush=True)
                raise
            finally:
                state.func = None
        rounds += 1
    print(f"ok: {rounds} rounds", flush=True)
    return 0


@pytest.mark.parametrize("impl", ["c", "py"])
def test_decorators_reentrancy_fuzz(impl: str) -> None:
    from .impls import IMPLS

    if impl not in IMPLS:
        pytest.skip("the compiled call wrapper is not in use (FASTCACHE_PURE_PYTHON set)")
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-W", "error", __file__, "--impl", impl,
         "--seconds", str(SECONDS), "--seed", str(SEED)],
        capture_output=True, text=True, env=env, cwd=root, timeout=SECONDS * 20 + 300)
    rounds = re.findall(r"^round (\d+)$", proc.stdout, re.M)
    assert proc.returncode == 0, (
        f"exit status {proc.returncode}, last round {rounds[-1] if rounds else '?'}\n"
        + "\n".join(line for line in proc.stdout.splitlines() if not line.startswith("round"))
        + f"\n--- stderr\n{proc.stderr[-4000:]}")
    assert re.search(r"^ok: [1-9]\d* rounds", proc.stdout, re.M), proc.stdout[-500:]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=("c", "py"), required=True)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--seed", type=int, default=SEED)
    ns = parser.parse_args()
    sys.exit(fuzz(ns.impl, ns.seconds, ns.seed))
