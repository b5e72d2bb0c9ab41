"""Packaging contract: a light ``import fastcache``, a complete ``__all__``, the implementation
switch (``IMPLEMENTATION`` is "c" unless the twin was asked for), and the typing files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fastcache

ROOT = Path(__file__).resolve().parent.parent
OPTIONAL = ("redis", "hiredis", "pymemcache", "msgpack", "numpy", "cachetools", "cachebox")


def python(code: str, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("FASTCACHE_")}
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_does_not_pull_optional_dependencies() -> None:
    out = python("import sys, json, fastcache\n"
                 f"print(json.dumps(sorted(m for m in {OPTIONAL!r} if m in sys.modules)))")
    assert json.loads(out) == []


def test_all_names_exist_and_are_unique() -> None:
    names = fastcache.__all__
    assert len(names) == len(set(names))
    missing = [n for n in names if not hasattr(fastcache, n)]
    assert missing == []
    for name in ("IMPLEMENTATION", "LRUCache", "LFUCache", "TTLCache", "__version__"):
        assert name in names


def expected_implementation(env: dict[str, str]) -> str:
    off = ("", "0")
    if env.get("FASTCACHE_PURE_PYTHON", "") not in off:
        return "py"
    if env.get("FASTCACHE_NO_EXTENSIONS", "") not in off:  # built without the extension
        return "py"
    return "c"


def test_implementation_in_this_process() -> None:
    assert fastcache.IMPLEMENTATION == expected_implementation(dict(os.environ))


@pytest.mark.parametrize("pure", ["", "0", "1"])
def test_implementation_switch(pure: str) -> None:
    env = {"FASTCACHE_PURE_PYTHON": pure}
    if os.environ.get("FASTCACHE_NO_EXTENSIONS"):
        env["FASTCACHE_NO_EXTENSIONS"] = os.environ["FASTCACHE_NO_EXTENSIONS"]
    out = python("import fastcache, fastcache.caches as c\n"
                 "print(fastcache.IMPLEMENTATION, c.LRUCache.__mro__[1].__module__)", **env)
    impl, base_module = out.split()
    assert impl == expected_implementation(env)
    # the public class sits right over the implementation's class
    assert base_module.split(".")[:2] == ["fastcache", {"c": "_core", "py": "_py"}[impl]]


@pytest.mark.skipif(expected_implementation(dict(os.environ)) != "c",
                    reason="FASTCACHE_PURE_PYTHON/FASTCACHE_NO_EXTENSIONS asked for the twin")
def test_compiled_core_lives_in_the_package() -> None:
    from fastcache import _core

    assert Path(_core.__file__).parent == Path(fastcache.__file__).parent


def test_typing_files_ship_with_the_package() -> None:
    pkg = Path(fastcache.__file__).parent
    for name in ("py.typed", "caches.pyi", "_core.pyi"):
        assert (pkg / name).is_file(), name
