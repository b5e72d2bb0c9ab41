"""Decorated functions keep their signatures for type checkers: mypy flags a wrong call."""

from __future__ import annotations

import textwrap
from pathlib import Path

import mypy.api

SNIPPET = '''
from fastcache import decorators as d

@d.lru_cache(maxsize=32)
def area(width: int, height: int = 1) -> float:
    return width * height

@d.lru_cache
def bare(name: str) -> str:
    return name

@d.ttl_cache(maxsize=8, ttl=60)
def fresh(x: int) -> bytes:
    return bytes(x)

@d.lfu_cache
def hot(x: int) -> int:
    return x

@d.cache
def whole(x: int) -> list[int]:
    return [x]

class Svc:
    @d.lru_cache
    def get(self, key: int) -> str:
        return str(key)

    @staticmethod
    @d.lfu_cache(maxsize=4)
    def static(key: int) -> int:
        return key

ok0: str = Svc().get(1)      # a method binds: the receiver is not an argument
ok00: int = Svc.static(1)
Svc().get.cache_clear()

ok1: float = area(2, height=3)
ok2: str = bare("a")
ok3: bytes = fresh(1)
ok4: int = hot(1)
ok5: list[int] = whole(1)
info = area.cache_info()
hits: int = info.hits
area.cache_clear()

area("wide")                 # E: wrong argument type
bare(1, 2)                   # E: too many arguments
bad: str = fresh(1)          # E: wrong return type
hot(x="1")                   # E: wrong keyword argument type
whole()                      # E: missing argument
bad_method: int = Svc().get(1)  # E: a method's result type is kept
Svc.static("1")              # E: wrong argument type through staticmethod
'''


def test_mypy_flags_wrong_calls_and_keeps_signatures(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(SNIPPET).lstrip("\n"))
    root = Path(__file__).resolve().parents[2]
    stdout, stderr, status = mypy.api.run([
        "--strict", "--cache-dir", str(tmp_path / ".mypy_cache"),
        "--config-file", str(root / "pyproject.toml"), str(source),
    ])
    expected = [n for n, line in enumerate(source.read_text().splitlines(), 1)
                if "# E:" in line]
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    flagged = sorted({int(line.split(":")[1]) for line in errors})
    assert len(expected) == 7
    assert flagged == expected, stdout + stderr
    assert status == 1
