"""A process that writes through WriteBehind / AsyncWriteBehind into sqlite3 and prints the
number of every write after ``set()`` returned (an acknowledged write), until it is killed.
Run by tests/patterns/test_write_behind_journal.py; also holds the versioned sqlite3 source.

    python -m tests.patterns.journal_child DB [--journal PATH] [--fsync always|never|SECONDS]
        [--async] [--handler] [--source plain|versioned|down] [--keys N] [--replay]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import threading
from collections.abc import Mapping
from typing import Any

from fastcache.backends import MISSING, AsyncMemoryBackend, MemoryBackend
from fastcache.patterns import AsyncWriteBehind, WriteBehind, install_signal_handlers
from fastcache.sources import AsyncSourceAdapter, SQLSource


class VersionedSQLSource:
    """A sqlite3 key/value table with a version column: a write lands only if its version
    is newer than the row's (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``), so an older
    write replayed late never overwrites a newer one."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0)
        self.lock = threading.Lock()
        with self.lock, self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS vkv (key TEXT PRIMARY KEY, value TEXT, version INT)"
            )

    def get(self, key: str) -> object:
        with self.lock:
            row = self.conn.execute("SELECT value FROM vkv WHERE key = ?", (key,)).fetchone()
        return MISSING if row is None else row[0]

    def set_many_versioned(self, items: Mapping[str, tuple[Any, int]]) -> None:
        with self.lock, self.conn:
            self.conn.executemany(
                "INSERT INTO vkv VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value, version = excluded.version "
                "WHERE excluded.version > vkv.version",
                [(k, v, ver) for k, (v, ver) in items.items()],
            )

    def delete_many_versioned(self, items: Mapping[str, int]) -> None:
        with self.lock, self.conn:
            self.conn.executemany(
                "DELETE FROM vkv WHERE key = ? AND version < ?", list(items.items())
            )

    def set(self, key: str, value: Any) -> None:
        raise AssertionError("WriteBehind must use set_many_versioned")

    def delete(self, key: str) -> None:
        raise AssertionError("WriteBehind must use delete_many_versioned")

    def close(self) -> None:
        self.conn.close()


class DownSource:
    """A source that is away: every write fails (the writes stay pending)."""

    def get(self, key: str) -> object:
        return MISSING

    def set(self, key: str, value: Any) -> None:
        raise ConnectionError("source unavailable")

    def delete(self, key: str) -> None:
        raise ConnectionError("source unavailable")


def make_source(kind: str, db: str) -> Any:
    if kind == "versioned":
        return VersionedSQLSource(db)
    if kind == "down":
        return DownSource()
    return SQLSource.sqlite(db, "kv")


def options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = dict(batch_size=500, flush_interval=0.2, max_retries=10_000,
                                backoff=0.01, max_backoff=0.05, exit_timeout=30.0)  # fmt: skip
    if args.journal:
        fsync = args.fsync if args.fsync in ("always", "never") else float(args.fsync)
        opts.update(journal=args.journal, fsync=fsync)
    return opts


def ack(i: int) -> None:
    sys.stdout.write(f"{i}\n")
    sys.stdout.flush()


def run_sync(args: argparse.Namespace) -> None:
    wb = WriteBehind(MemoryBackend(maxsize=100_000), make_source(args.source, args.db),
                     **options(args))  # fmt: skip
    if args.replay:
        wb.close()
        return
    i = 0
    while True:
        wb.set(f"k{i % args.keys}", i)
        ack(i)
        i += 1


async def run_async(args: argparse.Namespace) -> None:
    source = AsyncSourceAdapter(make_source(args.source, args.db))
    wb = AsyncWriteBehind(AsyncMemoryBackend(maxsize=100_000), source, **options(args))
    if args.replay:
        await wb.close()
        return
    i = 0
    while True:
        await wb.set(f"k{i % args.keys}", i)
        ack(i)
        i += 1
        await asyncio.sleep(0)  # a service awaits I/O between writes; the memory backend never does


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--journal")
    p.add_argument("--fsync", default="always")
    p.add_argument("--async", dest="use_async", action="store_true")
    p.add_argument("--handler", action="store_true")
    p.add_argument("--source", default="plain", choices=("plain", "versioned", "down"))
    p.add_argument("--keys", type=int, default=50)
    p.add_argument("--replay", action="store_true")
    args = p.parse_args()
    if args.handler:
        install_signal_handlers()
    if args.use_async:
        asyncio.run(run_async(args))
    else:
        run_sync(args)


if __name__ == "__main__":
    main()
