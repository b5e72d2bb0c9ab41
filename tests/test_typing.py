"""The cache classes' stubs (fastcache/caches.pyi, fastcache/_core.pyi) under ``mypy --strict``:
a correct snippet passes with the precise generic types, a wrongly typed one is flagged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

GOOD = '''\
from collections.abc import MutableMapping

from fastcache import LFUCache, LRUCache, TLRUCache, TTLCache, CacheStats

c: LRUCache[str, int] = LRUCache(100, on_evict=lambda k, v, cause: None, stats=True)
c["a"] = 1
n: int = c["a"]
reveal_type(c.get("a"))
reveal_type(c.get("a", 0))
reveal_type(c.peek("a", "default"))
reveal_type(c.pop("a", None))
reveal_type(c.popitem())
reveal_type(c.maxsize)
reveal_type(c.currsize)
s: CacheStats = c.stats()
m: MutableMapping[str, int] = c
reveal_type(list(c.items()))
f = LFUCache[int, bytes](10, getsizeof=len)
t: TTLCache[str, float] = TTLCache(10, ttl=1.5)
t.set("x", 2.0, ttl=30)
reveal_type(t.expire())
reveal_type(t.remaining_ttl("x"))
u: TLRUCache[str, str] = TLRUCache(10, lambda k, v, now: now + len(v))
'''

BAD = '''\
from fastcache import LRUCache, TTLCache

c: LRUCache[str, int] = LRUCache(100)
c["a"] = "not an int"
c[1] = 2
x: str = c["a"]
TTLCache(10, ttl="one minute")
c.peek()
'''


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """One mypy run over both snippets (mypy's start-up dominates the cost)."""
    d = tmp_path_factory.mktemp("typing")
    (d / "good.py").write_text(GOOD)
    (d / "bad.py").write_text(BAD)
    env = dict(os.environ, MYPYPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--follow-imports=silent", "--config-file=", "--cache-dir", str(d / "cache"),
         "--python-version", "3.10", "--show-error-codes", "good.py", "bad.py"],
        cwd=d, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def messages(output: str, name: str, kind: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for line in output.splitlines():
        m = re.match(rf"{name}:(\d+): {kind}: (.*)", line)
        if m:
            found[int(m.group(1))] = m.group(2)
    return found


def test_correct_code_passes_with_precise_types(mypy_output: tuple[int, str]) -> None:
    _, output = mypy_output
    assert messages(output, "good.py", "error") == {}, output
    notes = messages(output, "good.py", "note")
    # older mypy versions spell builtins in full
    revealed = {line: re.sub(r'^Revealed type is "(.*)"$', r"\1", text).replace("builtins.", "")
                for line, text in notes.items()}
    assert revealed == {
        8: "int | None",
        9: "int",
        10: "int | str",
        11: "int | None",
        12: "tuple[str, int]",
        13: "float",
        14: "int",
        17: "list[tuple[str, int]]",
        21: "list[tuple[str, float]]",
        # a float for a number timer, a timedelta for a datetime timer: the stub says Any
        22: "Any",
    }, output


def test_wrong_types_are_flagged(mypy_output: tuple[int, str]) -> None:
    status, output = mypy_output
    assert status == 1, output
    errors = messages(output, "bad.py", "error")
    assert sorted(errors) == [4, 5, 6, 7, 8], output
    assert "[assignment]" in errors[4]
    assert "[index]" in errors[5]
    assert "[assignment]" in errors[6]
    assert "[call-overload]" in errors[7]  # ttl: a number or a timedelta (two overloads)
    assert "[call-overload]" in errors[8]
