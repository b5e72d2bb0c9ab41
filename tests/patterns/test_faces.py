"""Each pattern's sync and async faces offer the same methods (the async source and the
generated sync face cannot drift apart; a hand-written pair would fail here)."""

from __future__ import annotations

import pytest

import fastcache.patterns
from tests.backends.support import assert_same_faces

PAIRS = ["ReadThrough", "CacheAside", "WriteAround", "WriteThrough", "MultiLevelCache",
         "WriteBehind"]


@pytest.mark.parametrize("name", PAIRS)
def test_sync_and_async_faces_offer_the_same_methods(name: str) -> None:
    assert_same_faces(getattr(fastcache.patterns, name),
                      getattr(fastcache.patterns, "Async" + name))


def test_the_sync_faces_are_current() -> None:
    """``tools/unasync.py --check``: every generated file matches its async source."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "tools" / "unasync.py"), "--check"],
                          capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr
