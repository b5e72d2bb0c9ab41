"""Real-failure helpers for the pattern tests: a source wrapper that fails for real
(raises at random, goes away), a slow counting source, reading a sqlite3 table from disk."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from typing import Any


class SourceDown(ConnectionError):
    """Raised by FlakySource while the source is "away" or for a random failed write."""


class FlakySource:
    """Wraps a real source. Each write call fails with probability ``fail_rate`` (drawn
    from a seeded RNG); between ``down()`` and ``up()`` every call fails. Counts calls."""

    def __init__(self, inner: Any, fail_rate: float = 0.0, seed: int = 1) -> None:
        self.inner = inner
        self.fail_rate = fail_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.gets = 0
        self.writes = 0
        self.failures = 0

    def down(self, seconds: float = float("inf")) -> None:
        self._down_until = time.monotonic() + seconds

    def up(self) -> None:
        self._down_until = 0.0

    def _check(self, write: bool) -> None:
        with self._lock:
            fail = time.monotonic() < self._down_until or (
                write and self._rng.random() < self.fail_rate
            )
            if fail:
                self.failures += 1
        if fail:
            raise SourceDown("source unavailable")

    def get(self, key: str) -> object:
        self.gets += 1
        self._check(False)
        return self.inner.get(key)

    def get_many(self, keys: Any) -> dict[str, Any]:
        self.gets += 1
        self._check(False)
        return dict(self.inner.get_many(keys))

    def set(self, key: str, value: Any) -> None:
        self.writes += 1
        self._check(True)
        self.inner.set(key, value)

    def set_many(self, mapping: Any) -> None:
        self.writes += 1
        self._check(True)
        self.inner.set_many(mapping)

    def delete(self, key: str) -> None:
        self.writes += 1
        self._check(True)
        self.inner.delete(key)

    def delete_many(self, keys: Any) -> None:
        self.writes += 1
        self._check(True)
        self.inner.delete_many(keys)


class SlowSource:
    """Wraps a source; every ``get`` reads, then sleeps ``delay`` seconds; loads are counted
    per key."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.loads: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> object:
        with self._lock:
            self.loads[key] = self.loads.get(key, 0) + 1
        value = self.inner.get(key)
        time.sleep(self.delay)  # the answer travels back slowly: it may be stale on arrival
        return value

    def set(self, key: str, value: Any) -> None:
        self.inner.set(key, value)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def read_table(db_path: str, table: str = "kv") -> dict[str, str]:
    """The table as written on disk, read through a fresh connection."""
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute(f"SELECT key, value FROM {table}").fetchall())
    finally:
        conn.close()


def fast_commits(source: Any) -> None:
    """WAL journal, no fsync per commit: the tests check logic, not durability on power loss
    (and the shared test machine's disk makes each fsync cost ~10 ms)."""
    source.connection.execute("PRAGMA journal_mode=WAL")
    source.connection.execute("PRAGMA synchronous=OFF")
