"""Write-behind, asyncio face (the source of the threaded face; the queue they share,
``_State``, the face-specific worker shells and the description of the pattern are in
``fastcache/patterns/write_behind.py``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ..backends import MISSING
from ..sources import async_source_delete_many, async_source_set_many
from ._async_readwrite import AsyncReadThrough
from ._common import AsyncCondition, AsyncWriteLocks, check_key
from .write_behind import TOMBSTONE, AsyncWorkerShell, QueueFullError, versioned_arg

__all__ = ["AsyncWriteBehind"]

log = logging.getLogger("fastcache.patterns")


async def async_source_write(
    source: Any, part: Mapping[str, Any], versions: Mapping[str, int]
) -> None:
    """Write one part of a batch (all sets or all deletes) to the source, with each key's
    version when the source takes them (``set_many_versioned`` / ``delete_many_versioned``:
    a journal's replay then cannot overwrite a newer value)."""
    deletes = next(iter(part.values())) is TOMBSTONE
    versioned = getattr(source, "delete_many_versioned" if deletes else "set_many_versioned",
                        None)  # fmt: skip
    if versioned is not None:
        await versioned(versioned_arg(part, versions, deletes))
    elif deletes:
        await async_source_delete_many(source, part)
    else:
        await async_source_set_many(source, part)


class AsyncWriteBehind(AsyncWorkerShell):
    """Write-behind over a backend and a data source (see the module docstring); the
    ``Async`` class takes an ``AsyncBackend`` and an ``AsyncDataSource`` and must be
    created inside the running loop (its worker is a task there).

    ``get(key, default)`` / ``set(key, value)`` / ``delete(key)`` / ``flush(timeout)`` /
    ``close(timeout)``; also a context manager. Keyword options (defaults): ``ttl`` of
    cache entries (None), ``negative_ttl`` as in ``CacheAside`` (None), ``max_pending``
    (10,000 keys), ``on_full`` ("block" or "raise"), ``put_timeout`` (None: block as long
    as needed), ``batch_size`` (100), ``flush_interval`` (0.05 s), ``max_retries`` (8),
    ``backoff`` (0.05 s) and ``max_backoff`` (2 s), ``on_error(key, value, exc)`` (logs),
    ``exit_timeout`` (10 s), ``journal`` (None: no journal), ``fsync`` ("always"),
    ``codec`` (pickle, for the journal only).
    """

    def __init__(
        self, backend: Any, source: Any, *, negative_ttl: float | None = None, **options: Any
    ) -> None:
        super().__init__(backend, source, **options)
        self._reader = AsyncReadThrough(
            backend, source.get, ttl=self.ttl, negative_ttl=negative_ttl
        )
        self._cond = AsyncCondition()
        self._key_locks = AsyncWriteLocks(64)
        self._start()

    # -- the public API ---------------------------------------------------------------

    async def get(self, key: str, default: Any = None) -> Any:
        """The latest written value (pending writes included), else the cache, else the
        source (filling the cache), else ``default``."""
        value = self._peek(check_key(key))
        if value is MISSING:
            return await self._reader.get(key, default)
        return default if value is TOMBSTONE else value

    async def set(self, key: str, value: Any) -> None:
        """Write ``value`` to the cache now and queue it for the source."""
        await self._write(check_key(key), value)

    async def delete(self, key: str) -> None:
        """Delete ``key`` from the cache now and queue the delete for the source."""
        await self._write(check_key(key), TOMBSTONE)

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every write made before this call reached the source or the error
        callback; ``TimeoutError`` if that takes longer than ``timeout`` seconds."""
        if self._in_worker():
            raise RuntimeError("flush() called from the write-behind worker (on_error?)")
        async with self._cond.lock:
            target = self._seq
            self._flush_requests += 1
            self._cond.notify_all()
            try:
                done = await self._cond.wait_for(lambda: self._done_through(target), timeout)
            finally:
                self._flush_requests -= 1
        if not done:
            raise TimeoutError(f"write-behind flush did not finish in {timeout} s")

    async def __aenter__(self) -> AsyncWriteBehind:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- internals --------------------------------------------------------------------

    async def _write(self, key: str, value: Any) -> None:
        data = self._encode(value)
        ticket = 0
        async with self._key_locks.hold(key):
            async with self._cond.lock:
                self._check_open()
                reserved = key not in self._pending
                if reserved:
                    await self._wait_room()
                    self._reserved += 1
            try:
                async with self._reader._gens.lock(key):  # no reader fill slips in between
                    self._reader._gens.bump(key)
                    if value is TOMBSTONE:
                        await self.backend.delete(key)
                    else:
                        await self.backend.set(key, value, ttl=self.ttl)
            except BaseException:
                async with self._cond.lock:
                    if reserved:
                        self._reserved -= 1
                    self._cond.notify_all()
                raise
            async with self._cond.lock:  # the reservation becomes the queued write
                if reserved:
                    self._reserved -= 1
                aborted = self._abort
                if not aborted:
                    ticket = self._insert(key, value, data)
                self._cond.notify_all()
            if aborted:  # close() timed out while this write was on its way in
                self._report({key: value}, TimeoutError("write-behind closed meanwhile"))
        await self._adurable(ticket)

    async def _wait_room(self) -> None:
        if not self._full():
            return
        if self.on_full == "raise":
            raise QueueFullError(f"write-behind queue full ({self.max_pending} keys)")
        ok = await self._cond.wait_for(lambda: self._closing or not self._full(),
                                       self.put_timeout)
        self._check_open()
        if not ok:
            raise QueueFullError(f"write-behind queue still full after {self.put_timeout} s")

    async def _run(self) -> None:
        while True:
            batch: dict[str, Any] | None = None
            async with self._cond.lock:
                await self._cond.wait_for(lambda: bool(self._pending) or self._closing)
                if not self._pending:
                    if self._reserved == 0:
                        return
                else:
                    deadline = time.monotonic() + self.flush_interval
                    while not self._want_batch_now():
                        wait = deadline - time.monotonic()
                        if wait <= 0:
                            break
                        await self._cond.wait(wait)
                    if not self._abort and self._pending:
                        batch = self._take_batch()
                        self._cond.notify_all()
            if batch is None:
                if not self._pending and self._reserved:
                    await self._pause(0.01)  # closing; a writer with a reservation inserts
                continue
            try:
                await self._write_batch(batch)
            # unasync: except BaseException as exc:  # a bug or a signal: still report, keep working
            except Exception as exc:  # a bug: still report, keep working
                log.exception("write-behind worker error")
                async with self._cond.lock:
                    unreported = {} if self._inflight_reported else dict(self._inflight)
                    self._inflight_reported = True
                self._report(unreported, exc)
            async with self._cond.lock:
                self._batch_done()
                self._cond.notify_all()

    async def _write_batch(self, batch: dict[str, Any]) -> None:
        for part in self._split(batch):
            await self._write_part(part)

    async def _write_part(self, part: dict[str, Any]) -> None:
        attempt = 0
        while part:
            try:
                await async_source_write(self.source, part, self._inflight_versions)
                self._confirm(part)
                return
            except Exception as exc:
                attempt += 1
                async with self._cond.lock:
                    part = self._superseded(part)
                    give_up = self._abort or attempt > self.max_retries
                    if give_up:
                        if self._inflight_reported:  # close() reported it already
                            return
                        self._forget_inflight(part)
                if give_up:
                    await self._agive_up(part, exc)
                    return
                await self._pause(self._delay(attempt))
