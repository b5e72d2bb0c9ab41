"""cachetools 8.0's own test suite (``tests/cachetools8``) passes on fastcache, per implementation.

Run in a subprocess with the shim package ``tests/cachetools_shim`` (a ``cachetools`` that
is fastcache) first on ``sys.path``, so the real cachetools the other tests compare against
is not shadowed here. The expected failures, each with its reason, are listed in
``tests/cachetools8/conftest.py`` (strict: one that passes fails this test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.impls import Implementation

ROOT = Path(__file__).resolve().parents[2]


def test_cachetools8_suite_passes_on_fastcache(implementation: Implementation) -> None:
    # (without the outer run's PYTEST_* variables: under pytest-xdist they would make the
    # inner pytest believe it is a worker too)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "tests" / "cachetools_shim"), str(ROOT), env.get("PYTHONPATH", "")])
    env["FASTCACHE_PURE_PYTHON"] = "1" if implementation.name == "py" else ""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         "tests/cachetools8"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in summary and " failed" not in summary, summary
