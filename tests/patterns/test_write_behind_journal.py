"""The write-behind journal: acknowledged writes survive SIGTERM and SIGKILL (real processes
writing to sqlite3, killed mid-run), torn records, the lock, replay against newer values,
compaction; without a journal, the opt-in SIGTERM handler; given-up keys are evicted."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from fastcache.backends import MISSING, AsyncMemoryBackend, MemoryBackend
from fastcache.patterns import (
    AsyncWriteBehind,
    Journal,
    JournalError,
    JournalLockedError,
    WriteBehind,
)
from fastcache.patterns.journal import MAGIC
from fastcache.sources import AsyncSourceAdapter, SQLSource

from .helpers import FlakySource, read_table
from .journal_child import VersionedSQLSource
from .test_write_behind import Recorder, wait_until

ROOT = Path(__file__).resolve().parents[2]
ACKS_BEFORE_KILL = 300


class Child:
    """``journal_child`` in a subprocess; ``acks`` are the numbers of the writes whose
    ``set()`` returned."""

    def __init__(self, db: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.patterns.journal_child", str(db), *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.acks: list[int] = []

    def wait_acks(self, count: int) -> None:
        """Block until ``count`` writes were acknowledged (read from the pipe: no sleeps)."""
        assert self.proc.stdout is not None
        while len(self.acks) < count:
            line = self.proc.stdout.readline()
            assert line, f"child ended early: {self.proc.communicate()[1]}"
            self.acks.append(int(line))

    def kill(self, signum: int) -> tuple[int, str]:
        """Send ``signum``; read every acknowledgement printed before the process died."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.send_signal(signum)
        # through the same buffered reader as wait_acks (communicate() reads the raw pipe and
        # would skip the lines readline() had already buffered: acknowledged writes unseen)
        with self.proc.stdout, self.proc.stderr:
            out = self.proc.stdout.read()
            err = self.proc.stderr.read()
        self.proc.wait(120)
        self.acks.extend(int(x) for x in out.split())
        return self.proc.returncode, err


def last_acked(acks: list[int], keys: int = 50) -> dict[str, int]:
    last: dict[str, int] = {}
    for i in acks:
        last[f"k{i % keys}"] = max(i, last.get(f"k{i % keys}", -1))
    return last


def lost(db: Path, acks: list[int]) -> list[str]:
    """Keys whose last acknowledged value (or a later one) is not in the database."""
    table = read_table(str(db)) if db.exists() else {}
    return [k for k, v in last_acked(acks).items() if k not in table or int(table[k]) < v]


def unconfirmed(journal: Path) -> int:
    j = Journal(journal)
    try:
        return j.unconfirmed
    finally:
        j.close()


def replay(db: Path, journal: Path, *args: str) -> None:
    """The next start: a new process opens the journal, replays, closes."""
    child = Child(db, "--journal", str(journal), "--replay", *args)
    _, err = child.proc.communicate(timeout=120)
    assert child.proc.returncode == 0, err


SHELLS = [pytest.param((), id="sync"), pytest.param(("--async",), id="async")]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_killed_mid_run_loses_no_acknowledged_write(
    tmp_path: Path, signum: int, shell: tuple[str, ...]
) -> None:
    db, journal = tmp_path / "db.sqlite3", tmp_path / "wb.journal"
    child = Child(db, "--journal", str(journal), "--fsync", "always", *shell)
    child.wait_acks(ACKS_BEFORE_KILL)
    code, _ = child.kill(signum)
    assert code == -signum  # died by the signal: no exit flush ran
    assert unconfirmed(journal) > 0  # the killed run left writes for the next start
    replay(db, journal, *shell)
    assert lost(db, child.acks) == []
    assert unconfirmed(journal) == 0


def test_fsync_never_survives_sigkill(tmp_path: Path) -> None:
    """The page cache outlives the process: fsync="never" loses nothing on SIGKILL."""
    db, journal = tmp_path / "db.sqlite3", tmp_path / "wb.journal"
    child = Child(db, "--journal", str(journal), "--fsync", "never")
    child.wait_acks(ACKS_BEFORE_KILL)
    child.kill(signal.SIGKILL)
    replay(db, journal)
    assert lost(db, child.acks) == []


@pytest.mark.parametrize("shell", SHELLS)
def test_sigterm_handler_without_journal_loses_nothing(
    tmp_path: Path, shell: tuple[str, ...]
) -> None:
    db = tmp_path / "db.sqlite3"
    child = Child(db, "--handler", *shell)
    child.wait_acks(ACKS_BEFORE_KILL)
    code, err = child.kill(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, err
    assert lost(db, child.acks) == []


def test_second_process_gets_a_clear_error(tmp_path: Path, source: SQLSource) -> None:
    db, journal = tmp_path / "db.sqlite3", tmp_path / "wb.journal"
    child = Child(db, "--journal", str(journal))
    child.wait_acks(1)
    try:
        with pytest.raises(JournalLockedError, match="in use by another"):
            WriteBehind(MemoryBackend(), source, journal=journal)
    finally:
        child.kill(signal.SIGKILL)


def test_same_process_gets_a_clear_error(tmp_path: Path, source: SQLSource) -> None:
    journal = tmp_path / "wb.journal"
    with WriteBehind(MemoryBackend(), source, journal=journal):
        with pytest.raises(JournalLockedError):
            WriteBehind(MemoryBackend(), source, journal=journal)
    WriteBehind(MemoryBackend(), source, journal=journal).close()  # released on close


def test_replay_does_not_overwrite_a_newer_value(tmp_path: Path) -> None:
    db, journal = tmp_path / "db.sqlite3", tmp_path / "wb.journal"
    # instance A journals k0..k49 while its source is away, then is killed
    child = Child(db, "--journal", str(journal), "--source", "down")
    child.wait_acks(100)
    child.kill(signal.SIGKILL)
    # instance B writes k0 later; its write reaches the database
    source = VersionedSQLSource(str(db))
    with WriteBehind(MemoryBackend(), source) as wb:
        wb.set("k0", "newer")
    # A restarts and replays its older writes: k0 keeps B's value, the others are A's
    replay(db, journal, "--source", "versioned")
    table = dict(source.conn.execute("SELECT key, value FROM vkv").fetchall())
    source.close()
    expected = {k: str(v) for k, v in last_acked(child.acks).items()}
    # the write after the last acknowledged one may be journaled when SIGKILL lands before its
    # set() returns: replaying it is not a newer value lost, nor an acknowledged one
    in_flight = max(child.acks) + 1
    if table.get(f"k{in_flight % 50}") == str(in_flight):
        expected[f"k{in_flight % 50}"] = str(in_flight)
    expected["k0"] = "newer"
    assert table == expected, (sorted(child.acks)[-5:], len(child.acks))


def test_torn_last_record_is_dropped_with_a_warning(
    tmp_path: Path, source: SQLSource, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "wb.journal"
    j = Journal(journal)
    for i in range(3):
        j.append(f"k{i}", b"\x80\x04K" + bytes([i]) + b".", i + 1)  # pickle of int i
    j.close()
    size = journal.stat().st_size
    os.truncate(journal, size - 3)  # the last record cut mid-way, as a crash leaves it
    with caplog.at_level(logging.WARNING, "fastcache.patterns"):
        wb = WriteBehind(MemoryBackend(), source, journal=journal)
    assert "torn or corrupt record" in caplog.text
    assert wb.get("k0") == 0 and wb.get("k1") == 1 and wb.get("k2") is None
    wb.close()
    assert source.get("k1") == 1 and source.get("k2") is MISSING


def test_corrupt_record_stops_the_replay(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal = tmp_path / "wb.journal"
    j = Journal(journal)
    for i in range(3):
        j.append(f"k{i}", b"x" * 10, i + 1)
    j.close()
    data = bytearray(journal.read_bytes())
    data[-5] ^= 0xFF  # a flipped bit in the last record: its checksum fails
    journal.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, "fastcache.patterns"):
        j = Journal(journal)
    assert [k for k, _, _ in j.records()] == ["k0", "k1"]
    j.close()
    assert "torn or corrupt" in caplog.text


def test_not_a_journal_and_permissions(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_bytes(b"hello, world")
    with pytest.raises(JournalError, match="not a fastcache"):
        Journal(other)
    journal = tmp_path / "wb.journal"
    Journal(journal).close()
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    os.chmod(journal, 0o644)
    Journal(journal).close()
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        Journal(journal, fsync=-1)
    with pytest.raises(TypeError):
        Journal(journal, fsync="sometimes")


def test_bad_value_fails_set_cleanly(tmp_path: Path, source: SQLSource) -> None:
    mem = MemoryBackend()
    with WriteBehind(mem, source, journal=tmp_path / "wb.journal") as wb:
        with pytest.raises(TypeError, match="pickle"):
            wb.set("k", threading.Lock())  # cannot be pickled
        assert mem.get("k") is MISSING and wb.pending == 0


@pytest.mark.parametrize("fsync", ["always", "never", 0.01])
def test_journal_is_compacted_as_writes_are_confirmed(
    tmp_path: Path, source: SQLSource, fsync: Any
) -> None:
    journal = tmp_path / "wb.journal"
    with WriteBehind(MemoryBackend(), source, journal=journal, fsync=fsync,
                     batch_size=500) as wb:  # fmt: skip
        for i in range(1000):
            wb.set(f"k{i % 300}", "v" * 150 + str(i))
        wb.flush()
        assert wb.journal is not None
        assert wb.journal.unconfirmed == 0
        # ~200 kB were appended: emptied whenever nothing is unconfirmed past 64 kB
        wait_until(lambda: journal.stat().st_size < 64 * 1024, timeout=30)
    assert journal.stat().st_size == len(MAGIC)  # emptied at close: nothing to replay
    assert source.get("k5") == "v" * 150 + "905"


def test_compaction_keeps_unconfirmed_records(tmp_path: Path) -> None:
    journal = tmp_path / "wb.journal"
    j = Journal(journal, fsync="never")
    j.append("stuck", b"s", 1)
    for i in range(12_000):
        j.wait(j.append(f"k{i % 10}", b"x" * 100, i + 2))
    j.confirm({f"k{i}": 1 << 62 for i in range(10)})
    assert j.unconfirmed == 1
    wait_until(lambda: j.size < 1.1 * 2**20, timeout=30)  # 1.4 MB were appended
    j.close()
    j = Journal(journal)
    assert list(j.records()) == [("stuck", 1, b"s")]
    j.close()


def test_given_up_key_is_evicted_and_reported(source: SQLSource) -> None:
    source.set("k", "in the database")
    flaky = FlakySource(source)
    mem = MemoryBackend()
    rec = Recorder()
    wb = WriteBehind(mem, flaky, max_retries=1, backoff=0.01, max_backoff=0.01, on_error=rec)
    flaky.down()
    wb.set("k", "never stored")
    wb.set("gone", "never stored")
    wb.flush(timeout=30)
    assert sorted(k for k, _, _ in rec.calls) == ["gone", "k"] and wb.given_up == 2
    assert mem.get("k") is MISSING and mem.get("gone") is MISSING  # evicted
    flaky.up()
    assert wb.get("k") == "in the database" and wb.get("gone") is None
    wb.close()


def test_async_given_up_key_is_evicted_and_reported(source: SQLSource) -> None:
    source.set("k", "in the database")
    flaky = FlakySource(source)
    rec = Recorder()

    async def main() -> None:
        mem = AsyncMemoryBackend()
        wb = AsyncWriteBehind(mem, AsyncSourceAdapter(flaky), max_retries=1, backoff=0.01,
                              max_backoff=0.01, on_error=rec)  # fmt: skip
        flaky.down()
        await wb.set("k", "never stored")
        await wb.flush(timeout=30)
        assert [k for k, _, _ in rec.calls] == ["k"] and wb.given_up == 1
        assert await mem.get("k") is MISSING
        flaky.up()
        assert await wb.get("k") == "in the database"
        await wb.close()

    asyncio.run(main())


def test_async_journal_in_process(tmp_path: Path, source: SQLSource) -> None:
    """An async instance journals (the fsync off the loop) and a sync one replays."""
    journal = tmp_path / "wb.journal"
    flaky = FlakySource(source)
    flaky.down()

    async def main() -> None:
        wb = AsyncWriteBehind(AsyncMemoryBackend(), AsyncSourceAdapter(flaky),
                              journal=journal, max_retries=10_000, backoff=0.01,
                              max_backoff=0.02, exit_timeout=0.2)  # fmt: skip
        await asyncio.gather(*(wb.set(f"k{i}", i) for i in range(20)))
        await wb.delete("k3")
        await wb.close(timeout=0.2)  # the source is away: the writes stay in the journal

    asyncio.run(main())
    flaky.up()
    with WriteBehind(MemoryBackend(), source, journal=journal) as wb:
        assert wb.get("k5") == 5
    assert source.get("k19") == 19 and source.get("k3") is MISSING


def test_group_commit_never_returns_before_its_record_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8 threads append and wait: each wait returns only once an fdatasync that started
    after its record was written has completed (one fsync covers many records)."""
    j = Journal(tmp_path / "wb.journal", fsync="always")
    real = os.fdatasync
    completed: list[int] = [0]

    def fdatasync(fd: int) -> None:
        covered = j._appended  # every record counted here was written before the sync
        real(fd)
        completed.append(covered)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    failures: list[int] = []

    def writer(t: int) -> None:
        for i in range(100):
            ticket = j.append(f"t{t}-{i}", b"v", t * 1000 + i + 1)
            j.wait(ticket)
            if max(completed) < ticket:
                failures.append(ticket)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert j.records_synced == 800 and j.fsyncs == len(completed) - 1
    j.close()


def test_interval_fsync_syncs_in_the_background(tmp_path: Path) -> None:
    j = Journal(tmp_path / "wb.journal", fsync=0.01)
    ticket = j.append("k", b"v", 1)
    j.wait(ticket)  # returns at once: the background thread syncs
    wait_until(lambda: j.records_synced >= 1, timeout=30)
    j.close()


def test_rewrites_while_the_source_is_away_are_compacted(tmp_path: Path) -> None:
    """Nothing is confirmed, but a few keys rewritten many times: the file stays small."""
    j = Journal(tmp_path / "wb.journal", fsync="never")
    for i in range(20_000):
        j.append(f"k{i % 10}", b"x" * 100, i + 1)
    wait_until(lambda: j.size < 1.1 * 2**20, timeout=30)  # 2.5 MB were appended
    j.close()
    j = Journal(tmp_path / "wb.journal")
    assert sorted(v for _, v, _ in j.records()) == list(range(19_991, 20_001))
    j.close()
