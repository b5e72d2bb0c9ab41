"""Fixtures of the pattern tests: a file-backed sqlite3 source shared by threads, an
in-process backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fastcache.backends import MemoryBackend
from fastcache.sources import SQLSource


@pytest.fixture()
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "data.sqlite3")


@pytest.fixture()
def source(db_path: str) -> Iterator[SQLSource]:
    """A key/value SQLSource on a sqlite3 file (JSON values)."""
    src = SQLSource.sqlite(db_path, "kv")
    yield src
    src.close()


@pytest.fixture()
def memory() -> MemoryBackend:
    return MemoryBackend(maxsize=100_000)
