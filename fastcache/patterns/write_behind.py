"""Write-behind: the cache is written at once, the source later, in batches.

How it holds its promises:

- **Bounded queue, backpressure.** Pending writes live in an ordered ``dict`` of at most
  ``max_pending`` distinct keys. When it is full a writer blocks (``on_full="block"``,
  optionally at most ``put_timeout`` seconds) or gets :class:`QueueFullError` at once
  (``on_full="raise"``); in both cases nothing was written anywhere.
- **Coalescing.** A key already pending has its value replaced in place: repeated writes
  of one key cost one source write, of the last value.
- **Batches** of up to ``batch_size`` keys are written with ``set_many`` / ``delete_many``
  when that many are pending or ``flush_interval`` seconds after the worker woke up.
- **Order per key.** One worker writes one batch at a time; a key written again while its
  batch is in flight waits in the queue for the next batch; writers of one key are
  serialised (cache write and enqueue happen under that key's lock).
- **Retries.** A failed batch is retried up to ``max_retries`` times after
  ``min(max_backoff, backoff * 2**n)`` seconds scaled by a random factor in [0.5, 1]
  (exponential backoff, "equal jitter"). Keys rewritten meanwhile are dropped from the
  retry: their newer value is queued behind.
- **Nothing silently dropped.** What still cannot be written goes to
  ``on_error(key, value, exc)`` (``value`` is :data:`TOMBSTONE` for a delete); the default
  logs it at ERROR level on the ``fastcache.patterns`` logger. A key given up on (retries
  exhausted) is also evicted from the cache, which must not keep serving a value the
  source never got (``given_up`` counts them).
- **Reads see pending writes**: ``get`` looks in the queue and the batch in flight before
  the cache and the source.
- **flush()** waits until every write made before the call reached the source (or the
  error callback). **close()** flushes and stops the worker; an ``atexit`` hook closes
  instances still open when the interpreter exits normally, bounded by ``exit_timeout``
  seconds, after which what is left goes to ``on_error`` with a ``TimeoutError``.
- **SIGTERM** skips ``atexit``: call :func:`install_signal_handlers` once (or ``close()``
  from the service's shutdown hook), else a SIGTERM loses the queue.
- **Journal** (``journal=path``, ``fsync="always"`` / seconds / ``"never"``, ``codec``):
  every write is appended to a local file (:mod:`fastcache.patterns.journal`) before
  ``set()`` returns and replayed by the next instance opening it, so an acknowledged write
  survives SIGTERM, SIGKILL and, at ``fsync="always"``, a power cut. A write that close()
  or the exit could not deliver in time is reported *and* stays in the journal for the
  next start; a given-up one leaves it. Each write carries a version (wall-clock
  nanoseconds, increasing per instance); a source with ``set_many_versioned({key: (value,
  version)})`` / ``delete_many_versioned({key: version})`` receives them, so that a replay
  does not overwrite a newer value written meanwhile by another instance (a source
  without them cannot compare: the replay wins).

:class:`AsyncWriteBehind` is the same over an ``AsyncBackend`` and an ``AsyncDataSource``
with a worker task; it flushes when its loop cancels the worker (``asyncio.run`` does at
its end), bounded by ``exit_timeout`` too.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import os
import pickle
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any

from .. import _validate
from ..backends import MISSING
from ..exceptions import QueueFullError
from ._common import (
    AsyncCondition,
    Condition,
    check_backend,
    check_positive_int,
    check_source,
    check_ttl,
)
from .journal import Journal

__all__ = [
    "TOMBSTONE",
    "AsyncWriteBehind",
    "PickleCodec",
    "QueueFullError",
    "WriteBehind",
    "install_signal_handlers",
]

log = logging.getLogger("fastcache.patterns")


class _Tombstone:
    __slots__ = ()

    def __repr__(self) -> str:
        return "TOMBSTONE"


#: The value a pending delete carries (what ``on_error`` receives for a failed delete).
TOMBSTONE: Any = _Tombstone()

ErrorCallback = Callable[[str, Any, BaseException], object]


def _log_error(key: str, value: Any, exc: BaseException) -> None:
    log.error("write-behind could not write key %r: %r", key, exc)


def install_signal_handlers(signals: Iterable[int] = (signal.SIGTERM,)) -> None:
    """Make ``signals`` (default SIGTERM: how systemd, Kubernetes and Docker stop a
    service) flush every open write-behind before the process ends.

    SIGTERM's default action kills the process without running ``atexit``, so the exit
    flush never runs and pending writes are lost. The handler installed here first calls
    the handler that was in place (if it is a Python callable: it chains), then raises
    ``SystemExit(128 + signum)`` in the main thread: ``finally`` blocks and ``with``
    statements unwind (no lock stays held), the interpreter exits normally and each
    ``WriteBehind`` closes from ``atexit``, bounded by its ``exit_timeout``; an
    ``asyncio.run`` cancels its tasks and each ``AsyncWriteBehind`` worker drains, bounded
    the same way. The exit status is 128 + signum, as a shell reports a process killed by
    that signal. A signal that is ignored (``SIG_IGN``) is left alone. Call it from the
    main thread (``signal.signal``'s rule), once at start-up; calling it again is a no-op.

    Loss bound: nothing acknowledged is lost if the source takes the pending writes within
    ``exit_timeout``; what is left then goes to ``on_error`` (never silently). The process
    must reach ``atexit``: non-daemon threads that never end keep it from exiting, and the
    supervisor's grace period (Kubernetes: 30 s, Docker: 10 s, systemd: 90 s) must exceed
    ``exit_timeout``. SIGKILL and power loss still lose the queue: use ``journal=``.
    """
    for signum in signals:
        previous = signal.getsignal(signum)
        if previous is signal.SIG_IGN or getattr(previous, "_fastcache_flush", False):
            continue
        signal.signal(signum, _exit_handler(previous))


async def _cond_wait(cond: asyncio.Condition, timeout: float) -> bool:
    """``cond.wait()`` for at most ``timeout`` seconds (False if it timed out), called with
    ``cond`` held. Unlike ``asyncio.wait_for`` before Python 3.12, a cancellation that
    arrives as the wait ends is never swallowed (a worker that lost it would never drain
    when ``asyncio.run`` ends)."""
    waiter = asyncio.ensure_future(cond.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        if not waiter.done():
            waiter.cancel()
            await asyncio.wait({waiter})  # a cancelled wait re-acquires the lock first
    return bool(done)


def _exit(code: int) -> None:
    raise SystemExit(code)


def _exit_handler(previous: Any) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        if callable(previous):
            previous(signum, frame)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise SystemExit(128 + signum) from None
        # raised from the loop itself, not inside whichever task was running (it could be a
        # write-behind worker, which must live to drain the queue when asyncio.run cancels)
        loop.call_soon_threadsafe(_exit, 128 + signum)

    handler._fastcache_flush = True  # type: ignore[attr-defined]
    return handler


class _Entry:
    __slots__ = ("seq", "value", "version")

    def __init__(self, value: Any, seq: int, version: int) -> None:
        self.value = value
        self.seq = seq  # sequence number of the first write not yet in the source
        self.version = version  # the version of ``value`` (see ``_State._next_version``)


class PickleCodec:
    """The journal's default codec: plain pickle. Safe here, and only here, because the
    journal is a local file created ``0600`` that must belong to this process's user (no
    one else can put bytes in it); never use it for bytes from elsewhere."""

    def dumps(self, value: Any) -> bytes:
        """Pickle ``value`` (highest protocol)."""
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        """Unpickle ``data``: the journal's own bytes."""
        return pickle.loads(data)


def versioned_arg(part: Mapping[str, Any], versions: Mapping[str, int], deletes: bool) -> Any:
    if deletes:
        return {k: versions[k] for k in part}
    return {k: (v, versions[k]) for k, v in part.items()}


class _State:
    """The queue, shared by the sync and async classes; every method is called with the
    owner's lock held (or from the event loop's thread)."""

    def __init__(
        self,
        backend: Any,
        source: Any,
        *,
        ttl: float | None = None,
        max_pending: int = 10_000,
        on_full: str = "block",
        put_timeout: float | None = None,
        batch_size: int = 100,
        flush_interval: float = 0.05,
        max_retries: int = 8,
        backoff: float = 0.05,
        max_backoff: float = 2.0,
        on_error: ErrorCallback | None = None,
        exit_timeout: float = 10.0,
        journal: str | os.PathLike[str] | None = None,
        fsync: str | float = "always",
        codec: Any = None,
    ) -> None:
        check_backend(backend)
        check_source(source)
        if on_full not in ("block", "raise"):
            raise ValueError(f"on_full must be 'block' or 'raise', got {on_full!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise TypeError("max_retries must be an int")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        _validate.callable_(on_error, "on_error", optional=True)
        if codec is None:
            codec = PickleCodec()
        if not all(callable(getattr(codec, m, None)) for m in ("dumps", "loads")):
            raise TypeError("codec must have dumps(value) -> bytes and loads(bytes)")
        self.backend = backend
        self.source = source
        self.ttl = check_ttl(ttl)
        self.max_pending = check_positive_int(max_pending, "max_pending")
        self.on_full = on_full
        self.put_timeout = check_ttl(put_timeout, "put_timeout")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.flush_interval = float(check_ttl(flush_interval, "flush_interval") or 0)
        self.max_retries = max_retries
        self.backoff = float(check_ttl(backoff, "backoff") or 0)
        self.max_backoff = float(check_ttl(max_backoff, "max_backoff") or 0)
        self.on_error: ErrorCallback = on_error if on_error is not None else _log_error
        self.exit_timeout = float(check_ttl(exit_timeout, "exit_timeout") or 0)
        self._pending: dict[str, _Entry] = {}
        self._inflight: dict[str, Any] = {}
        self._inflight_seq: int | None = None
        self._inflight_reported = False
        self._seq = 0
        self._reserved = 0
        self._flush_requests = 0
        self._closing = False
        self._closed = False
        self._abort = False
        self.errors = 0  # values handed to on_error
        self.given_up = 0  # keys whose retries ran out (evicted from the cache, reported)
        self._version = 0
        self._inflight_versions: dict[str, int] = {}
        self.codec = codec
        self.journal: Journal | None = None
        if journal is not None:
            self.journal = Journal(journal, fsync=fsync)
            self._replay()

    # -- queue operations (lock held) -------------------------------------------------

    def _check_open(self) -> None:
        if self._closing:
            raise RuntimeError("write-behind cache is closed")

    def _full(self) -> bool:
        return len(self._pending) + self._reserved >= self.max_pending

    def _next_version(self) -> int:
        """A per-process strictly increasing version: wall-clock nanoseconds, so that the
        versions of different instances (other processes, a restart) compare by time."""
        self._version = max(self._version + 1, time.time_ns())
        return self._version

    def _encode(self, value: Any) -> bytes | None:
        """The journal's bytes for ``value`` (called before anything is written, so that a
        value the codec refuses fails ``set()`` cleanly); None without a journal."""
        if self.journal is None or value is TOMBSTONE:
            return None
        data = self.codec.dumps(value)
        if not isinstance(data, bytes):
            raise TypeError(f"codec.dumps must return bytes, not {type(data).__name__}")
        return data

    def _insert(self, key: str, value: Any, data: bytes | None = None) -> int:
        """Queue a write (journaled first); the ticket to pass to :meth:`_durable`."""
        version = self._next_version()
        ticket = 0
        if self.journal is not None:
            ticket = self.journal.append(key, None if value is TOMBSTONE else data, version)
        self._seq += 1
        entry = self._pending.get(key)
        if entry is None:
            self._pending[key] = _Entry(value, self._seq, version)
        else:
            entry.value = value
            entry.version = version
        return ticket

    def _replay(self) -> None:
        """Queue what the journal holds unconfirmed (a previous run's writes)."""
        assert self.journal is not None
        count = 0
        for key, version, data in self.journal.records():
            try:
                value = TOMBSTONE if data is None else self.codec.loads(data)
            except Exception:
                self.journal.close()
                raise
            self._seq += 1
            self._pending[key] = _Entry(value, self._seq, version)
            self._version = max(self._version, version)
            count += 1
        if count:
            log.warning("write-behind journal %r: replaying %d unconfirmed writes",
                        self.journal.path, count)  # fmt: skip

    def _durable(self, ticket: int) -> None:
        """Return once the write of ``ticket`` is as durable as ``fsync`` says."""
        if ticket and self.journal is not None:
            self.journal.wait(ticket)

    async def _adurable(self, ticket: int) -> None:
        """:meth:`_durable` off the event loop (the fsync runs in a thread)."""
        if ticket and self.journal is not None and self.journal.interval == 0.0:
            await asyncio.to_thread(self.journal.wait, ticket)

    def _confirm(self, part: Mapping[str, Any]) -> None:
        """``part`` of the batch in flight reached the source: drop it from the journal."""
        if self.journal is not None:
            versions = self._inflight_versions
            self.journal.confirm({k: versions[k] for k in part if k in versions})

    def _given_up(self, part: dict[str, Any]) -> Iterable[str]:
        """Retries exhausted for ``part`` (keys rewritten meanwhile already removed): drop
        it from the journal; the keys to evict from the cache."""
        self._confirm(part)
        self.given_up += len(part)
        return list(part)

    def _give_up(self, part: dict[str, Any], exc: BaseException) -> None:
        """Evict ``part`` from the cache (it must not keep serving values the source never
        got: the next read loads what the source has) and report it to ``on_error``."""
        for key in self._given_up(part):
            try:
                self.backend.delete(key)
            except Exception:
                log.exception("write-behind could not evict given-up key %r", key)
        self._report(part, exc)

    async def _agive_up(self, part: dict[str, Any], exc: BaseException) -> None:
        """Async twin of :meth:`_give_up`."""
        for key in self._given_up(part):
            try:
                await self.backend.delete(key)
            except Exception:
                log.exception("write-behind could not evict given-up key %r", key)
        self._report(part, exc)

    def _close_journal(self) -> None:
        if self.journal is not None:
            self.journal.close()

    def _peek(self, key: str) -> Any:
        """The pending or in-flight value of ``key``, else MISSING (safe without the lock:
        a batch is published in ``_inflight`` before it leaves ``_pending``)."""
        entry = self._pending.get(key)
        if entry is not None:
            return entry.value
        return self._inflight.get(key, MISSING)

    def _want_batch_now(self) -> bool:
        return (
            len(self._pending) >= self.batch_size
            or self._flush_requests > 0
            or self._closing
            or self._full()
        )

    def _take_batch(self) -> dict[str, Any]:
        keys = list(itertools.islice(self._pending, self.batch_size))
        batch = {k: self._pending[k].value for k in keys}
        self._inflight_versions = {k: self._pending[k].version for k in keys}
        self._inflight_seq = self._pending[keys[0]].seq
        self._inflight_reported = False
        self._inflight = batch
        for k in keys:
            del self._pending[k]
        return batch

    def _batch_done(self) -> None:
        self._inflight = {}
        self._inflight_seq = None

    def _forget_inflight(self, part: dict[str, Any]) -> None:
        """``part`` goes to the error callback: whoever reports the rest of the batch
        (``close`` on a timeout) must not report it again."""
        for k in part:
            self._inflight.pop(k, None)

    def _done_through(self, target: int) -> bool:
        if self._pending and next(iter(self._pending.values())).seq <= target:
            return False
        return self._inflight_seq is None or self._inflight_seq > target

    def _superseded(self, part: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in part.items() if k not in self._pending}

    def _delay(self, attempt: int) -> float:
        base: float = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    def _report(self, items: dict[str, Any], exc: BaseException) -> None:
        for key, value in items.items():
            self.errors += 1
            try:
                self.on_error(key, value, exc)
            except Exception:
                log.exception("write-behind on_error callback failed for key %r", key)

    def _drain_pending(self) -> dict[str, Any]:
        left = {k: e.value for k, e in self._pending.items()}
        self._pending.clear()
        return left

    @property
    def pending(self) -> int:
        """How many keys wait to be written (not counting the batch in flight)."""
        return len(self._pending)

    @staticmethod
    def _split(batch: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        sets = {k: v for k, v in batch.items() if v is not TOMBSTONE}
        dels = {k: v for k, v in batch.items() if v is TOMBSTONE}
        return sets, dels


class WorkerShell(_State):
    """What only the threaded face does: a worker thread, ``close`` joining it (bounded),
    an ``atexit`` hook.  The rest of :class:`WriteBehind` is generated from
    ``_async_write_behind.py``."""

    _cond: Condition

    def _start(self) -> None:
        self._abort_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fastcache-write-behind",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        atexit.register(self._close_at_exit)

    def _run(self) -> None:
        raise NotImplementedError  # the worker loop of the generated class

    def _in_worker(self) -> bool:
        return threading.current_thread() is self._thread

    def _pause(self, seconds: float) -> None:
        """Sleep between retries; ``close`` on a timeout wakes it at once."""
        self._abort_event.wait(seconds)

    def close(self, timeout: float | None = None) -> None:
        """Flush, stop the worker and refuse further writes. If ``timeout`` seconds pass
        first, what is still unwritten goes to ``on_error`` with a ``TimeoutError``."""
        cond = self._cond
        with cond.lock:
            if self._closed:
                return
            self._closing = True
            cond.notify_all()
        atexit.unregister(self._close_at_exit)
        self._thread.join(timeout)
        if self._thread.is_alive():
            exc = TimeoutError(f"write-behind close timed out after {timeout} s")
            with cond.lock:
                self._abort = True
                left = self._drain_pending()
                cond.notify_all()
            self._abort_event.set()
            self._report(left, exc)
            self._thread.join(1.0)
            with cond.lock:
                stuck = {} if self._inflight_reported else dict(self._inflight)
                self._inflight_reported = True
            self._report(stuck, exc)  # the worker is stuck inside a source call
        with cond.lock:
            self._closed = True
        self._close_journal()

    def _close_at_exit(self) -> None:
        self.close(self.exit_timeout)


class AsyncWorkerShell(_State):
    """What only the asyncio face does: a worker task on the running loop, ``close``
    waiting for it (bounded), and, when the loop cancels the worker (``asyncio.run`` does
    at its end), writing what is pending first, for at most ``exit_timeout`` seconds."""

    _cond: AsyncCondition

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run_guarded())

    async def _run(self) -> None:
        raise NotImplementedError  # the worker loop of the generated class

    async def _write_batch(self, batch: dict[str, Any]) -> None:
        raise NotImplementedError

    def _in_worker(self) -> bool:
        return asyncio.current_task() is self._task

    async def _pause(self, seconds: float) -> None:
        """Sleep between retries (``close`` on a timeout cancels the worker)."""
        await asyncio.sleep(seconds)

    async def close(self, timeout: float | None = None) -> None:
        """Flush, stop the worker and refuse further writes; after ``timeout`` seconds
        what is left goes to ``on_error`` with a ``TimeoutError``."""
        if self._closed:
            return
        cond = self._cond
        async with cond.lock:
            self._closing = True
            cond.notify_all()
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if not done:
            self._abort = True
            self._task.cancel()
            await asyncio.wait({self._task})
        self._closed = True
        self._close_journal()

    async def _run_guarded(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            # the loop is shutting down (or close() timed out): write what we can, bounded
            self._closing = True
            exc = TimeoutError("write-behind stopped before this write reached the source")
            if not self._abort:
                try:
                    await asyncio.wait_for(self._drain(), self.exit_timeout)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    pass
            self._report(self._drain_pending(), exc)
            if self._inflight and not self._inflight_reported:
                self._inflight_reported = True
                self._report(dict(self._inflight), exc)
            self._close_journal()
            raise

    async def _drain(self) -> None:
        if self._inflight:  # the batch the cancellation interrupted, before newer values
            await self._write_batch(dict(self._inflight))
            self._batch_done()
        while self._pending:
            await self._write_batch(self._take_batch())
            self._batch_done()


# The two classes, written once for asyncio (the threaded face generated by
# tools/unasync.py), stand on the shells above.
from ._async_write_behind import AsyncWriteBehind  # noqa: E402
from ._sync_write_behind import WriteBehind  # noqa: E402
