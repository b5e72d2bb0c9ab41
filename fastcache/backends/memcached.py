"""Memcached backend on pymemcache's ``HashClient`` (sync), and its asyncio twin.

    MemcachedBackend([("10.0.0.1", 11211), ("10.0.0.2", 11211), ("10.0.0.3", 11211)],
                     prefix="myapp", timeout=0.5, retry_attempts=2, retry_timeout=1.0,
                     dead_timeout=30.0)

Keys are spread over the servers by rendezvous (highest random weight) hashing over 4096
slots (``FastRendezvousHash``), so losing one server moves only its own keys. A server that
fails is retried ``retry_attempts`` times, ``retry_timeout`` seconds apart (in between, its
reads are misses and its writes are skipped); then it is dropped from the ring for
``dead_timeout`` seconds and its keys map to the others (failover: they are misses there
until written again). The call that meets the failure raises ``BackendUnavailable`` (or
degrades, with ``on_failure="degrade"``); the backend's circuit breaker opens only when
*every* server is gone.

``get_many``/``set_many`` send one command batch per server.  Keys longer than memcached's
250 bytes, or holding spaces, control or non-ASCII characters, are replaced by a stable
SHA-256 form (``<prefix>:<version>:<generation>#<hex>``), never refused by the server.

``clear()`` cannot enumerate keys, so the namespace carries a *generation* token stored on
every server: ``clear()`` writes a new one and every key of the old one becomes unreachable
(memcached evicts them in time).  Other processes see a ``clear()`` within
``generation_refresh`` seconds (default 1).

Memcached specifics: TTLs have 1-second resolution and are rounded up to whole seconds plus
one (a key never expires early; it may live up to 1 s longer); counters are memcached's
unsigned 64-bit ones (``decr`` stops at 0).  TLS: pass ``tls_context=ssl.SSLContext(...)``.

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

from ..serializers import Serializer
from ._remote import Namespace, RemoteBase
from .base import MISSING, AsyncBackend, Backend, BackendUnavailable, check_ttl
from .failure import RAISE, CircuitBreaker, OnFailure, log

__all__ = ["AsyncMemcachedBackend", "FastRendezvousHash", "MemcachedBackend"]

_T = TypeVar("_T")
_MAX_KEY = 250
_THIRTY_DAYS = 30 * 24 * 3600
_GEN_KEY = "__generation__"


class _AllServersDown(OSError):
    """HashClient has no live server left (it raises a bare MemcacheError)."""


_SLOTS = 4096


def _score(node: str, slot: int) -> bytes:
    return hashlib.blake2b(f"{node}-{slot}".encode(), digest_size=8).digest()


class FastRendezvousHash:
    """Rendezvous (highest random weight) hashing over 4096 slots, for ``HashClient``.

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


class MemcachedBackend(RemoteBase, Backend):
    """A ``Backend`` over one or more memcached servers (pymemcache ``HashClient``).

    ``servers``: ``(host, port)`` pairs or ``"host:port"`` strings.  ``timeout`` and
    ``connect_timeout`` bound every socket operation.  Other keyword arguments go to
    ``HashClient`` (``tls_context``, ``max_pool_size``, ``socket_module``, ...).
    """

    def __init__(self, servers: Iterable[tuple[str, int] | str] = (("127.0.0.1", 11211),), *,
                 client: Any = None, prefix: str = "fastcache", version: int | str = 1,
                 serializer: Serializer | None = None, compress_threshold: int | None = None,
                 timeout: float = 1.0, connect_timeout: float = 1.0,
                 retry_attempts: int = 2, retry_timeout: float = 1.0,
                 dead_timeout: float = 30.0, generation_refresh: float = 1.0,
                 on_failure: OnFailure = "raise", breaker: CircuitBreaker | None = None,
                 **client_options: Any) -> None:
        from pymemcache import exceptions as x  # type: ignore[import-untyped]

        if client is None:
            from pymemcache.client.hash import HashClient  # type: ignore[import-untyped]

            options: dict[str, Any] = {
                "connect_timeout": connect_timeout, "timeout": timeout,
                "retry_attempts": retry_attempts, "retry_timeout": retry_timeout,
                "dead_timeout": dead_timeout, "use_pooling": True, "default_noreply": False,
                "no_delay": True, "hasher": FastRendezvousHash}
            options.update(client_options)
            client = HashClient([_server(s) for s in servers], **options)
        self._client = client
        self._x = x
        self._setup(f"MemcachedBackend({len(client.clients)} servers)",
                    (OSError, x.MemcacheUnexpectedCloseError), prefix=prefix, version=version,
                    serializer=serializer, compress_threshold=compress_threshold,
                    on_failure=on_failure, breaker=breaker, breaker_errors=(_AllServersDown,))
        if len(self._head) > 100:
            raise ValueError("prefix and version too long for memcached keys")
        self._gen_key = self._head + _GEN_KEY
        self._gen_refresh = float(generation_refresh)
        self._gen_lock = threading.Lock()
        self._gen_checked = -math.inf
        self._gen_head = self._head + "-:"

    @property
    def client(self) -> Any:
        """The underlying pymemcache ``HashClient``."""
        return self._client

    # -- keys and generations --------------------------------------------------------------

    def _key(self, key: str) -> str:
        if time.monotonic() - self._gen_checked > self._gen_refresh:
            self._refresh_generation()
        full = self._gen_head + key
        if len(full) <= _MAX_KEY and full.isascii() and full.isprintable() and " " not in full:
            return full
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self._gen_head[:-1]}#{digest}"

    def _servers(self) -> list[Any]:
        return [c for k, c in self._client.clients.items()
                if k in self._client.hasher.nodes]

    def _refresh_generation(self, new: str | None = None) -> None:
        """Read (or with ``new``: write) the generation token replicated on every server.

        Tokens start with a timestamp, so the latest ``clear()`` wins; a server missing the
        token (restarted, or down during a ``clear()``) is given the winner.
        """
        with self._gen_lock:
            servers = self._servers()
            targets = servers
            if new is None:
                seen = [(s, _quiet(s.get, self._gen_key)) for s in servers]
                tokens = [t for _, t in seen if t]
                token = max(tokens) if tokens else self._new_token().encode()
                targets = [s for s, t in seen if t != token]
                new = token.decode("ascii", "replace")
            for server in targets:
                _quiet(server.set, self._gen_key, new.encode(), 0, False)
            self._gen_head = f"{self._head}{new}:"
            self._gen_checked = time.monotonic()

    @staticmethod
    def _new_token() -> str:
        return f"{time.time_ns():016x}{secrets.token_hex(4)}"

    # -- calls ------------------------------------------------------------------------------

    def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        x = self._x
        try:
            return fn(*args)
        except x.MemcacheUnexpectedCloseError:
            raise
        except (x.MemcacheServerError, x.MemcacheClientError) as e:
            text = str(e)
            if "too large" in text or "non-numeric" in text or "invalid numeric" in text:
                raise ValueError(text) from e
            raise
        except x.MemcacheError as e:
            if type(e) is x.MemcacheError:  # "All servers seem to be down right now"
                raise _AllServersDown(str(e)) from e
            raise

    def _run(self, op: str, fallback: object, fn: Callable[..., Any], *args: Any) -> Any:
        return self._guard.run(op, fallback, self._call, fn, *args)

    def get(self, key: str, default: object = MISSING) -> object:
        """The value at ``key``, else ``default``."""
        mkey = self._key(key)
        data = self._run("get", {}, self._get_many, [mkey]).get(mkey)
        if data is None:
            return default
        return self.codec.decode_or(data, default, key)

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` (``set``)."""
        self._run("set", None, self._client.set, self._key(key),
                  self.codec.encode(value, key), _expire(ttl))

    def add(self, key: str, value: object, ttl: float | None = None) -> bool:
        """Store only if absent (memcached ``add``); True if stored."""
        return bool(self._run("add", False, self._client.add, self._key(key),
                              self.codec.encode(value, key), _expire(ttl)))

    def delete(self, key: str) -> bool:
        """``delete``; True if the key existed."""
        return bool(self._run("delete", False, self._client.delete, self._key(key)))

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """One ``get k1 k2 ...`` per server."""
        by_mkey = {self._key(k): k for k in keys}
        if not by_mkey:
            return {}
        raw = self._run("get_many", {}, self._get_many, list(by_mkey))
        decode = self.codec.decode_or
        return {user: v for mkey, data in raw.items()
                if (v := decode(data, MISSING, user := by_mkey[mkey])) is not MISSING}

    def _get_many(self, mkeys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for client, batch in self._batches(mkeys):
            found.update(self._client._safely_run_func(client, _converse, {}, client, _get_cmd,
                                                       batch))
        return found

    def _batches(self, mkeys: list[str]) -> list[tuple[Any, list[str]]]:
        # HashClient's grouping, minus its per-key validation (our keys are safe already)
        hc = self._client
        if hc._dead_clients:
            hc._retry_dead()
        get_node = hc.hasher.get_node
        batches: dict[str | None, list[str]] = {}
        for k in mkeys:
            node = get_node(k)
            batch = batches.get(node)
            if batch is None:
                batches[node] = batch = []
            batch.append(k)
        if None in batches:
            raise _AllServersDown("All servers seem to be down right now")
        return [(hc.clients[node], batch) for node, batch in batches.items()]

    def delete_many(self, keys: Iterable[str]) -> int:
        """One batch of ``delete`` commands per server; how many keys existed."""
        mkeys = list(dict.fromkeys(self._key(k) for k in keys))
        if not mkeys:
            return 0
        return int(self._run("delete_many", 0, self._delete_many, mkeys))

    def _delete_many(self, mkeys: list[str]) -> int:
        return sum(self._client._safely_run_func(client, _converse, 0, client, _delete_cmd, batch)
                   for client, batch in self._batches(mkeys))

    def set_many(self, mapping: Mapping[str, object], ttl: float | None = None) -> None:
        """One batch of ``set`` commands per server."""
        exptime = _expire(ttl)
        encode = self.codec.encode
        items = {self._key(k): encode(v, k) for k, v in mapping.items()}
        if items:
            failed = self._run("set_many", None, self._client.set_many, items, exptime)
            if failed:
                log.warning("fastcache: %s: %d of %d keys not stored (failing server)",
                            self._guard.name, len(failed), len(items))

    def incr(self, key: str, delta: int = 1) -> int:
        """memcached ``incr``/``decr`` (unsigned 64-bit; absent key: from 0, no expiry)."""
        if type(delta) is not int:
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        mkey = self._key(key)
        fn = self._client.incr if delta >= 0 else self._client.decr
        for _ in range(10):
            value = self._run("incr", RAISE, fn, mkey, abs(delta))
            if value is False:  # HashClient's stand-in while the server is being retried
                raise BackendUnavailable(f"{self._guard.name}: the server holding {key!r} "
                                         "is failing; counter not changed")
            if value is not None:
                return int(value)
            start = max(delta, 0)
            if self._run("incr", RAISE, self._client.add, mkey, b"%d" % start, 0):
                return start
        raise RuntimeError(f"counter {key!r} keeps appearing and disappearing")

    def expire(self, key: str, ttl: float | None) -> bool:
        """``touch``; True if the key exists."""
        return bool(self._run("expire", False, self._client.touch, self._key(key),
                              _expire(ttl)))

    def _meta(self, op: str, mkey: str, flags: str) -> bytes:
        server = self._client._get_client(mkey)
        if server is None:
            return b"EN"
        out: bytes = self._client._safely_run_func(
            server, server.raw_command, b"EN", f"mg {mkey} {flags}".strip(), "\r\n")
        return out

    def ttl(self, key: str) -> float | None:
        """Remaining seconds (meta ``mg <key> t``); None without expiry; ``KeyError`` if absent."""
        reply = self._run("ttl", b"EN", self._meta, "ttl", self._key(key), "t")
        if not reply.startswith(b"HD"):
            raise KeyError(key)
        seconds = int(reply.split(b" t", 1)[1].split()[0])
        # the server's clock ticks once a second and we stored ttl + 1 (see _expire)
        return None if seconds < 0 else float(max(seconds - 1, 0))

    def exists(self, key: str) -> bool:
        """True if ``key`` is present (meta ``mg``, no value transferred)."""
        reply = self._run("exists", b"EN", self._meta, "exists", self._key(key), "")
        return bool(reply.startswith(b"HD"))

    def clear(self) -> None:
        """Start a new generation: every key written before becomes unreachable."""
        self._run("clear", None, self._refresh_generation, self._new_token())

    def close(self) -> None:
        """Close every server connection."""
        self._client.close()

    # -- raw access (tests, tools) -----------------------------------------------------------

    def _raw_get(self, mkey: str) -> tuple[bytes, int]:
        """The stored bytes and flags at the server key ``mkey`` (``KeyError`` if absent)."""
        server = self._client._get_client(mkey)
        data = server.get(mkey)
        if data is None:
            raise KeyError(mkey)
        return data, 0

    def _raw_set(self, mkey: str, data: bytes, flags: int) -> None:
        """Store bytes and flags at the server key ``mkey`` as they are."""
        self._client._get_client(mkey).set(mkey, data, 0, False, flags)


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
    from pymemcache import exceptions as x

    error: Exception
    if line.startswith(b"SERVER_ERROR"):
        error = x.MemcacheServerError(line.decode(errors="replace"))
    elif line.startswith(b"CLIENT_ERROR"):
        error = x.MemcacheClientError(line.decode(errors="replace"))
    else:
        error = x.MemcacheUnknownError(line[:32])
    return error


def _get_cmd(reply: _Reply, mkeys: list[str]) -> dict[str, bytes]:
    reply.sock.sendall(b"get " + " ".join(mkeys).encode("ascii") + b"\r\n")
    found: dict[str, bytes] = {}
    while True:
        line = reply.line()
        if line == b"END":
            return found
        if not line.startswith(b"VALUE "):
            raise _unexpected(line)
        key, _, size = line[6:].split()[:3]
        found[key.decode("ascii")] = reply.block(int(size))


def _delete_cmd(reply: _Reply, mkeys: list[str]) -> int:
    reply.sock.sendall(b"".join(b"delete %s\r\n" % k.encode("ascii") for k in mkeys))
    deleted = 0
    for _ in mkeys:
        line = reply.line()
        if line == b"DELETED":
            deleted += 1
        elif line != b"NOT_FOUND":
            raise _unexpected(line)
    return deleted


def _converse(client: Any, command: Callable[[_Reply, list[str]], _T], mkeys: list[str]) -> _T:
    """Run one batched command on one server's (pooled) pymemcache connection.

    pymemcache validates every key again and parses replies line by line in Python (~5 us a
    key); our keys are safe by construction and ``bytes.find`` does the parsing.  Any error
    closes the connection (as pymemcache does) and reaches HashClient's failure handling.
    """
    pool = getattr(client, "client_pool", None)
    if pool is None:
        return _converse_on(client, command, mkeys)
    with pool.get_and_release(destroy_on_fail=True) as conn:
        return _converse_on(conn, command, mkeys)


def _converse_on(conn: Any, command: Callable[[_Reply, list[str]], _T], mkeys: list[str]) -> _T:
    try:
        if conn.sock is None:
            conn._connect()
        return command(_Reply(conn.sock), mkeys)
    except Exception:
        conn.close()
        raise


def _server(spec: tuple[str, int] | str) -> tuple[str, int]:
    if isinstance(spec, str):
        host, _, port = spec.rpartition(":")
        return (host, int(port))
    return (spec[0], int(spec[1]))


def _quiet(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or None if the server fails (HashClient notices on its next call)."""
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
    def client(self) -> Any:
        """The underlying pymemcache ``HashClient``."""
        return self.sync.client

    async def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

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

