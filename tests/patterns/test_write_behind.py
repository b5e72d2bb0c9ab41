"""WriteBehind / AsyncWriteBehind over a real sqlite3 source that fails for real."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fastcache.backends import MISSING, AsyncMemoryBackend, MemoryBackend
from fastcache.patterns import TOMBSTONE, AsyncWriteBehind, QueueFullError, WriteBehind
from fastcache.sources import AsyncSourceAdapter, SQLSource

from .helpers import FlakySource, SourceDown, read_table, wait_until

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """An on_error callback that keeps what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, BaseException]] = []
        self.lock = threading.Lock()

    def __call__(self, key: str, value: Any, exc: BaseException) -> None:
        with self.lock:
            self.calls.append((key, value, exc))


def test_cache_now_source_later(backend: Any, source: SQLSource) -> None:
    with WriteBehind(backend, source, ttl=60, flush_interval=5.0) as wb:
        wb.set("a", {"v": 1})
        assert backend.get("a") == {"v": 1}  # the cache at once
        assert wb.get("a") == {"v": 1}
        wb.flush()
        assert source.get("a") == {"v": 1}
        source.set("b", "from-db")
        assert wb.get("b") == "from-db" and backend.get("b") == "from-db"  # read-through
        assert wb.get("nothing", 5) == 5
    assert source.get("a") == {"v": 1}
    with pytest.raises(RuntimeError, match="closed"):
        wb.set("a", 2)
    wb.close()  # idempotent


def test_reads_see_pending_writes(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    mem = MemoryBackend()
    rec = Recorder()
    wb = WriteBehind(mem, flaky, backoff=0.01, max_backoff=0.02, max_retries=1000,
                     on_error=rec)
    source.set("k", "old")
    wb.set("k", "new")
    wb.delete("gone")
    source.set("gone", "still in db")
    mem.clear()  # the cache lost it (eviction, restart): the queue still answers
    assert wb.get("k") == "new"
    assert wb.get("gone", "absent") == "absent"
    flaky.up()
    wb.close()
    assert source.get("k") == "new" and source.get("gone") is MISSING
    assert rec.calls == []


def test_coalescing_and_order_per_key(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    wb = WriteBehind(MemoryBackend(), flaky, backoff=0.01, max_backoff=0.02,
                     max_retries=1000, flush_interval=0.01)
    for i in range(1000):
        wb.set("a", i)
    wb.set("b", 1)
    wb.delete("b")
    wb.delete("c")
    wb.set("c", "back")
    assert wb.pending <= 3  # 1000 writes of "a" are one pending write
    flaky.up()
    wb.flush()
    assert source.get("a") == 999 and source.get("b") is MISSING and source.get("c") == "back"
    assert flaky.writes < 200
    wb.close()


class RecordingSource:
    """Records the size of every set_many batch."""

    def __init__(self, inner: SQLSource) -> None:
        self.inner = inner
        self.batches: list[int] = []

    def get(self, key: str) -> object:
        return self.inner.get(key)

    def set(self, key: str, value: Any) -> None:
        self.inner.set(key, value)

    def set_many(self, mapping: Any) -> None:
        self.batches.append(len(mapping))
        self.inner.set_many(mapping)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def test_batches_by_size_and_by_time(source: SQLSource) -> None:
    rec = RecordingSource(source)
    wb = WriteBehind(MemoryBackend(), rec, batch_size=10, flush_interval=1.5)
    for i in range(25):
        wb.set(f"k{i}", i)
    wait_until(lambda: sum(rec.batches) >= 20)
    assert rec.batches[:2] == [10, 10]  # full batches went at once
    time.sleep(0.2)
    assert sum(rec.batches) == 20  # the last 5 wait for the interval...
    wait_until(lambda: sum(rec.batches) == 25, timeout=5)  # ...then go
    assert rec.batches == [10, 10, 5]
    wb.close()


def test_backpressure_raise(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    wb = WriteBehind(MemoryBackend(), flaky, max_pending=5, batch_size=2, on_full="raise",
                     backoff=0.01, max_backoff=0.02, max_retries=10_000)
    wb.set("k0", 0)
    wb.set("k1", 1)
    wait_until(lambda: wb.pending == 0)  # k0, k1 in flight, retrying
    for i in range(2, 7):
        wb.set(f"k{i}", i)
    with pytest.raises(QueueFullError):
        wb.set("k7", 7)
    assert wb.backend.get("k7") is MISSING  # a refused write touched nothing
    wb.set("k3", "again")  # a pending key coalesces: no new room needed
    flaky.up()
    wb.close()
    assert read_table(source.connection.execute("PRAGMA database_list").fetchone()[2]) == {
        "k0": "0", "k1": "1", "k2": "2", "k3": '"again"', "k4": "4", "k5": "5", "k6": "6",
    }


def test_backpressure_block(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    wb = WriteBehind(MemoryBackend(), flaky, max_pending=3, batch_size=1,
                     backoff=0.01, max_backoff=0.02, max_retries=10_000)
    wb.set("a", 1)
    wait_until(lambda: wb.pending == 0)
    for k in ("b", "c", "d"):
        wb.set(k, 1)
    done = threading.Event()

    def blocked_writer() -> None:
        wb.set("e", 1)  # blocks: the queue is full
        done.set()

    t = threading.Thread(target=blocked_writer)
    t.start()
    assert not done.wait(0.3)
    assert wb.backend.get("e") is MISSING  # nothing written while blocked
    flaky.up()
    assert done.wait(5)
    t.join()
    wb.close()
    assert all(source.get(k) == 1 for k in "abcde")


def test_backpressure_block_with_timeout(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    wb = WriteBehind(MemoryBackend(), flaky, max_pending=1, batch_size=1, put_timeout=0.2,
                     backoff=0.01, max_backoff=0.02, max_retries=10_000)
    wb.set("x", 1)
    wait_until(lambda: wb.pending == 0)
    wb.set("y", 1)
    start = time.monotonic()
    with pytest.raises(QueueFullError, match="still full"):
        wb.set("z", 1)
    assert 0.15 < time.monotonic() - start < 2
    flaky.up()
    wb.close()
    assert source.get("y") == 1 and source.get("z") is MISSING


def test_retries_then_error_callback(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    rec = Recorder()
    wb = WriteBehind(MemoryBackend(), flaky, max_retries=3, backoff=0.01, max_backoff=0.05,
                     on_error=rec)
    wb.set("a", 1)
    wb.set("b", {"x": 2})
    wb.delete("c")
    wb.flush(timeout=10)
    assert flaky.writes >= 4  # the first try and three retries
    got = {k: v for k, v, _ in rec.calls}
    assert got == {"a": 1, "b": {"x": 2}, "c": TOMBSTONE}
    assert all(isinstance(e, SourceDown) for _, _, e in rec.calls)
    assert wb.errors == 3
    wb.close()


def test_backoff_is_exponential_with_jitter(source: SQLSource) -> None:
    wb = WriteBehind(MemoryBackend(), source, backoff=0.1, max_backoff=1.0)
    for attempt, cap in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [wb._delay(attempt) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert len(set(delays)) > 150  # jittered, not one fixed value
    wb.close()
    flaky = FlakySource(source)
    flaky.down()
    rec = Recorder()
    wb = WriteBehind(MemoryBackend(), flaky, max_retries=3, backoff=0.1, on_error=rec)
    start = time.monotonic()
    wb.set("a", 1)
    wb.flush(timeout=10)
    # three waits of at least 0.05, 0.1 and 0.2 s between the four attempts
    assert time.monotonic() - start >= 0.35 and flaky.writes == 4 and len(rec.calls) == 1
    wb.close()


def test_error_callback_failure_does_not_stop_the_worker(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()

    def bad_callback(key: str, value: Any, exc: BaseException) -> None:
        raise RuntimeError("callback bug")

    wb = WriteBehind(MemoryBackend(), flaky, max_retries=0, on_error=bad_callback)
    wb.set("a", 1)
    wb.flush(timeout=5)
    flaky.up()
    wb.set("b", 2)
    wb.close()
    assert source.get("b") == 2


def test_flush_timeout(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    wb = WriteBehind(MemoryBackend(), flaky, backoff=0.01, max_retries=10_000)
    wb.set("a", 1)
    with pytest.raises(TimeoutError):
        wb.flush(timeout=0.2)
    rec = Recorder()
    wb.on_error = rec
    wb.close(timeout=0.3)  # the source never came back: close gives up, reports
    assert [(k, v) for k, v, _ in rec.calls] == [("a", 1)]
    assert isinstance(rec.calls[0][2], (TimeoutError, SourceDown))


def test_bad_arguments(source: SQLSource) -> None:
    mem = MemoryBackend()
    for kwargs, exc in [
        ({"on_full": "drop"}, ValueError),
        ({"max_pending": 0}, ValueError),
        ({"batch_size": 1.5}, TypeError),
        ({"max_retries": -1}, ValueError),
        ({"backoff": 0}, ValueError),
        ({"on_error": 3}, TypeError),
    ]:
        with pytest.raises(exc):
            WriteBehind(mem, source, **kwargs)


def _last_values(n_writes: int, n_keys: int, writers: int) -> dict[str, int]:
    return {f"key{(i * 7919) % n_keys}": i for i in range(n_writes)}


def test_loses_nothing_under_random_failures_and_an_outage(source: SQLSource,
                                                           db_path: str) -> None:
    """100,000 writes over 1,000 keys; 20% of source writes fail; the source is away for
    2 s in the middle. After close() the source holds the last value of every key."""
    flaky = FlakySource(source, fail_rate=0.2, seed=7)
    rec = Recorder()
    wb = WriteBehind(MemoryBackend(maxsize=10_000), flaky, batch_size=200,
                     flush_interval=0.02, max_retries=30, backoff=0.01, max_backoff=0.3,
                     on_error=rec)
    n_writes, n_keys, n_threads = 100_000, 1_000, 4
    outage = threading.Timer(0.3, flaky.down, args=(2.0,))
    outage.start()

    def writer(t: int) -> None:  # each thread owns the keys i with i % n_threads == t
        for i in range(t, n_writes, n_threads):
            wb.set(f"key{(i * 7919) % n_keys}", i)
            if i % 400 == t:
                time.sleep(0.011)  # paced: the writes go on through the whole outage

    start = time.monotonic()
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writing = time.monotonic() - start
    wb.close()
    outage.join()
    assert writing > 2.4  # writes were still coming after the outage (0.3 s to 2.3 s) ended
    assert flaky.failures > 5 and rec.calls == []  # failures happened, none was final
    expected = {k: str(v) for k, v in _last_values(n_writes, n_keys, n_threads).items()}
    assert len(expected) == n_keys
    assert read_table(db_path) == expected


SCRIPT = textwrap.dedent("""
    import json, sys, threading, time
    from fastcache.backends import MemoryBackend
    from fastcache.patterns import WriteBehind
    from fastcache.sources import SQLSource
    from tests.patterns.helpers import FlakySource, fast_commits

    db, mode, report = sys.argv[1], sys.argv[2], sys.argv[3]
    source = SQLSource.sqlite(db, "kv")
    fast_commits(source)
    flaky = FlakySource(source, fail_rate=0.2, seed=3)
    errors = {}
    def on_error(key, value, exc):
        errors[key] = [value, type(exc).__name__]
    def dump():  # registered before the WriteBehind: atexit runs it after the flush
        if errors:
            with open(report, "w") as f:
                json.dump(errors, f)
    import atexit
    atexit.register(dump)
    wb = WriteBehind(MemoryBackend(maxsize=10_000), flaky, batch_size=200,
                     flush_interval=0.02, max_retries=30, backoff=0.01, max_backoff=0.3,
                     on_error=on_error, exit_timeout=float(sys.argv[4]))
    if mode == "outage":
        threading.Timer(0.3, flaky.down, args=(2.0,)).start()
        for i in range(100_000):
            wb.set(f"key{(i * 7919) % 1000}", i)
    else:  # the source goes away for good before the end
        for i in range(5_000):
            wb.set(f"key{(i * 7919) % 1000}", i)
        flaky.down()
        for i in range(5_000, 10_000):
            wb.set(f"key{(i * 7919) % 1000}", i)
    print("exiting without close", flush=True)
""")


def _run_script(tmp_path: Path, mode: str, exit_timeout: float) -> tuple[float, str, Path]:
    db = tmp_path / "exit.sqlite3"
    report = tmp_path / "errors.json"
    script = tmp_path / "writer.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.monotonic()
    out = subprocess.run([sys.executable, str(script), str(db), mode, str(report),
                          str(exit_timeout)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    assert "exiting without close" in out.stdout
    return elapsed, str(db), report


def test_interpreter_exit_flushes_without_close(tmp_path: Path) -> None:
    _, db, report = _run_script(tmp_path, "outage", exit_timeout=60)
    assert not report.exists()
    expected = {k: str(v) for k, v in _last_values(100_000, 1_000, 1).items()}
    assert read_table(db) == expected


def test_interpreter_exit_is_bounded_when_the_source_is_gone(tmp_path: Path) -> None:
    elapsed, db, report = _run_script(tmp_path, "gone", exit_timeout=1.0)
    assert elapsed < 15  # exit waited about exit_timeout, not forever
    errors = json.loads(report.read_text())
    written = read_table(db)
    expected = _last_values(10_000, 1_000, 1)
    # every key's last value is either in the database or was handed to on_error
    for key, value in expected.items():
        if key in errors:
            assert errors[key][0] == value
        else:
            assert written[key] == str(value)
    assert errors  # the source went away with writes pending: they were reported


# -- asyncio --------------------------------------------------------------------------------


def test_async_write_behind_loses_nothing(source: SQLSource, db_path: str) -> None:
    """The 100,000-write test from asyncio: four writer tasks, 20% failed source writes,
    the source away for 2 s; reads see pending values; close() leaves the last values."""
    flaky = FlakySource(source, fail_rate=0.2, seed=11)
    rec = Recorder()
    n_writes, n_keys = 100_000, 1_000

    async def main() -> float:
        wb = AsyncWriteBehind(AsyncMemoryBackend(maxsize=10_000), AsyncSourceAdapter(flaky),
                              batch_size=200, flush_interval=0.02, max_retries=30,
                              backoff=0.01, max_backoff=0.3, on_error=rec)
        asyncio.get_running_loop().call_later(0.3, flaky.down, 2.0)
        start = time.monotonic()

        async def writer(t: int) -> None:
            for i in range(t, n_writes, 4):
                key = f"key{(i * 7919) % n_keys}"
                await wb.set(key, i)
                if i % 400 == t:
                    assert await wb.get(key) == i  # the pending value, whatever the source
                    await asyncio.sleep(0.011)  # paced: writes go on through the whole outage

        await asyncio.gather(*(writer(t) for t in range(4)))
        writing = time.monotonic() - start
        await wb.flush()
        await wb.delete("key0")
        await wb.close()
        return writing

    writing = asyncio.run(main())
    # writes were still coming after the outage (0.3 s to 2.3 s) ended; failures happened,
    # none was final
    assert writing > 2.4 and flaky.failures > 5 and rec.calls == []
    expected = {k: str(v) for k, v in _last_values(n_writes, n_keys, 4).items()}
    del expected["key0"]
    assert read_table(db_path) == expected


def test_async_end_of_asyncio_run_flushes(source: SQLSource, db_path: str) -> None:
    flaky = FlakySource(source)

    async def main() -> None:
        wb = AsyncWriteBehind(AsyncMemoryBackend(), AsyncSourceAdapter(flaky),
                              flush_interval=5.0, backoff=0.01)
        flaky.down(0.3)
        for i in range(300):
            await wb.set(f"k{i % 30}", i)
        # no close(): asyncio.run cancels the worker, which drains first

    asyncio.run(main())
    assert read_table(db_path) == {f"k{j}": str(270 + j) for j in range(30)}


def test_async_backpressure_and_errors(source: SQLSource) -> None:
    flaky = FlakySource(source)
    flaky.down()
    rec = Recorder()

    async def main() -> None:
        wb = AsyncWriteBehind(AsyncMemoryBackend(), AsyncSourceAdapter(flaky), max_pending=2,
                              batch_size=1, on_full="raise", max_retries=2, backoff=0.01,
                              on_error=rec)
        await wb.set("a", 1)
        while wb.pending:
            await asyncio.sleep(0.001)
        await wb.set("b", 2)
        await wb.set("c", 3)
        with pytest.raises(QueueFullError):
            await wb.set("d", 4)
        await wb.flush(timeout=5)
        with pytest.raises(TimeoutError):
            wb.max_retries = 10_000
            await wb.set("e", 5)
            await wb.flush(timeout=0.1)
        await wb.close(timeout=0.2)

    asyncio.run(main())
    assert sorted((k, v) for k, v, _ in rec.calls) == [("a", 1), ("b", 2), ("c", 3), ("e", 5)]
