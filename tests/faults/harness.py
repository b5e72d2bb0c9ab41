"""Fault injection for the network backends: servers frozen, killed and restarted mid-run.

Several processes (spawned, each with its own backends) drive one backend kind: in each,
``threads`` threads share one sync backend and ``tasks`` asyncio tasks share one async
backend on one event loop (an async client belongs to its loop: one backend per loop).
Every key has a single owner (a thread or a task), which numbers its writes: the value is
the write's sequence number, a delete takes a number too.  The owner publishes the number
of its last *acknowledged* write or delete in shared memory; a reader notes it before its
``get`` and flags a value older than that.  A miss is always allowed (a cache may forget),
and so is a value whose write raised: a write with an unknown outcome may land late.

Meanwhile the parent process freezes (SIGSTOP) a server and thaws it, or kills it and
restarts it, in turn.  A flagged read is *stale*; it is counted against the reader's own
client (must be 0) or another client (another process, or the same process's other
backend), with its age (how long the newer write had been acknowledged when the read
began) and when it happened: how long after a hurt server could answer again (the clock
read just before it is thawed or restarted), taken when the read's reply came (a read sent
to a frozen server is answered once it is thawed: it began before the server answered
again, and ended after; memcached's cross-client bound is on that, see
``fastcache.backends.memcached``).  A backend may also take a server that was not hurt out of
its ring, when the host stalls past its timeouts (memcached's "out of the ring" log): that is
an outage too, the server answering again by the time of the log.  Errors are counted
by type; only ``BackendUnavailable`` is documented.

``run(kind, seconds)`` returns a ``Report``; ``FASTCACHE_FAULT_SECONDS`` sets the length
of the pytest runs (default 10 s per backend).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import faulthandler
import logging
import math
import multiprocessing
import os
import random
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastcache.backends import (
    AsyncMemcachedBackend,
    AsyncRedisBackend,
    AsyncRedisClusterBackend,
    BackendUnavailable,
    CircuitBreaker,
    MemcachedBackend,
    RedisBackend,
    RedisClusterBackend,
)

KINDS = ("redis", "cluster", "memcached")
KEYS_PER_WORKER = 8

# failover settings of the memcached runs, and the cross-process bound they imply
MEMCACHED_OPTIONS: dict[str, Any] = {
    "timeout": 0.25, "connect_timeout": 0.25, "retry_attempts": 1, "retry_timeout": 0.1,
    "dead_timeout": 1.0, "generation_refresh": 0.5}
REDIS_OPTIONS: dict[str, Any] = {"timeout": 0.25, "connect_timeout": 0.25, "retries": 0}


def memcached_bound(options: dict[str, Any] = MEMCACHED_OPTIONS, servers: int = 3) -> float:
    """The documented cross-process window for these memcached options, in seconds."""
    return float(options["dead_timeout"]
                 + (options["retry_attempts"] + 1)
                 * (options["retry_timeout"] + options["timeout"])
                 + options["generation_refresh"] + servers * options["timeout"])


def seconds_from_env(default: float = 10.0) -> float:
    """``FASTCACHE_FAULT_SECONDS`` (longer runs), else ``default``."""
    return float(os.environ.get("FASTCACHE_FAULT_SECONDS", default))


# -- the servers and their faults (parent process) ---------------------------------------------

@contextlib.contextmanager
def servers(kind: str) -> Iterator[tuple[dict[str, Any], list[Any], Callable[[], None]]]:
    """Started servers: (connection arguments, the processes to hurt, wait-until-healthy)."""
    from tests.servers import MemcachedServers, RedisCluster, RedisServer

    if kind == "redis":
        with RedisServer() as server:
            yield {"url": server.url}, [server], lambda: None
    elif kind == "cluster":
        with RedisCluster(3) as cluster:
            yield {"startup_nodes": cluster.startup_nodes}, cluster.nodes, cluster.wait_ok
    else:
        with MemcachedServers(3) as group:
            yield {"servers": group.addresses}, group.servers, lambda: None


def inject(victims: list[Any], healthy: Callable[[], None], stop: threading.Event,
           log: list[str], back: list[float], hurt: list[tuple[int, float, float]]) -> None:
    """Freeze/thaw and kill/restart the servers in turn until ``stop``.

    ``back``: when each hurt server could answer again (monotonic, as the workers' clocks):
    read just before it is thawed or started again, since a worker process may receive the
    server's first replies before this thread is scheduled again after the signal.
    ``hurt``: (port, from, back) of each outage.
    """
    rng = random.Random(1)
    n = 0
    while not stop.wait(rng.uniform(0.5, 1.0)):
        victim = victims[n % len(victims)]
        hurt_from = time.monotonic()
        if n % 2 == 0:
            victim.freeze()
            log.append(f"freeze {victim.port}")
            stop.wait(rng.uniform(0.5, 2.5))
            back.append(time.monotonic())
            victim.thaw()
        else:
            victim.kill()
            log.append(f"kill {victim.port}")
            stop.wait(rng.uniform(0.3, 1.5))
            back.append(time.monotonic())
            victim.restart()
        hurt.append((victim.port, hurt_from, back[-1]))
        with contextlib.suppress(Exception):
            healthy()
        n += 1


# -- the workers (child processes) -------------------------------------------------------------

def make_backend(kind: str, mode: str, conn: dict[str, Any], prefix: str) -> Any:
    """A sync or async backend of ``kind`` for the servers in ``conn``."""
    if kind == "memcached":
        cls: Any = MemcachedBackend if mode == "sync" else AsyncMemcachedBackend
        return cls(conn["servers"], prefix=prefix, **MEMCACHED_OPTIONS)
    # a breaker that probes again soon, so the run sees the servers come back
    breaker = CircuitBreaker(5, 0.5)
    if kind == "redis":
        cls = RedisBackend if mode == "sync" else AsyncRedisBackend
        return cls(conn["url"], prefix=prefix, breaker=breaker, **REDIS_OPTIONS)
    cls = RedisClusterBackend if mode == "sync" else AsyncRedisClusterBackend
    return cls(startup_nodes=conn["startup_nodes"], prefix=prefix, breaker=breaker,
               **REDIS_OPTIONS)


class _Recorder:
    """One client's bookkeeping (its threads or its tasks share it)."""

    def __init__(self, client: str, floors: Any, nkeys: int) -> None:
        self.client = client
        self.floors = floors
        self.nkeys = nkeys
        self.lock = threading.Lock()
        self.acked = 0
        self.reads = 0
        self.hits = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.failed: dict[int, set[int]] = collections.defaultdict(set)
        self.acks: dict[int, list[tuple[int, float]]] = collections.defaultdict(list)
        self.suspect: list[tuple[int, int, int, float, float, str]] = []
        self.tracebacks: dict[str, str] = {}
        self.trace: list[tuple[Any, ...]] = []

    def error(self, e: BaseException, key: int | None = None, seq: int = 0) -> None:
        name = "BackendUnavailable" if isinstance(e, BackendUnavailable) else (
            f"{type(e).__module__}.{type(e).__name__} ({self.client.split('-')[1]}): "
            f"{str(e)[:80]}")
        with self.lock:
            self.errors[name] += 1
            if key is not None:
                self.failed[key].add(seq)
            if name not in self.tracebacks and name != "BackendUnavailable":
                self.tracebacks[name] = "".join(traceback.format_exception(e))
        if isinstance(e, BackendUnavailable):
            time.sleep(0.005)  # an open circuit fails at once: do not spin

    def ack(self, key: int, seq: int) -> None:
        now = time.monotonic()
        with self.lock:
            self.acked += 1
            self.acks[key].append((seq, now))
        self.floors[key] = seq

    def read(self, key: int, floor: int, started: float, value: object) -> None:
        """A read that began at ``started`` (the floor noted then) returned ``value`` now."""
        with self.lock:
            self.reads += 1
            if value is None:
                return
            self.hits += 1
            if not isinstance(value, int):
                self.errors[f"wrong value type {type(value).__name__}"] += 1
            elif value < floor:
                self.suspect.append((key, value, floor, started, time.monotonic(),
                                     self.client))

    def result(self) -> dict[str, Any]:
        return {"client": self.client, "acked": self.acked, "reads": self.reads,
                "hits": self.hits, "errors": dict(self.errors),
                "failed": {k: sorted(v) for k, v in self.failed.items()},
                "acks": dict(self.acks), "suspect": self.suspect,
                "tracebacks": self.tracebacks, "trace": self.trace}


class _Owner:
    """The keys a worker owns and their next sequence numbers."""

    def __init__(self, first: int, rng: random.Random) -> None:
        self.keys = list(range(first, first + KEYS_PER_WORKER))
        self.seq = dict.fromkeys(self.keys, 0)
        self.rng = rng

    def next(self) -> tuple[int, int, bool]:
        key = self.rng.choice(self.keys)
        self.seq[key] += 1
        return key, self.seq[key], self.rng.random() < 0.15  # (key, seq, is a delete)


def _thread(backend: Any, rec: _Recorder, first: int, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    owner = _Owner(first, rng)
    while not stop.is_set():
        if rng.random() < 0.6:
            key = rng.randrange(rec.nkeys)
            floor, started = rec.floors[key], time.monotonic()
            try:
                value = backend.get(f"k{key}", None)
            except Exception as e:
                rec.error(e)
                continue
            rec.read(key, floor, started, value)
        else:
            key, seq, delete = owner.next()
            try:
                if delete:
                    backend.delete(f"k{key}")
                else:
                    backend.set(f"k{key}", seq)
            except Exception as e:
                rec.error(e, key, seq)
                continue
            rec.ack(key, seq)


async def _task(backend: Any, rec: _Recorder, first: int, stop: threading.Event,
                seed: int) -> None:
    rng = random.Random(seed)
    owner = _Owner(first, rng)
    while not stop.is_set():
        if rng.random() < 0.6:
            key = rng.randrange(rec.nkeys)
            floor, started = rec.floors[key], time.monotonic()
            try:
                value = await backend.get(f"k{key}", None)
            except Exception as e:
                rec.error(e)
                continue
            rec.read(key, floor, started, value)
        else:
            key, seq, delete = owner.next()
            try:
                if delete:
                    await backend.delete(f"k{key}")
                else:
                    await backend.set(f"k{key}", seq)
            except Exception as e:
                rec.error(e, key, seq)
                continue
            rec.ack(key, seq)


def _loop(kind: str, conn: dict[str, Any], prefix: str, rec: _Recorder, first: int,
          tasks: int, stop: threading.Event, seed: int, ready: threading.Event,
          go: threading.Event) -> None:
    async def main() -> None:
        backend = make_backend(kind, "async", conn, prefix)  # made on, and for, this loop
        if kind == "memcached" and os.environ.get("FASTCACHE_FAULT_TRACE"):
            _trace_memcached(backend, rec.trace)
        try:
            await backend.get("warm-up")
        finally:
            ready.set()
        while not go.is_set():
            await asyncio.sleep(0.01)
        try:
            await asyncio.gather(*(
                _task(backend, rec, first + i * KEYS_PER_WORKER, stop, seed + i)
                for i in range(tasks)))
        finally:
            with contextlib.suppress(Exception):
                await backend.close()

    asyncio.run(main())


def _capture_logs(events: list[tuple[float, str]]) -> None:
    """The backends' failover log (ring changes), timed, instead of on stderr."""
    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            events.append((time.monotonic(), record.getMessage()))

    root = logging.getLogger("fastcache")
    root.handlers[:] = [Capture()]
    root.propagate = False
    root.setLevel(logging.INFO)


def _trace_memcached(backend: Any, trace: list[tuple[Any, ...]]) -> None:
    """Record every command a memcached backend sends (to explain a stale read)."""
    inner = getattr(backend, "sync", backend)
    talk = inner._talk

    def traced(server: Any, command: Any, arg: Any) -> Any:
        start = time.monotonic()
        stamps = inner._view.stamps
        try:
            result = talk(server, command, arg)
        except BaseException as e:
            trace.append((start, time.monotonic(), server.name, command.__name__, repr(arg)[:300],
                          f"raised {type(e).__name__}", stamps is inner._view.stamps))
            raise
        trace.append((start, time.monotonic(), server.name, command.__name__, repr(arg)[:300],
                      repr(result)[:300], stamps is inner._view.stamps))
        return result

    inner._talk = traced


def worker(kind: str, conn: dict[str, Any], prefix: str, index: int, threads: int,
           tasks: int, nkeys: int, floors: Any, ready: Any, seconds: float, out: Any) -> None:
    """One process: ``threads`` threads on a sync backend, ``tasks`` tasks on an async one.

    The backends are made and used once before ``ready`` (a barrier with the parent), so
    the faults, which start after it, meet clients already connected.
    """
    faulthandler.dump_traceback_later(seconds + 90, exit=True)  # a hang shows where
    events: list[tuple[float, str]] = []
    _capture_logs(events)
    per_process = (threads + tasks) * KEYS_PER_WORKER
    base = index * per_process
    stop, go, loop_ready = threading.Event(), threading.Event(), threading.Event()
    sync_rec = _Recorder(f"p{index}-sync", floors, nkeys)
    async_rec = _Recorder(f"p{index}-async", floors, nkeys)
    backend = make_backend(kind, "sync", conn, prefix)
    trace: list[tuple[Any, ...]] = []
    if kind == "memcached" and os.environ.get("FASTCACHE_FAULT_TRACE"):
        _trace_memcached(backend, trace)
    backend.get("warm-up")
    runners = [threading.Thread(target=_thread, args=(backend, sync_rec,
                                                      base + i * KEYS_PER_WORKER, stop,
                                                      index * 1000 + i))
               for i in range(threads)]
    if tasks:
        loop = threading.Thread(target=_loop, args=(
            kind, conn, prefix, async_rec, base + threads * KEYS_PER_WORKER, tasks, stop,
            index * 1000 + 500, loop_ready, go))
        loop.start()
        loop_ready.wait(60)
    ready.wait(120)
    go.set()
    for t in runners:
        t.start()
    if tasks:
        runners.append(loop)
    time.sleep(seconds)
    stop.set()
    deadline = time.monotonic() + 30  # every call has a timeout: 30 s is a hang
    for t in runners:
        t.join(max(0.0, deadline - time.monotonic()))
    frames = sys._current_frames()
    for t in runners:
        if t.is_alive() and t.ident in frames:
            rec = sync_rec if t is not runners[-1] or not tasks else async_rec
            name = f"hung call ({rec.client.split('-')[1]})"
            rec.errors[name] += 1
            rec.tracebacks.setdefault(name, "".join(traceback.format_stack(frames[t.ident])))
    results = [sync_rec.result(), async_rec.result()]
    results[0]["events"] = [(t, f"p{index}: {m}") for t, m in events]
    results[0]["trace"] = trace
    out.put(results)
    out.close()
    out.join_thread()  # the queue's feeder thread has written everything
    with contextlib.suppress(Exception):
        backend.close()
    os._exit(0)  # a hung thread must not keep the process


# -- the run and its report ---------------------------------------------------------------------

@dataclass
class Report:
    """What a run saw (see the module docstring)."""

    kind: str
    seconds: float
    processes: int
    threads: int
    tasks: int
    acked: int = 0
    reads: int = 0
    hits: int = 0
    late_unknown: int = 0
    stale_same: int = 0
    stale_cross: int = 0
    max_age_cross: float = 0.0
    max_after_back: float = 0.0
    bound: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    back: list[float] = field(default_factory=list)
    hurt: list[tuple[int, float, float]] = field(default_factory=list)
    tracebacks: dict[str, str] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    @property
    def undocumented(self) -> dict[str, int]:
        """Errors of any type but ``BackendUnavailable``."""
        return {k: v for k, v in self.errors.items() if k != "BackendUnavailable"}

    HEADER = (f"{'backend':<10} {'clients':>12} {'faults':>6} {'acked':>7} {'reads':>7} "
              f"{'hits':>6} {'stale':>5} {'x-stale':>7} {'x-age':>6} {'x-when':>6} "
              f"{'bound':>6}  errors")

    def line(self) -> str:
        """One row of the table (``stale``: same client, must be 0)."""
        clients = f"{self.processes}x({self.threads}t+{self.tasks}a)"
        errors = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())) or "none"
        return (f"{self.kind:<10} {clients:>12} {len(self.faults):>6} {self.acked:>7} "
                f"{self.reads:>7} {self.hits:>6} {self.stale_same:>5} {self.stale_cross:>7} "
                f"{self.max_age_cross:>5.2f}s {self.max_after_back:>5.2f}s "
                f"{self.bound:>5.2f}s  {errors}")


def merge(report: Report, results: list[dict[str, Any]], owners: dict[int, str]) -> Report:
    """Fold the clients' results into ``report``: classify every flagged read."""
    failed: dict[int, set[int]] = collections.defaultdict(set)
    acks: dict[int, list[tuple[int, float]]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    events = sorted(e for r in results for e in r.get("events", []))
    # a server a backend took out of its ring with no fault injected (the host stalled):
    # answering again by the time of the log (an injected outage's own logs may come up to
    # the retries' time after it is back)
    late = (MEMCACHED_OPTIONS["retry_attempts"] + 1) * (
        MEMCACHED_OPTIONS["retry_timeout"] + MEMCACHED_OPTIONS["timeout"])
    for t, message in events:
        m = re.search(r":(\d+) out of the ring", message)
        if m and not any(port == int(m.group(1)) and start <= t <= end + late
                         for port, start, end in report.hurt):
            report.back.append(t)
    for r in results:
        report.acked += r["acked"]
        report.reads += r["reads"]
        report.hits += r["hits"]
        errors.update(r["errors"])
        report.tracebacks.update(r["tracebacks"])
        for k, seqs in r["failed"].items():
            failed[k].update(seqs)
        for k, pairs in r["acks"].items():
            acks[k].extend(pairs)
    for r in results:
        for key, value, _floor, started, ended, client in r["suspect"]:
            if value in failed[key]:
                report.late_unknown += 1
                continue
            newer = min(t for seq, t in acks[key] if seq > value)
            if client == owners[key]:
                report.stale_same += 1
                report.details.append(
                    f"k{key} read {value} (floor {_floor}) by {client} at {started:.3f}; "
                    f"acks {sorted(a for a in acks[key] if abs(a[1] - started) < 5)}; "
                    f"failed {sorted(failed[key])[-5:]}; events "
                    f"{[e for e in events if abs(e[0] - started) < 3]}")
                if r.get("trace"):
                    report.details.append("\n".join(
                        repr(t) for t in r["trace"] if f"k{key}'" in t[4] or f"k{key}\"" in t[4]))
            else:
                report.stale_cross += 1
                report.max_age_cross = max(report.max_age_cross, started - newer)
                since = [ended - t for t in report.back if t <= ended]
                # a server answering again is what lets clients disagree (see memcached.py);
                # its first replies may answer reads sent while it was frozen
                report.max_after_back = max(report.max_after_back,
                                            min(since) if since else math.inf)
    report.errors = dict(errors)
    return report


def run(kind: str, seconds: float, *, processes: int = 2, threads: int = 4,
        tasks: int = 8) -> Report:
    """Run the fault-injection workload against fresh servers of ``kind``."""
    ctx = multiprocessing.get_context("spawn")
    per_process = (threads + tasks) * KEYS_PER_WORKER
    nkeys = processes * per_process
    sync_keys = threads * KEYS_PER_WORKER  # each process: its threads' keys, then its tasks'
    owners = {k: f"p{k // per_process}-{'sync' if k % per_process < sync_keys else 'async'}"
              for k in range(nkeys)}
    report = Report(kind, seconds, processes, threads, tasks,
                    bound=memcached_bound() if kind == "memcached" else 0.0)
    with servers(kind) as (conn, victims, healthy):
        floors = ctx.Array("q", nkeys, lock=False)
        ready = ctx.Barrier(processes + 1)
        out = ctx.Queue()
        prefix = "f" + uuid.uuid4().hex[:10]
        procs = [ctx.Process(target=worker, args=(kind, conn, prefix, i, threads, tasks, nkeys,
                                                  floors, ready, seconds, out))
                 for i in range(processes)]
        for p in procs:
            p.start()
        stop = threading.Event()
        injector = threading.Thread(target=inject, args=(victims, healthy, stop, report.faults,
                                                         report.back, report.hurt))
        ready.wait(120)  # every client made and connected
        injector.start()
        results: list[dict[str, Any]] = []
        try:
            for _ in procs:
                results.extend(out.get(timeout=seconds + 100))
        finally:
            stop.set()
            injector.join(30)
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.kill()
            for v in victims:
                v.thaw()
    return merge(report, results, owners)
