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


def clean_env() -> dict[str, str]:
    """This environment without the FASTCACHE_ switches."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FASTCACHE_")}


def python(code: str, **env: str) -> str:
    full = clean_env()
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_does_not_pull_optional_dependencies() -> None:
    out = python("import sys, json, fastcache\n"
                 f"print(json.dumps(sorted(m for m in {OPTIONAL!r} if m in sys.modules)))")
    assert json.loads(out) == []


@pytest.mark.compiled
def test_compiled_core_programs_do_not_load_the_twin() -> None:
    """The twin's cache modules load at first use: not by ``import fastcache`` nor by using
    the compiled classes (half the import time); ``help()``'s signature reads one class."""
    code = ("import sys, fastcache\n"
            "c = fastcache.LRUCache(2); c[1] = 1; fastcache.lru_cache(lambda x: x)(1)\n"
            "print(sorted(m for m in sys.modules if m.startswith('fastcache._py.')))\n"
            "import inspect; inspect.signature(fastcache.TTLCache)\n"
            "print(sorted(m for m in sys.modules if m.startswith('fastcache._py.')))")
    before, after = python(code).splitlines()
    assert before == "['fastcache._py.wrapper']"
    assert "fastcache._py.timed" in after and "fastcache._py.lfu" not in after


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


@pytest.mark.compiled
def test_compiled_core_lives_in_the_package() -> None:
    from fastcache import _core

    assert Path(_core.__file__).parent == Path(fastcache.__file__).parent


def test_typing_files_ship_with_the_package() -> None:
    pkg = Path(fastcache.__file__).parent
    for name in ("py.typed", "caches.pyi", "_core.pyi"):
        assert (pkg / name).is_file(), name


# The switch's warning: once, in a checkout where nobody built the core; never when the twin
# was asked for, nor in an installed copy made without the extension.
PROBE = """
import sys, warnings
{block}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fastcache
    import fastcache.caches, fastcache.decorators
print(fastcache.IMPLEMENTATION, len(caught))
for w in caught:
    print(w.category.__name__, w.message)
"""
BLOCK_CORE = "sys.modules['fastcache._core'] = None  # as if it were not built"


def probe(block: str, cwd: Path = ROOT, *flags: str, **env: str) -> list[str]:
    full = clean_env()
    full.update(env)
    proc = subprocess.run([sys.executable, *flags, "-c", PROBE.format(block=block)], cwd=cwd,
                          env=full,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_unbuilt_checkout_warns_once_naming_the_build_command() -> None:
    first, *warned = probe(BLOCK_CORE, PYTHONPATH=str(ROOT))
    assert first == "py 1"
    assert warned[0].startswith("PurePythonWarning fastcache runs its pure-Python twin")
    assert "pip install -e ." in warned[0] and "build_ext --inplace" in warned[0]
    assert issubclass(fastcache.PurePythonWarning, RuntimeWarning)


def test_twin_asked_for_does_not_warn() -> None:
    assert probe(BLOCK_CORE, PYTHONPATH=str(ROOT), FASTCACHE_PURE_PYTHON="1") == ["py 0"]
    assert probe("", PYTHONPATH=str(ROOT), FASTCACHE_PURE_PYTHON="1") == ["py 0"]


def installed_copy(where: Path) -> Path:
    """The package as `FASTCACHE_PURE_PYTHON=1 pip install .` (or PyPy) installs it: no
    compiled module, no setup.py beside it."""
    import shutil

    shutil.copytree(Path(fastcache.__file__).parent, where / "fastcache",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    return where


# -S: no site-packages, so that no installed (or editable) fastcache fills in the blanks
def test_installed_copy_without_extension_falls_back_silently(tmp_path: Path) -> None:
    installed_copy(tmp_path)
    assert probe("", tmp_path, "-S", PYTHONPATH=str(tmp_path)) == ["py 0"]
    info = subprocess.run([sys.executable, "-S", "-m", "fastcache", "info"], cwd=tmp_path,
                          env={**clean_env(), "PYTHONPATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=120, check=True).stdout
    assert "implementation: py (the compiled core was not built here)" in info


def test_broken_extension_warns_even_when_installed(tmp_path: Path) -> None:
    installed_copy(tmp_path)
    (tmp_path / "fastcache" / "_core.py").write_text("raise ImportError('undefined symbol')\n")
    first, *warned = probe("", tmp_path, "-S", PYTHONPATH=str(tmp_path))
    assert first == "py 1"
    assert "failed to import (undefined symbol)" in warned[0]


# A missing optional client: an ImportError naming the extra that installs it.
MISSING_CLIENT = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # as if it were not installed
import fastcache
try:
    {call}
except ImportError as e:
    print(type(e).__name__, e.name, "|", e)
else:
    print("no error")
"""


@pytest.mark.parametrize(("blocked", "call", "extra"), [
    (["redis"], "fastcache.RedisBackend('redis://127.0.0.1:1/0')", "redis"),
    (["redis"], "fastcache.AsyncRedisBackend('redis://127.0.0.1:1/0')", "redis"),
    (["redis"], "fastcache.RedisClusterBackend('redis://127.0.0.1:1')", "redis"),
    (["redis"], "fastcache.RedisInvalidator('redis://127.0.0.1:1/0')", "redis"),
    (["pymemcache"], "fastcache.MemcachedBackend([('127.0.0.1', 1)])", "memcached"),
    (["msgpack"], "fastcache.MsgpackSerializer()", "msgpack"),
])
def test_missing_client_names_the_extra(blocked: list[str], call: str, extra: str) -> None:
    out = python(MISSING_CLIENT.format(blocked=blocked, call=call))
    kind, name, _, message = out.split(" ", 3)
    assert (kind, name) == ("ModuleNotFoundError", blocked[0]), out
    assert f'pip install "fastcache[{extra}]"' in message, out
    assert call.split("(")[0].removeprefix("fastcache.") in message, out


def test_broken_optional_module_is_not_called_missing() -> None:
    # an ImportError from inside an installed client is its own: not turned into "install"
    from fastcache._optional import require

    with pytest.raises(ImportError, match=r'pip install "fastcache\[redis\]"') as info:
        require("no_such_module_xyz.sub", "redis")
    assert info.value.name == "no_such_module_xyz"
    out = python("import sys, types\n"
                 "sys.modules['msgpack'] = types.ModuleType('msgpack')\n"
                 "sys.modules['msgpack'].__path__ = []\n"
                 "from fastcache._optional import require\n"
                 "try:\n    require('msgpack.inner', 'msgpack')\n"
                 "except ImportError as e:\n    print(type(e).__name__, e.name)")
    assert out == "ModuleNotFoundError msgpack.inner"
