"""Helpers of the reentrancy fuzzer and the review-finding tests: code that may crash the
interpreter runs in a child process, so a segfault fails one test instead of killing pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import fastcache

#: The directory fastcache is imported from here (the child imports the same tree).
ROOT = str(Path(fastcache.__file__).resolve().parent.parent)

#: The public-layer module of each implementation, as the ``impl`` fixture loads it.
IMPL_MODULES = {"c": "fastcache.caches", "py": "fastcache._py.public"}


@dataclass
class Child:
    """The outcome of a child process."""

    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (f"exit status {self.returncode}\n--- stdout\n{self.stdout[-1500:]}\n"
                f"--- stderr\n{self.stderr[-4000:]}")


def impl_name(module: ModuleType) -> str:
    """``c`` or ``py``: the implementation of a public-layer module (the ``impl`` fixture)."""
    return next(k for k, v in IMPL_MODULES.items() if v == module.__name__)


def run_child(code: str, impl: str, *, malloc_debug: bool = True, timeout: float = 300) -> Child:
    """Run ``code`` (dedented) in a fresh interpreter where ``m`` is the public-layer module
    of implementation ``impl`` (``c`` or ``py``). ``PYTHONMALLOC=debug`` makes a heap
    overrun abort the child instead of passing unseen; ``faulthandler`` prints the Python
    stack of a crash."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    if malloc_debug and "LD_PRELOAD" not in env:  # ASan replaces the allocator itself
        env["PYTHONMALLOC"] = "debug"
    prelude = f"import importlib\nm = importlib.import_module({IMPL_MODULES[impl]!r})\n"
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    return Child(proc.returncode, proc.stdout, proc.stderr)


def run_ok(code: str, impl: str, **kw: object) -> str:
    """``run_child`` that must exit 0; its stdout."""
    child = run_child(code, impl, **kw)  # type: ignore[arg-type]
    assert child.returncode == 0, child.describe()
    return child.stdout


#: The fuzzer's script (run as a program in a child process).
ENGINE = str(Path(__file__).resolve().parent / "fuzz_engine.py")


def run_engine(*args: str, timeout: float) -> Child:
    """Run the fuzzer's engine with ``args`` in a child process (the environment inherited:
    ``PYTHONMALLOC``, a sanitizer's ``LD_PRELOAD``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-X", "faulthandler", ENGINE, *args],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    return Child(proc.returncode, proc.stdout, proc.stderr)
