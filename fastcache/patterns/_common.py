"""Pieces shared by the patterns: single-flight loading, write generations, locks, the
"not found" marker of negative caching, argument checks.  The few pieces whose threaded
and asyncio forms differ in kind (a thread waiting on an event vs a task awaiting a future)
are written as pairs here, ``X`` and ``AsyncX``, so the pattern classes built on them can be
written once (``_async_*.py``, from which ``tools/unasync.py`` writes the sync face)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from .. import _validate
from ..backends import MISSING, check_key

__all__ = [
    "NOT_FOUND",
    "AsyncBridge",
    "AsyncCondition",
    "AsyncGenerations",
    "AsyncSingleFlight",
    "AsyncWriteLocks",
    "Bridge",
    "Condition",
    "Generations",
    "KeyLocks",
    "ReadBase",
    "SingleFlight",
    "WriteLocks",
    "check_backend",
    "check_key",
    "check_positive_int",
    "check_source",
    "check_ttl",
    "is_not_found",
]

T = TypeVar("T")

#: What negative caching stores in a backend for "the source has no such key". A plain
#: ``str`` so that every serialiser (JSON, msgpack, pickle) carries it unchanged; the NULs
#: make a collision with real data implausible.
NOT_FOUND = "\x00fastcache:not-found\x00"


def is_not_found(value: object) -> bool:
    """True when ``value`` is the negative-caching marker."""
    return value.__class__ is str and value == NOT_FOUND


def check_ttl(ttl: float | None, name: str = "ttl", *, allow_none: bool = True) -> float | None:
    """Validate a TTL in seconds: ``None`` (when allowed) or a real number > 0."""
    return _validate.ttl(ttl, name, optional=allow_none)


def check_positive_int(value: int, name: str) -> int:
    """Validate an ``int`` >= 1 (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return value


def check_backend(backend: object, name: str = "backend") -> None:
    """Refuse something without the backend methods the patterns call."""
    for method in ("get", "set", "add", "delete"):
        if not callable(getattr(backend, method, None)):
            raise TypeError(f"{name} must implement the Backend protocol (no {method}())")


def check_source(source: object, name: str = "source") -> None:
    """Refuse something without the data-source methods."""
    for method in ("get", "set", "delete"):
        if not callable(getattr(source, method, None)):
            raise TypeError(f"{name} must implement the DataSource protocol (no {method}())")


class _Counts:
    """Per-key write counters, striped over a fixed table (memory does not grow with keys).

    A loader reads the counter of its key before reading the source and fills the cache
    only if it has not moved since: a write (or an invalidation) that happened in between
    would otherwise be overwritten by the older value it raced with. Two keys sharing a
    stripe only cost a skipped fill, never a stale one.
    """

    __slots__ = ("_counts", "_mask")

    def __init__(self, stripes: int = 1024) -> None:
        self._mask = stripes - 1
        self._counts = [0] * stripes

    def read(self, key: str) -> int:
        """The current counter of ``key``'s stripe."""
        return self._counts[hash(key) & self._mask]

    def bump(self, key: str) -> None:
        """Record a write of ``key`` (a lost concurrent increment still moves the counter)."""
        self._counts[hash(key) & self._mask] += 1

    def bump_all(self) -> None:
        """Record a write of every key (after a clear)."""
        for i in range(len(self._counts)):
            self._counts[i] += 1


class Generations(_Counts):
    """Write counters (see ``_Counts``) and, for threads, the lock of each key's stripe."""

    __slots__ = ("_locks",)

    def __init__(self, stripes: int = 1024) -> None:
        super().__init__(stripes)
        self._locks = [threading.Lock() for _ in range(64)]

    def lock(self, key: str) -> threading.Lock:
        """The lock that a fill (check then store) and an invalidation (bump then delete)
        of ``key`` hold, so that no invalidation slips between a fill's check and store."""
        return self._locks[hash(key) & 63]


class AsyncGenerations(_Counts):
    """:class:`Generations` for asyncio: ``async with gens.lock(key)``."""

    __slots__ = ("_keylocks",)

    def __init__(self, stripes: int = 1024) -> None:
        super().__init__(stripes)
        self._keylocks = KeyLocks()

    def lock(self, key: str) -> _Held:
        """The asyncio lock of ``key`` (see :meth:`Generations.lock`)."""
        return self._keylocks.hold(key)


class WriteLocks:
    """Serialises the writes of one key across threads: ``stripes`` locks, a key's write
    holds the lock of its stripe (``with locks.hold(key): ...``)."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(check_positive_int(stripes, "stripes"))]

    def hold(self, key: str) -> threading.Lock:
        """The lock of ``key``'s stripe."""
        return self._locks[hash(key) % len(self._locks)]

    def __len__(self) -> int:
        return len(self._locks)


class AsyncWriteLocks:
    """:class:`WriteLocks` for the tasks of one event loop: an ``asyncio.Lock`` per stripe
    in use, created on demand and dropped when nobody holds or waits for it
    (``async with locks.hold(key): ...``); ``len()`` is the number in use."""

    def __init__(self, stripes: int = 64) -> None:
        self._stripes = check_positive_int(stripes, "stripes")
        self._table = KeyLocks()

    def hold(self, key: str) -> _Held:
        """An async context manager holding the lock of ``key``'s stripe."""
        return self._table.hold(str(hash(key) % self._stripes))

    def __len__(self) -> int:
        return len(self._table)


class Condition:
    """A condition variable for threads: hold ``cond.lock`` (``with cond.lock:``), then
    ``notify_all()``, ``wait(timeout)``, ``wait_for(predicate, timeout)`` (False: timed
    out).  ``lock`` is a plain ``threading.Lock``, entered by the ``with`` statement in C:
    a signal handler that raises (``SystemExit`` on SIGTERM) cannot run between taking it
    and entering the block, so it is always released."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._cond = threading.Condition(self.lock)

    def notify_all(self) -> None:
        """Wake every waiter (the lock held)."""
        self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Release the lock until notified or ``timeout`` seconds pass (False)."""
        return self._cond.wait(timeout)

    def wait_for(self, predicate: Callable[[], object], timeout: float | None = None) -> bool:
        """Wait (lock released) until ``predicate()`` is true; False if ``timeout`` passed."""
        return bool(self._cond.wait_for(predicate, timeout))


class AsyncCondition:
    """:class:`Condition` for the tasks of one event loop (``async with cond.lock:``, the
    waits are coroutines).  Its own waiters and ``loop.call_later`` timeouts rather than
    ``asyncio.wait_for`` around ``asyncio.Condition.wait``: on CPython 3.11 that
    ``wait_for`` returns normally when the wait completes as the task is cancelled, and a
    worker whose cancellation is lost never stops."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._waiters: list[asyncio.Future[bool]] = []

    def notify_all(self) -> None:
        """Wake every waiter (the lock held)."""
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(True)

    async def wait(self, timeout: float | None = None) -> bool:
        """Release the lock until notified or ``timeout`` seconds pass (False); the lock is
        held again on return, also when cancelled."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(fut)
        timer = None if timeout is None else loop.call_later(timeout, _time_out, fut)
        self.lock.release()
        try:
            return await fut
        finally:
            if timer is not None:
                timer.cancel()
            self._waiters.remove(fut)
            cancelled = False
            while True:
                try:
                    await self.lock.acquire()
                    break
                except asyncio.CancelledError:
                    cancelled = True
            if cancelled:
                raise asyncio.CancelledError

    async def wait_for(self, predicate: Callable[[], object],
                       timeout: float | None = None) -> bool:
        """Wait (lock released) until ``predicate()`` is true; False if ``timeout`` passed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            if deadline is None:
                await self.wait()
                continue
            left = deadline - loop.time()
            if left <= 0:
                return False
            await self.wait(left)
        return True


def _time_out(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(False)


class Bridge:
    """What the threaded face does where the asyncio one crosses between its loop and a
    thread (see :class:`AsyncBridge`): here everything runs in the calling thread."""

    def call_from_thread(self, fn: Callable[[Any], None], arg: Any) -> None:
        """``fn(arg)``, now."""
        fn(arg)

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, now."""
        return fn(*args)

    def drain(self) -> None:
        """Nothing is ever pending."""


class AsyncBridge:
    """Crossing between the running event loop (captured at creation) and threads:
    ``call_from_thread(coro_fn, arg)`` schedules ``coro_fn(arg)`` on the loop from another
    thread; ``await run_sync(fn, *args)`` runs a blocking call in a worker thread;
    ``await drain()`` waits for what was scheduled."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()

    def call_from_thread(self, fn: Callable[[Any], Coroutine[Any, Any, None]],
                         arg: Any) -> None:
        """Schedule ``fn(arg)`` on the loop (dropped once the loop is closed)."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._spawn, fn, arg)

    def _spawn(self, fn: Callable[[Any], Coroutine[Any, Any, None]], arg: Any) -> None:
        task = self._loop.create_task(fn(arg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread."""
        return await asyncio.to_thread(fn, *args)

    async def drain(self) -> None:
        """Wait for every scheduled call (their errors are dropped)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class ReadBase:
    """What the read-through family shares on both faces: the backend, the TTLs, and what a
    load stores."""

    def __init__(self, backend: Any, ttl: float | None, negative_ttl: float | None) -> None:
        check_backend(backend)
        self.backend = backend
        self.ttl = check_ttl(ttl)
        self.negative_ttl = check_ttl(negative_ttl, "negative_ttl")

    def _fill_args(self, value: object) -> tuple[object, float | None] | None:
        """What to store for a loaded value: ``(value, ttl)``, or None to store nothing."""
        if value is MISSING:
            return None if self.negative_ttl is None else (NOT_FOUND, self.negative_ttl)
        return value, self.ttl


class _Call:
    __slots__ = ("error", "event", "value", "waiters")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.waiters = 0


class SingleFlight:
    """At most one call per key at a time across threads; the others wait for its result
    (or its exception). No lock is held while the function runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}

    def do(self, key: str, fn: Callable[[], T]) -> T:
        """Run ``fn()`` for ``key`` unless a call for ``key`` is running: then wait for it."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
            else:
                call.waiters += 1
        if not leader:
            try:
                call.event.wait()
            finally:
                with self._lock:
                    call.waiters -= 1
            if call.error is not None:
                raise call.error
            return call.value  # type: ignore[no-any-return]
        try:
            call.value = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.event.set()
        return call.value  # type: ignore[no-any-return]

    def waiting(self, key: str) -> int:
        """How many callers wait for the running call for ``key`` (the leader not counted):
        the requests a stampede would have sent to the source."""
        with self._lock:
            call = self._calls.get(key)
            return 0 if call is None else call.waiters

    def __len__(self) -> int:
        return len(self._calls)


class AsyncSingleFlight:
    """:class:`SingleFlight` for asyncio tasks of one event loop. A waiter that is
    cancelled does not cancel the shared load; the leader being cancelled hands the
    ``CancelledError`` to nobody else: waiters retry."""

    def __init__(self) -> None:
        self._calls: dict[str, asyncio.Future[Any]] = {}
        self._waiting: dict[str, int] = {}

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` for ``key`` unless a call for ``key`` is running: then share it."""
        while True:
            fut = self._calls.get(key)
            if fut is None:
                break
            self._waiting[key] = self._waiting.get(key, 0) + 1
            try:
                return await asyncio.shield(fut)
            except asyncio.CancelledError:
                if not fut.cancelled():
                    raise  # we were cancelled ourselves
            finally:
                left = self._waiting.pop(key) - 1
                if left:
                    self._waiting[key] = left
        fut = asyncio.get_running_loop().create_future()
        self._calls[key] = fut
        try:
            value = await fn()
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: no "never retrieved" warning without waiters
            raise
        else:
            fut.set_result(value)
            return value
        finally:
            del self._calls[key]

    def waiting(self, key: str) -> int:
        """How many tasks wait for the running call for ``key`` (the leader not counted)."""
        return self._waiting.get(key, 0)

    def __len__(self) -> int:
        return len(self._calls)


class KeyLocks:
    """An ``asyncio.Lock`` per key, created on demand and dropped when nobody holds or
    waits for it: ``async with locks.hold(key): ...``."""

    def __init__(self) -> None:
        self._table: dict[str, list[Any]] = {}  # key -> [lock, users]

    def hold(self, key: str) -> _Held:
        """An async context manager holding ``key``'s lock."""
        return _Held(self._table, key)

    def __len__(self) -> int:
        return len(self._table)


class _Held:
    __slots__ = ("entry", "key", "table")

    def __init__(self, table: dict[str, list[Any]], key: str) -> None:
        self.table = table
        self.key = key
        entry = table.get(key)
        if entry is None:
            entry = table[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        self.entry = entry

    async def __aenter__(self) -> None:
        try:
            await self.entry[0].acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.entry[0].release()
        self._leave()

    def _leave(self) -> None:
        self.entry[1] -= 1
        if self.entry[1] == 0:
            del self.table[self.key]
