"""Memcached backend: our own ring over pymemcache pooled clients, with fenced failover.

    MemcachedBackend([("10.0.0.1", 11211), ("10.0.0.2", 11211), ("10.0.0.3", 11211)],
                     prefix="myapp", timeout=0.5, retry_attempts=2, retry_timeout=1.0,
                     dead_timeout=30.0)

Keys are spread over the servers by rendezvous (highest random weight) hashing over 4096
slots (``FastRendezvousHash``), so losing one server moves only its own keys.  A server that
fails is tried again ``retry_attempts`` times, ``retry_timeout`` seconds apart (in between,
calls that need it raise ``BackendUnavailable``, or miss/skip with ``on_failure="degrade"``);
then it leaves the ring for ``dead_timeout`` seconds and its keys map to the others
(failover: misses there until written again).  The backend's circuit breaker opens only
when *every* server is gone.  The failover state is ours, behind one lock, so a backend
shared by any number of threads only ever raises ``BackendUnavailable``.

Never an overwritten value (fencing).  Each server keeps a *generation* token; every value
is stored with memcached's 32-bit flags set to a stamp of its holder's generation and of
the generations of the servers it stands in for (those ranked above it for that key).  A server
returning after ``dead_timeout`` is given a new generation *before* it rejoins the ring, so
what it held from before its outage (older than the writes and deletes made elsewhere
meanwhile) and every stand-in value written for it no longer match: misses, never served.
A write or delete during which the ring moved its key is not acknowledged
(``BackendUnavailable``).  Within one backend a read therefore never returns a value older
than an acknowledged ``set``/``delete`` (a stamp collision, 2**-32 per stale value read, is
the only exception); counters (``incr``) and ``add`` treat a stale value as absent.

Across processes (each with its own backend) the views of which server is out may disagree
for a while after a server answers again: one process puts it back in the ring (after its
``dead_timeout``) while another still writes to and reads from the stand-in, or never took
it out (it only met the outage while retrying).  Only in that window can a read return a
value older than another process's acknowledged write.  Bound: the window closes at most
``dead_timeout + (retry_attempts + 1) * (retry_timeout + timeout) + generation_refresh +
len(servers) * timeout`` seconds after the server answers again (the last processes to put
it back, then to adopt its new generation), plus scheduling delays on a loaded host; the
value read may be as old as the outage plus that window.  ``bench/faults.py`` measures it
(``x-when``).  Lower ``dead_timeout`` to shorten it (a dead server is probed more often).

``get_many``/``set_many``/``delete_many`` send one command batch per server.  Keys longer
than memcached's 250 bytes, or holding spaces, control or non-ASCII characters, are
replaced by a stable SHA-256 form (``<prefix>:<version>:<generation>#<hex>``).

``clear()`` cannot enumerate keys, so the namespace carries a token stored on every server:
``clear()`` writes a new one and every key of the old one becomes unreachable (memcached
evicts them in time).  Other processes see a ``clear()`` within ``generation_refresh``
seconds (default 1), and a server generation changed by another process in the same time.
The first token is ``add``-ed on one server (the first by name), so that backends starting
together agree on it rather than each making its own (an unannounced ``clear()``).

Memcached specifics: TTLs have 1-second resolution and are rounded up to whole seconds plus
one (a key never expires early; it may live up to 1 s longer); counters are memcached's
unsigned 64-bit ones (``decr`` stops at 0).  TLS: pass ``tls_context=ssl.SSLContext(...)``.
Values written by a version without stamps (flags 0) are misses.

``AsyncMemcachedBackend`` runs a ``MemcachedBackend`` in a small thread pool.  Why not a
native asyncio client: aiomcache talks to one server only (no hashing, no failover), and
emcache places keys with its own hashing, so a sync and an async process sharing the same
servers would not find each other's keys; both were tried against memcached 1.6 and neither
was faster per call here (the loop round trip dominates).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from .._optional import require
from ..serializers import Serializer
from ._remote import Namespace, RemoteBase
from .base import MISSING, AsyncBackend, Backend, BackendUnavailable, check_key, check_ttl
from .failure import RAISE, CircuitBreaker, OnFailure, log

__all__ = ["AsyncMemcachedBackend", "FastRendezvousHash", "MemcachedBackend"]

_T = TypeVar("_T")
_A = TypeVar("_A")
_I = TypeVar("_I")
_MAX_KEY = 250
_THIRTY_DAYS = 30 * 24 * 3600
_GEN_KEY = "__generation__"
_SERVER_GEN_KEY = "__server_generation__"


class _AllServersDown(OSError):
    """No server is left in the ring."""


_SLOTS = 4096


def _score(node: str, slot: int) -> bytes:
    return hashlib.blake2b(f"{node}-{slot}".encode(), digest_size=8).digest()


class FastRendezvousHash:
    """Rendezvous (highest random weight) hashing over 4096 slots (also a ``HashClient`` hasher).

    pymemcache's default ``RendezvousHash`` runs a pure-Python murmur3 once per server for
    every key (~10 us each, more than a loopback round trip).  Here a key goes to slot
    ``crc32(key) % 4096`` (as Redis Cluster slots, with crc16) and each slot to the server
    with the highest BLAKE2b score for it, precomputed when the ring changes.  Same
    property as rendezvous hashing: losing a server moves only that server's slots.
    Every fastcache memcached client uses this class, so sync and async backends agree on
    where a key lives.
    """

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self._scores: dict[str, list[bytes]] = {}
        self._table: list[str] = []

    def _rebuild(self) -> None:
        if not self.nodes:
            self._table = []
            return
        columns = [(self._scores[n], n) for n in sorted(self.nodes)]
        self._table = [max(columns, key=lambda c: c[0][slot])[1] for slot in range(_SLOTS)]

    def add_node(self, node: str) -> None:
        """Put ``node`` into the ring."""
        if node not in self._scores:
            self._scores[node] = [_score(node, slot) for slot in range(_SLOTS)]
            self.nodes.append(node)
            self._rebuild()

    def remove_node(self, node: str) -> None:
        """Take ``node`` out of the ring (``ValueError`` if absent)."""
        if node not in self._scores:
            raise ValueError(f"No such node {node} to remove")
        self.nodes.remove(node)
        del self._scores[node]
        self._rebuild()

    def rankings(self) -> list[tuple[str, ...]]:
        """Per slot, every node from the highest score down (the failover order)."""
        ranked: dict[tuple[str, ...], tuple[str, ...]] = {}  # share equal tuples
        out = []
        for slot in range(_SLOTS):
            order = tuple(sorted(self.nodes, key=lambda n: self._scores[n][slot], reverse=True))
            out.append(ranked.setdefault(order, order))
        return out

    def get_node(self, key: str | bytes) -> str | None:
        """The server for ``key`` (None when the ring is empty)."""
        table = self._table
        if not table:
            return None
        if isinstance(key, str):
            key = key.encode("utf-8", "surrogatepass")
        return table[zlib.crc32(key) & (_SLOTS - 1)]


def _expire(ttl: object) -> int:
    """memcached exptime for a ttl: whole seconds rounded up, +1, absolute past 30 days."""
    seconds = check_ttl(ttl)
    if seconds is None:
        return 0
    exptime = math.ceil(seconds) + 1
    return exptime if exptime <= _THIRTY_DAYS else int(time.time()) + exptime


class _ServerFailing(OSError):
    """One server failed, or is being given ``retry_timeout`` before the next attempt."""


class _Server:
    """One memcached server: its connection pool and failover state (under the ring lock)."""

    __slots__ = ("client", "dead_until", "failures", "gen", "name", "retry_at")

    def __init__(self, name: str, client: Any) -> None:
        self.name = name
        self.client = client
        self.failures = 0  # consecutive
        self.retry_at = 0.0  # while failing: no attempt before this (monotonic)
        self.dead_until: float | None = None  # out of the ring until then (monotonic)
        self.gen = b""  # this server's generation token, as last read or written


class _View:
    """An immutable snapshot of the ring: per slot, the server holding it and its stamp.

    Each slot ranks every server (rendezvous scores); its holder is the first live one.
    A value is stored with memcached flags = the stamp of its slot: a 32-bit digest of the
    holder's generation and of the generations of the servers ranked above it (the dead
    ones it stands in for).  A value is served only if its flags equal the stamp of the
    view current when the reply is checked.  A server that rejoins gets a new generation
    first, so everything it held before, and every stand-in value written for it anywhere
    down the ranking, stops matching, even if it fails again later.
    """

    __slots__ = ("holders", "stamps")

    def __init__(self, servers: dict[str, _Server], ranks: list[tuple[str, ...]]) -> None:
        self.holders: list[_Server] = []
        self.stamps: list[int] = []
        if all(s.dead_until is not None for s in servers.values()):
            return
        cache: dict[tuple[str, ...], tuple[_Server, int]] = {}
        for rank in ranks:
            found = cache.get(rank)
            if found is None:
                mixed = b""
                for name in rank:
                    server = servers[name]
                    mixed += server.gen + b"@" + name.encode() + b"/"
                    if server.dead_until is None:
                        break
                cache[rank] = found = (server, zlib.crc32(mixed) & 0xFFFFFFFF)
            self.holders.append(found[0])
            self.stamps.append(found[1])


def _slot(mkey: str) -> int:
    return zlib.crc32(mkey.encode("ascii")) & (_SLOTS - 1)


class MemcachedBackend(RemoteBase, Backend):
    """A ``Backend`` over one or more memcached servers, with fenced failover.

    ``servers``: ``(host, port)`` pairs or ``"host:port"`` strings.  ``timeout`` and
    ``connect_timeout`` bound every socket operation.  Other keyword arguments go to each
    server's pymemcache ``PooledClient`` (``tls_context``, ``max_pool_size``,
    ``socket_module``, ...).

    Why our own ring over pymemcache clients rather than its ``HashClient``: the failover
    state (which server is failing, dead, rejoining, and each server's generation) must
    change atomically with respect to every thread using the backend (``HashClient``'s
    bookkeeping is not thread-safe: ``KeyError``/``ValueError`` from its internals under
    load), and a server's rejoining must be fenced, which ``HashClient`` cannot express.
    One lock guards the changes; readers take an immutable snapshot (``_View``) without it.
    """

    def __init__(self, servers: Iterable[tuple[str, int] | str] = (("127.0.0.1", 11211),), *,
                 prefix: str = "fastcache", version: int | str = 1,
                 serializer: Serializer | None = None, compress_threshold: int | None = None,
                 timeout: float = 1.0, connect_timeout: float = 1.0,
                 retry_attempts: int = 2, retry_timeout: float = 1.0,
                 dead_timeout: float = 30.0, generation_refresh: float = 1.0,
                 on_failure: OnFailure = "raise", breaker: CircuitBreaker | None = None,
                 **client_options: Any) -> None:
        x = require("pymemcache.exceptions", "memcached", feature=type(self).__name__)
        from pymemcache.client.base import PooledClient  # type: ignore[import-untyped]

        if type(retry_attempts) is not int or retry_attempts < 0:
            raise ValueError("retry_attempts must be an int >= 0")
        options: dict[str, Any] = {"connect_timeout": connect_timeout, "timeout": timeout,
                                   "no_delay": True, "default_noreply": False}
        options.update(client_options)
        self._servers: dict[str, _Server] = {}
        for spec in servers:
            host, port = _server(spec)
            name = f"{host}:{port}"
            if name not in self._servers:
                self._servers[name] = _Server(name, PooledClient((host, port), **options))
        if not self._servers:
            raise ValueError("at least one memcached server is needed")
        full = FastRendezvousHash()
        for name in self._servers:
            full.add_node(name)
        self._ranks = full.rankings()
        self._x = x
        self._setup(f"MemcachedBackend({len(self._servers)} servers)",
                    (OSError, x.MemcacheUnexpectedCloseError), prefix=prefix, version=version,
                    serializer=serializer, compress_threshold=compress_threshold,
                    on_failure=on_failure, breaker=breaker, breaker_errors=(_AllServersDown,))
        if len(self._head) > 100:
            raise ValueError("prefix and version too long for memcached keys")
        self._retry_attempts = retry_attempts
        self._retry_timeout = float(retry_timeout)
        self._dead_timeout = float(dead_timeout)
        self._gen_key = self._head + _GEN_KEY
        self._srv_key = self._head + _SERVER_GEN_KEY
        self._gen_refresh = float(generation_refresh)
        self._lock = threading.Lock()  # every change of the servers' state and the view
        self._refreshing = threading.Lock()  # one refresh or rejoin at a time
        self._gen_checked = -math.inf
        self._token = ""  # the namespace token in use (see _refresh)
        self._gen_head = self._head + "-:"
        self._next_rejoin = math.inf
        self._view = _View(self._servers, self._ranks)

    @property
    def client(self) -> dict[str, Any]:
        """The pymemcache ``PooledClient`` of each server, by ``"host:port"``."""
        return {name: s.client for name, s in self._servers.items()}

    # -- keys, generations and the ring --------------------------------------------------

    def _key(self, key: str) -> str:
        if type(key) is not str:
            check_key(key)
        if time.monotonic() - self._gen_checked > self._gen_refresh:
            self._refresh()
        full = self._gen_head + key
        if len(full) <= _MAX_KEY and full.isascii() and full.isprintable() and " " not in full:
            return full
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self._gen_head[:-1]}#{digest}"

    def server_of(self, key: str) -> str | None:
        """``"host:port"`` of the server now holding ``key`` (None: every server is down)."""
        view = self._current()
        return view.holders[_slot(self._key(key))].name if view.holders else None

    def _current(self) -> _View:
        if time.monotonic() >= self._next_rejoin:
            self._rejoin()
        return self._view

    def _rebuild(self) -> None:
        """A new view from the servers' state (the ring lock is held)."""
        deadlines = [s.dead_until for s in self._servers.values() if s.dead_until is not None]
        self._next_rejoin = min(deadlines) if deadlines else math.inf
        self._view = _View(self._servers, self._ranks)

    def _failed(self, server: _Server, error: BaseException) -> None:
        """Count a failure of ``server``; past ``retry_attempts`` it leaves the ring."""
        with self._lock:
            server.failures += 1
            now = time.monotonic()
            server.retry_at = now + self._retry_timeout
            if server.failures > self._retry_attempts and server.dead_until is None:
                server.dead_until = now + self._dead_timeout
                log.warning("fastcache: %s: memcached %s out of the ring for %.1f s: %s",
                            self._guard.name, server.name, self._dead_timeout, error)
                self._rebuild()

    def _rejoin(self) -> None:
        """Servers whose ``dead_timeout`` passed: new generation first, then back in the ring."""
        if not self._refreshing.acquire(blocking=False):
            return  # another thread is at it; until then the server stays out
        try:
            now = time.monotonic()
            for server in self._servers.values():
                if server.dead_until is None or server.dead_until > now:
                    continue
                token = self._new_token().encode()
                try:
                    # the fence: nothing stamped with an older generation matches any more
                    _converse(server.client, _set_cmd, ([(self._srv_key, token, 0)], 0))
                except Exception as e:  # still down: another dead_timeout
                    with self._lock:
                        server.dead_until = time.monotonic() + self._dead_timeout
                        self._rebuild()
                    log.warning("fastcache: %s: memcached %s still failing: %s",
                                self._guard.name, server.name, e)
                    continue
                with self._lock:
                    server.gen = token
                    server.failures = 0
                    server.dead_until = None
                    self._rebuild()
                log.warning("fastcache: %s: memcached %s back in the ring (new generation)",
                            self._guard.name, server.name)
        finally:
            self._refreshing.release()

    def _refresh(self, new: str | None = None) -> None:
        """Read each live server's generation and the namespace token (or write a new one).

        The namespace token (``clear()``) is replicated on every server; tokens start with a
        timestamp, so the latest ``clear()`` wins, a server missing it is given the winner,
        and a backend never goes back to an older token than the one it uses.  A server
        whose own generation changed (another client fenced it after an outage, or it
        restarted) is adopted: values stamped with the old one stop matching.
        """
        first = not self._servers_known()
        if not self._refreshing.acquire(blocking=first or new is not None):
            return
        try:
            seen: list[tuple[_Server, bytes | None]] = []
            for server in list(self._servers.values()):
                if server.dead_until is not None:
                    continue
                try:
                    got = self._talk(server, _get_cmd, [self._gen_key, self._srv_key])
                    gen = got.get(self._srv_key, (0, b""))[1]
                    if not gen:  # new or restarted server (or the key evicted): a fresh one
                        gen = self._new_token().encode()
                        if not self._talk(server, _add_cmd, (self._srv_key, gen, 0, 0)):
                            gen = self._talk(server, _get_cmd, [self._srv_key]).get(
                                self._srv_key, (0, gen))[1]
                except _ServerFailing:
                    continue
                if gen != server.gen:
                    with self._lock:
                        server.gen = gen
                        self._rebuild()
                seen.append((server, got.get(self._gen_key, (0, b""))[1] or None))
            # never back to an older token: keys written under a newer one would be
            # superseded by what an older one still holds (a server that had missed the
            # newer token, or that is out of the ring, must not bring the older one back)
            current = self._token
            if new is None:
                tokens = [t.decode("ascii", "replace") for _, t in seen if t]
                new = max([*tokens, current]) if tokens or current else self._first_token(seen)
            elif new <= current:  # clear() with a clock behind the current token
                new = current + "0"
            for server, token in seen:
                if token != new.encode():
                    _quiet(self._talk, server, _set_cmd, ([(self._gen_key, new.encode(), 0)], 0))
            self._token = new
            self._gen_head = f"{self._head}{new}:"
            self._gen_checked = time.monotonic()
        finally:
            self._refreshing.release()

    def _first_token(self, seen: list[tuple[_Server, bytes | None]]) -> str:
        """A token where there is none yet: ``add``-ed on one server, the one first by name
        among those that answered, so that backends starting together agree on it.

        Each with its own, they would move to the newest one by one, and one still on an
        older token would read what an owner wrote there before moving on: a value older
        than an acknowledged write, with no server hurt.
        """
        new = self._new_token()
        if seen:
            server = min((s for s, _ in seen), key=lambda s: s.name)
            try:
                if not self._talk(server, _add_cmd, (self._gen_key, new.encode(), 0, 0)):
                    found = self._talk(server, _get_cmd, [self._gen_key]).get(self._gen_key)
                    if found and found[1]:
                        new = found[1].decode("ascii", "replace")
            except _ServerFailing:
                pass  # our own; should others differ, the newest wins (see _refresh)
        return new

    def _servers_known(self) -> bool:
        return all(s.gen or s.dead_until is not None for s in self._servers.values())

    @staticmethod
    def _new_token() -> str:
        return f"{time.time_ns():016x}{secrets.token_hex(4)}"

    # -- calls ------------------------------------------------------------------------------

    def _talk(self, server: _Server, command: Callable[[_Reply, _A], _T], arg: _A) -> _T:
        """``command`` on one server, with its failures counted (``_ServerFailing``)."""
        if server.failures and time.monotonic() < server.retry_at:
            raise _ServerFailing(f"memcached {server.name} is failing; retried after "
                                 f"{self._retry_timeout} s")
        x = self._x
        try:
            result = _converse(server.client, command, arg)
        except (OSError, x.MemcacheUnexpectedCloseError) as e:
            self._failed(server, e)
            raise _ServerFailing(f"memcached {server.name}: {e or type(e).__name__}") from e
        except (x.MemcacheServerError, x.MemcacheClientError) as e:
            text = str(e)
            if "too large" in text or "non-numeric" in text or "invalid numeric" in text:
                raise ValueError(text) from e
            raise
        if server.failures:
            with self._lock:
                server.failures = 0
        return result

    def _route(self, mkeys: Iterable[str]) -> tuple[_View, dict[_Server, list[str]]]:
        view = self._current()
        if not view.holders:
            raise _AllServersDown("every memcached server is out of the ring")
        holders = view.holders
        batches: dict[_Server, list[str]] = {}
        for k in mkeys:
            server = holders[_slot(k)]
            batch = batches.get(server)
            if batch is None:
                batches[server] = batch = []
            batch.append(k)
        return view, batches

    def _holder(self, mkey: str) -> tuple[_View, _Server]:
        view = self._current()
        if not view.holders:
            raise _AllServersDown("every memcached server is out of the ring")
        return view, view.holders[_slot(mkey)]

    def _each(self, batches: dict[_Server, list[_I]], command: Callable[[_Reply, list[_I]], _T],
              op: str) -> list[_T]:
        """``command`` on each server's batch; a failing server: raise, or skip if degrading."""
        results: list[_T] = []
        error: _ServerFailing | None = None
        for server, batch in batches.items():
            try:
                results.append(self._talk(server, command, batch))
            except _ServerFailing as e:
                error = e
        if error is not None:
            if not self._guard.degrade or len(results) == 0:
                raise error
            log.warning("fastcache: %s: %s (degraded: that server's keys %s)", self._guard.name,
                        error, "miss" if op == "get" else "skipped")
        return results

    def _run(self, op: str, fallback: object, fn: Callable[..., Any], *args: Any) -> Any:
        return self._guard.run(op, fallback, fn, *args)

    def _fresh(self, mkey: str, flags: int) -> bool:
        """Is a value stored with ``flags`` at ``mkey`` current (see ``_View``)?"""
        view = self._view  # the view at the time of checking, not of sending
        return bool(view.stamps) and view.stamps[_slot(mkey)] == flags

    def get(self, key: str, default: object = MISSING) -> object:
        """The value at ``key``, else ``default``."""
        mkey = self._key(key)
        found = self._run("get", {}, self._get_many, [mkey]).get(mkey)
        if found is None or not self._fresh(mkey, found[0]):
            return default
        return self.codec.decode_or(found[1], default, key)

    def _get_many(self, mkeys: list[str]) -> dict[str, tuple[int, bytes]]:
        _, batches = self._route(mkeys)
        found: dict[str, tuple[int, bytes]] = {}
        for part in self._each(batches, _get_cmd, "get"):
            found.update(part)
        return found

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """One ``get k1 k2 ...`` per server."""
        by_mkey = {self._key(k): k for k in keys}
        if not by_mkey:
            return {}
        raw = self._run("get_many", {}, self._get_many, list(by_mkey))
        decode, fresh = self.codec.decode_or, self._fresh
        return {user: v for mkey, (flags, data) in raw.items()
                if fresh(mkey, flags)
                and (v := decode(data, MISSING, user := by_mkey[mkey])) is not MISSING}

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` (``set``)."""
        self.set_many({key: value}, ttl)

    def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """One batch of ``set`` commands per server."""
        exptime = _expire(ttl)
        encode = self.codec.encode
        items = {self._key(k): encode(v, k) for k, v in mapping.items()}
        if items:
            self._run("set", None, self._set_many, items, exptime)

    def _set_many(self, items: dict[str, bytes], exptime: int) -> None:
        view, batches = self._route(items)
        stamps = view.stamps
        self._each({server: [(k, items[k], stamps[_slot(k)]) for k in batch]
                    for server, batch in batches.items()},
                   lambda reply, batch: _set_cmd(reply, (batch, exptime)), "set")
        self._acknowledge(view, items)

    def _acknowledge(self, view: _View, mkeys: Iterable[str]) -> None:
        """A write counts only if the ring did not move its keys while it was under way.

        Otherwise it may have landed on a server that readers no longer ask (or been
        stamped with a generation they no longer accept): its outcome is unknown, so it
        is ``BackendUnavailable``, never an acknowledgement that a read could contradict.
        """
        now = self._view
        if now is not view and (not now.stamps or any(
                now.stamps[_slot(k)] != view.stamps[_slot(k)] for k in mkeys)):
            raise _ServerFailing("the ring changed during the write; outcome unknown")

    def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent (memcached ``add``; a value of an older generation is absent)."""
        mkey = self._key(key)
        data = self.codec.encode(value, key)
        return bool(self._run("add", False, self._add, mkey, data, _expire(ttl)))

    def _add(self, mkey: str, data: bytes, exptime: int) -> bool:
        for _ in range(10):
            view, server = self._holder(mkey)
            if self._talk(server, _add_cmd, (mkey, data, view.stamps[_slot(mkey)], exptime)):
                self._acknowledge(view, [mkey])
                return True
            if not self._drop_stale(server, mkey):
                return False
        raise BackendUnavailable(f"{self._guard.name}: add of {mkey!r} kept meeting stale values")

    def _drop_stale(self, server: _Server, mkey: str) -> bool:
        """Delete the value at ``mkey`` if it is of an older generation (CAS-guarded)."""
        reply = self._talk(server, _meta_cmd, f"mg {mkey} f c")
        if not reply.startswith(b"HD"):
            return True  # gone meanwhile: try again
        meta = _meta_flags(reply)
        if self._fresh(mkey, int(meta.get(b"f", b"0"))):
            return False
        self._talk(server, _meta_cmd, f"md {mkey} C{meta.get(b'c', b'0').decode()}")
        return True

    def delete(self, key: str) -> bool:
        """``delete``; True if a current value existed."""
        return self.delete_many([key]) == 1

    def delete_many(self, keys: Iterable[str]) -> int:
        """One batch of ``delete`` commands per server; how many keys existed."""
        mkeys = list(dict.fromkeys(self._key(k) for k in keys))
        if not mkeys:
            return 0
        return int(self._run("delete_many", 0, self._delete_many, mkeys))

    def _delete_many(self, mkeys: list[str]) -> int:
        # meta delete returns nothing about the value, so ask first which were current
        view, batches = self._route(mkeys)
        deleted = 0
        for part in self._each(batches, _delete_cmd, "delete"):
            deleted += sum(1 for mkey, flags in part if self._fresh(mkey, flags))
        self._acknowledge(view, mkeys)
        return deleted

    def incr(self, key: str, delta: int = 1) -> int:
        """memcached ``incr``/``decr`` (unsigned 64-bit; absent key: from 0, no expiry)."""
        if type(delta) is not int:
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        mkey = self._key(key)
        return int(self._run("incr", RAISE, self._incr, key, mkey, delta))

    def _incr(self, key: str, mkey: str, delta: int) -> int:
        for _ in range(10):
            view, server = self._holder(mkey)
            if not self._drop_stale(server, mkey):  # a current value: count on it
                value = self._talk(server, _incr_cmd, (mkey, delta))
                if value is not None:
                    self._acknowledge(view, [mkey])
                    return value
            start = max(delta, 0)
            if self._talk(server, _add_cmd, (mkey, b"%d" % start, view.stamps[_slot(mkey)], 0)):
                self._acknowledge(view, [mkey])
                return start
        raise RuntimeError(f"counter {key!r} keeps appearing and disappearing")

    def _meta(self, mkey: str, flags: str) -> dict[bytes, bytes] | None:
        """Meta ``mg`` of a current value (its returned flags), None if absent or stale."""
        reply = self._talk(self._holder(mkey)[1], _meta_cmd, f"mg {mkey} f {flags}".strip())
        if not reply.startswith(b"HD"):
            return None
        meta = _meta_flags(reply)
        return meta if self._fresh(mkey, int(meta.get(b"f", b"0"))) else None

    def expire(self, key: str, ttl: float | None) -> bool:
        """``touch`` (meta ``mg T``); True if a current value exists."""
        return self._run("expire", False, self._meta, self._key(key),
                         f"T{_expire(ttl)}") is not None

    def ttl(self, key: str) -> float | None:
        """Remaining seconds (meta ``mg <key> t``); None without expiry; ``KeyError`` if absent."""
        meta = self._run("ttl", None, self._meta, self._key(key), "t")
        if meta is None:
            raise KeyError(key)
        seconds = int(meta[b"t"])
        # the server's clock ticks once a second and we stored ttl + 1 (see _expire)
        return None if seconds < 0 else float(max(seconds - 1, 0))

    def exists(self, key: str) -> bool:
        """True if a current value is at ``key`` (meta ``mg``, no value transferred)."""
        return self._run("exists", None, self._meta, self._key(key), "") is not None

    def clear(self) -> None:
        """Start a new generation: every key written before becomes unreachable."""
        self._run("clear", None, self._refresh, self._new_token())

    def close(self) -> None:
        """Close every server connection."""
        for server in self._servers.values():
            server.client.close()

    # -- raw access (tests, tools) -----------------------------------------------------------

    def _raw_get(self, mkey: str) -> tuple[bytes, int]:
        """The stored bytes and flags at the server key ``mkey`` (``KeyError`` if absent)."""
        flags, data = self._get_many([mkey])[mkey]
        return data, flags

    def _raw_set(self, mkey: str, data: bytes, flags: int | None = None) -> None:
        """Store bytes at the server key ``mkey`` as they are (flags: the current stamp)."""
        view, server = self._holder(mkey)
        if flags is None:
            flags = view.stamps[_slot(mkey)]
        self._talk(server, _set_cmd, ([(mkey, data, flags)], 0))


_RECV = 256 * 1024


class _Reply:
    """Buffered reader of one server reply (lines and data blocks), parsed with bytes.find."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def _fill(self, need: int) -> None:
        from pymemcache.exceptions import (  # type: ignore[import-untyped]
            MemcacheUnexpectedCloseError,
        )

        chunk = self.sock.recv(max(_RECV, need))
        if not chunk:
            raise MemcacheUnexpectedCloseError()
        self.buf += chunk

    def line(self) -> bytes:
        """The next line, without its CRLF."""
        end = self.buf.find(b"\r\n", self.pos)
        while end < 0:
            self._fill(0)
            end = self.buf.find(b"\r\n", self.pos)
        line = bytes(self.buf[self.pos:end])
        self.pos = end + 2
        return line

    def block(self, size: int) -> bytes:
        """The next ``size`` bytes of data and their CRLF."""
        stop = self.pos + size
        while len(self.buf) < stop + 2:
            self._fill(stop + 2 - len(self.buf))
        data = bytes(self.buf[self.pos:stop])
        self.pos = stop + 2
        return data


def _unexpected(line: bytes) -> Exception:
    from pymemcache import exceptions as x  # type: ignore[import-untyped]

    error: Exception
    if line.startswith(b"SERVER_ERROR"):
        error = x.MemcacheServerError(line.decode(errors="replace"))
    elif line.startswith(b"CLIENT_ERROR"):
        error = x.MemcacheClientError(line.decode(errors="replace"))
    else:
        error = x.MemcacheUnknownError(line[:32])
    return error


def _get_cmd(reply: _Reply, mkeys: list[str]) -> dict[str, tuple[int, bytes]]:
    reply.sock.sendall(b"get " + " ".join(mkeys).encode("ascii") + b"\r\n")
    found: dict[str, tuple[int, bytes]] = {}
    while True:
        line = reply.line()
        if line == b"END":
            return found
        if not line.startswith(b"VALUE "):
            raise _unexpected(line)
        key, flags, size = line[6:].split()[:3]
        found[key.decode("ascii")] = (int(flags), reply.block(int(size)))


def _set_cmd(reply: _Reply, arg: tuple[list[tuple[str, bytes, int]], int]) -> None:
    items, exptime = arg
    reply.sock.sendall(b"".join(
        b"set %s %d %d %d\r\n%s\r\n" % (k.encode("ascii"), flags, exptime, len(data), data)
        for k, data, flags in items))
    for _ in items:
        line = reply.line()
        if line != b"STORED":
            raise _unexpected(line)


def _add_cmd(reply: _Reply, arg: tuple[str, bytes, int, int]) -> bool:
    mkey, data, flags, exptime = arg
    reply.sock.sendall(b"add %s %d %d %d\r\n%s\r\n" % (mkey.encode("ascii"), flags, exptime,
                                                          len(data), data))
    line = reply.line()
    if line not in (b"STORED", b"NOT_STORED"):
        raise _unexpected(line)
    return line == b"STORED"


def _delete_cmd(reply: _Reply, mkeys: list[str]) -> list[tuple[str, int]]:
    """Delete ``mkeys``; the (key, flags) of those that existed (their flags first, by ``mg``)."""
    reply.sock.sendall(b"".join(b"mg %s f\r\ndelete %s\r\n" % ((k.encode("ascii"),) * 2)
                                for k in mkeys))
    existed: list[tuple[str, int]] = []
    for k in mkeys:
        meta, line = reply.line(), reply.line()
        if line not in (b"DELETED", b"NOT_FOUND") or not meta.startswith((b"HD", b"EN")):
            raise _unexpected(meta if line in (b"DELETED", b"NOT_FOUND") else line)
        if line == b"DELETED" and meta.startswith(b"HD"):
            existed.append((k, int(_meta_flags(meta).get(b"f", b"0"))))
    return existed


def _incr_cmd(reply: _Reply, arg: tuple[str, int]) -> int | None:
    mkey, delta = arg
    verb = b"incr" if delta >= 0 else b"decr"
    reply.sock.sendall(b"%s %s %d\r\n" % (verb, mkey.encode("ascii"), abs(delta)))
    line = reply.line()
    if line == b"NOT_FOUND":
        return None
    if not line.isdigit():
        raise _unexpected(line)
    return int(line)


def _meta_cmd(reply: _Reply, command: str) -> bytes:
    """One meta command without a value in its reply (``mg`` without ``v``, ``md``)."""
    reply.sock.sendall(command.encode("ascii") + b"\r\n")
    line = reply.line()
    if line[:2] not in (b"HD", b"EN", b"NF", b"EX"):
        raise _unexpected(line)
    return line


def _meta_flags(line: bytes) -> dict[bytes, bytes]:
    """``{b"f": b"123", b"t": b"-1"}`` from a meta reply ``HD f123 t-1``."""
    return {token[:1]: token[1:] for token in line.split()[1:]}


def _converse(client: Any, command: Callable[[_Reply, _A], _T], arg: _A) -> _T:
    """Run one command (or a batch) on one server's pooled pymemcache connection.

    pymemcache validates every key again and parses replies line by line in Python (~5 us a
    key); our keys are safe by construction and ``bytes.find`` does the parsing.  Any error
    closes the connection (as pymemcache does).
    """
    with client.client_pool.get_and_release(destroy_on_fail=True) as conn:
        try:
            if conn.sock is None:
                conn._connect()
            return command(_Reply(conn.sock), arg)
        except Exception:
            conn.close()
            raise


def _server(spec: tuple[str, int] | str) -> tuple[str, int]:
    if isinstance(spec, str):
        host, _, port = spec.rpartition(":")
        return (host, int(port))
    return (spec[0], int(spec[1]))


def _quiet(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or None if it fails (a failing server is counted by ``_talk``)."""
    try:
        return fn(*args)
    except Exception:
        return None


class AsyncMemcachedBackend(AsyncBackend):
    """The asyncio twin of ``MemcachedBackend``: the same backend run in a thread pool.

    Same arguments as ``MemcachedBackend`` plus ``max_workers`` (threads, default 4); the
    sync backend is ``.sync``.  Sync and async processes see the same keys on the same servers.
    """

    def __init__(self, servers: Iterable[tuple[str, int] | str] = (("127.0.0.1", 11211),), *,
                 max_workers: int = 4, **options: Any) -> None:
        self.sync = MemcachedBackend(servers, **options)
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="fastcache-memcached")
        self._closed = False

    @property
    def namespace(self) -> Namespace:
        """The key namespace (prefix and version)."""
        return self.sync.namespace

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker."""
        return self.sync.breaker

    @property
    def client(self) -> dict[str, Any]:
        """The pymemcache ``PooledClient`` of each server, by ``"host:port"``."""
        return self.sync.client

    async def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    async def server_of(self, key: str) -> str | None:
        """``"host:port"`` of the server now holding ``key`` (None: every server is down)."""
        return await self._in_thread(self.sync.server_of, key)

    async def get(self, key: str, default: object = MISSING) -> object:
        """The value at ``key``, else ``default``."""
        return await self._in_thread(self.sync.get, key, default)

    async def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value``."""
        await self._in_thread(self.sync.set, key, value, ttl)

    async def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent; True if stored."""
        return await self._in_thread(self.sync.add, key, value, ttl)

    async def delete(self, key: str) -> bool:
        """True if the key existed."""
        return await self._in_thread(self.sync.delete, key)

    async def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """One ``get`` batch per server."""
        return await self._in_thread(self.sync.get_many, list(keys))

    async def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """One ``set`` batch per server."""
        await self._in_thread(self.sync.set_many, dict(mapping), ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """How many of ``keys`` existed."""
        return await self._in_thread(self.sync.delete_many, list(keys))

    async def incr(self, key: str, delta: int = 1) -> int:
        """memcached ``incr``/``decr``."""
        return await self._in_thread(self.sync.incr, key, delta)

    async def expire(self, key: str, ttl: float | None) -> bool:
        """``touch``; True if the key exists."""
        return await self._in_thread(self.sync.expire, key, ttl)

    async def ttl(self, key: str) -> float | None:
        """Remaining seconds; None without expiry; ``KeyError`` if absent."""
        return await self._in_thread(self.sync.ttl, key)

    async def exists(self, key: str) -> bool:
        """True if ``key`` is present."""
        return await self._in_thread(self.sync.exists, key)

    async def clear(self) -> None:
        """Start a new generation of the namespace."""
        await self._in_thread(self.sync.clear)

    async def close(self) -> None:
        """Close the connections and stop the thread pool (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await self._in_thread(self.sync.close)
        self._pool.shutdown(wait=False)

