"""Memcached specifics: one batch per server, safe keys, generations, server limits."""

from __future__ import annotations

import collections
import contextlib
import socket
import threading
import time
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from fastcache.backends import (
    MISSING,
    AsyncMemcachedBackend,
    BackendUnavailable,
    MemcachedBackend,
)
from fastcache.backends.memcached import _add_cmd, _expire, _set_cmd, _slot
from tests.servers import MemcachedServers


def counting_socket_module(counter: collections.Counter[int]) -> Any:
    """A ``socket`` module whose sockets count ``sendall`` calls per server port."""

    class CountingSocket(socket.socket):
        def sendall(self, data: Any, flags: int = 0) -> None:
            counter[self.getpeername()[1]] += 1
            super().sendall(data, flags)

    module = types.SimpleNamespace(**vars(socket))
    module.socket = CountingSocket
    return module


def test_get_many_is_one_round_trip_per_server(memcached_servers: MemcachedServers) -> None:
    sent: collections.Counter[int] = collections.Counter()
    b = MemcachedBackend(memcached_servers.addresses, prefix="rt",
                         socket_module=counting_socket_module(sent))
    keys = [f"k{i}" for i in range(1000)]
    b.set_many({k: i for i, k in enumerate(keys)})
    b.get("warm-the-generation")
    sent.clear()
    assert b.get_many(keys) == {k: i for i, k in enumerate(keys)}
    assert set(sent) == {s.port for s in memcached_servers.servers}
    assert all(v == 1 for v in sent.values()), sent
    sent.clear()
    b.set_many({k: -i for i, k in enumerate(keys)})
    assert all(v == 1 for v in sent.values()), sent
    sent.clear()
    assert b.delete_many([*keys, "absent"]) == 1000
    assert all(v == 1 for v in sent.values()), sent
    assert b.get_many(keys) == {}
    b.close()


def test_unsafe_keys_map_to_stable_safe_keys(memcached_servers: MemcachedServers) -> None:
    b1 = MemcachedBackend(memcached_servers.addresses, prefix="keys")
    b2 = MemcachedBackend(memcached_servers.addresses, prefix="keys")
    unsafe = ["k" * 251, "k" * 10_000, "a b", "tab\t", "nl\n", "nul\x00", "del\x7f",
              "\u00e9t\u00e9", "\U0001f600"]
    for i, key in enumerate(unsafe):
        b1.set(key, i)
        mkey = b1._key(key)
        assert len(mkey.encode()) <= 250 and mkey.isascii() and mkey.isprintable()
        assert " " not in mkey
    assert [b2.get(k) for k in unsafe] == list(range(len(unsafe)))  # stable across instances
    assert b2.get_many(unsafe) == {k: i for i, k in enumerate(unsafe)}
    assert b1._key("k" * 251) != b1._key("k" * 252)
    b1.set("k" * 200, "fits as is")
    assert b1._key("k" * 200).endswith("k" * 200)
    b1.close()
    b2.close()


def test_clear_reaches_other_instances_within_the_refresh(
        memcached_servers: MemcachedServers) -> None:
    writer = MemcachedBackend(memcached_servers.addresses, prefix="gen", generation_refresh=0.2)
    reader = MemcachedBackend(memcached_servers.addresses, prefix="gen", generation_refresh=0.2)
    other = MemcachedBackend(memcached_servers.addresses, prefix="gen2")
    writer.set("k", 1)
    other.set("k", "other namespace")
    assert reader.get("k") == 1
    writer.clear()
    assert writer.get("k") is MISSING  # at once in the clearing instance
    time.sleep(0.25)
    assert reader.get("k") is MISSING  # after generation_refresh elsewhere
    assert other.get("k") == "other namespace"
    reader.set("k", 2)
    assert writer.get("k") == 2
    for b in (writer, reader, other):
        b.close()


def test_backends_starting_together_make_one_namespace_token(
        memcached_servers: MemcachedServers) -> None:
    """Two backends whose first calls overlap (processes started together) both find no
    namespace token: they must end up with one, not one each.  With one each, they and the
    backends started after them converge on the newest token one by one, and one that is
    still on the older token reads what an owner wrote there before it moved on: a value
    older than that owner's acknowledged write (the fault test's x-stale before any fault)."""
    addresses, prefix = memcached_servers.addresses, f"together{uuid.uuid4().hex[:8]}"
    owner = MemcachedBackend(addresses, prefix=prefix, generation_refresh=0)
    other = MemcachedBackend(addresses, prefix=prefix, generation_refresh=0)
    talk, overlapped = owner._talk, []

    def talk_overlapping(server: Any, command: Any, arg: Any) -> Any:
        # the owner has found no token and is about to store its own: the other starts now
        if not overlapped and command in (_add_cmd, _set_cmd) and owner._gen_key in repr(arg):
            overlapped.append(command)
            other.get("k")
        return talk(server, command, arg)

    owner._talk = talk_overlapping
    assert owner.get("k") is MISSING
    assert overlapped
    reader = MemcachedBackend(addresses, prefix=prefix, generation_refresh=3600)
    owner.set("k", 1)
    assert reader.get("k") == 1
    other.get("k")  # both refresh: never a token older than their own
    owner.set("k", 2)
    assert reader.get("k") in (2, MISSING)  # never 1: the write of 2 was acknowledged
    for b in (owner, other, reader):
        b.close()


def test_restarted_server_gets_the_generation_back(
        private_memcached_servers: MemcachedServers) -> None:
    servers = private_memcached_servers
    b = MemcachedBackend(servers.addresses, prefix="g", generation_refresh=0.1,
                         retry_attempts=0, dead_timeout=0.2, timeout=0.5, connect_timeout=0.5,
                         on_failure="degrade")
    data = {f"k{i}": i for i in range(100)}
    b.set_many(data)
    gen = b._gen_head
    servers.servers[0].kill()
    servers.servers[0].restart()
    time.sleep(0.3)
    for _ in range(3):
        b.get_many(list(data))  # the failed connection, then the server back in the ring
        time.sleep(0.25)
    assert b._gen_head == gen  # the surviving servers' token won; nothing was cleared
    got = b.get_many(list(data))
    assert got and all(got[k] == data[k] for k in got)
    b.close()


def test_value_too_large_is_a_value_error(memcached_servers: MemcachedServers) -> None:
    b = MemcachedBackend(memcached_servers.addresses, prefix="big")
    with pytest.raises(ValueError, match="too large"):
        b.set("k", b"x" * (3 * 1024 * 1024))
    b.close()


def test_ttl_conversion() -> None:
    assert _expire(None) == 0
    assert _expire(0.2) == 2 and _expire(1) == 2 and _expire(59.5) == 61
    far = _expire(40 * 24 * 3600)
    assert abs(far - (time.time() + 40 * 24 * 3600 + 1)) < 5  # absolute past 30 days


def test_async_and_sync_share_placement(memcached_servers: MemcachedServers) -> None:
    import asyncio

    sync = MemcachedBackend(memcached_servers.addresses, prefix="mix")
    sync.set_many({f"k{i}": i for i in range(200)})

    async def read() -> dict[str, object]:
        async with AsyncMemcachedBackend(memcached_servers.addresses, prefix="mix") as a:
            return await a.get_many([f"k{i}" for i in range(200)])

    assert asyncio.run(read()) == {f"k{i}": i for i in range(200)}
    sync.close()


# -- failover: fenced rejoin (never an overwritten value), thread safety -----------------------

def _more_calls(calls: list[int], n: int) -> Callable[[], bool]:
    start = calls[0]
    return lambda: calls[0] > start + n


def _wait(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _keys_on(b: MemcachedBackend, port: int, n: int, prefix: str = "k") -> list[str]:
    keys = [f"{prefix}{i}" for i in range(2000)]
    return [k for k in keys if b.server_of(k) == f"127.0.0.1:{port}"][:n]


def test_a_server_back_from_an_outage_never_serves_what_was_overwritten(
        private_memcached_servers: MemcachedServers) -> None:
    servers = private_memcached_servers
    victim = servers.servers[0]
    b = MemcachedBackend(servers.addresses, prefix="fence", timeout=0.3, connect_timeout=0.3,
                         retry_attempts=0, retry_timeout=0.1, dead_timeout=0.5)
    overwritten, deleted, untouched = (_keys_on(b, victim.port, 3, p) for p in "odu")
    b.set_many({k: "old" for k in overwritten + deleted + untouched})
    assert b.get_many(overwritten + deleted) == {k: "old" for k in overwritten + deleted}
    victim.freeze()
    with contextlib.suppress(BackendUnavailable):  # the call that meets the outage
        b.set(overwritten[0], "new")
    _wait(lambda: b.server_of(overwritten[0]) != f"127.0.0.1:{victim.port}", what="failover")
    for k in overwritten:
        b.set(k, "new")  # acknowledged, by a stand-in server
    assert b.delete_many(deleted) == 0  # nothing there yet on the stand-in
    assert b.get_many(overwritten + deleted) == {k: "new" for k in overwritten}
    victim.thaw()  # it still holds "old" for every key
    _wait(lambda: b.server_of(overwritten[0]) == f"127.0.0.1:{victim.port}", what="rejoin")
    for k in overwritten:
        assert b.get(k) in ("new", MISSING)  # never "old"
    for k in deleted + untouched:
        assert b.get(k) is MISSING and not b.exists(k)
    assert b.add(deleted[0], "added")  # a stale value is absent for add too
    assert b.incr(untouched[0]) == 1  # and for a counter
    b.set(overwritten[0], "newer")
    assert b.get(overwritten[0]) == "newer"
    b.close()


def test_a_stand_in_value_never_outlives_its_outage(
        private_memcached_servers: MemcachedServers) -> None:
    """Outage 1: a key is written to a stand-in; back; rewritten; outage 2: the stand-in's
    copy from outage 1 is older than the last write, so it must not be served."""
    servers = private_memcached_servers
    victim = servers.servers[0]
    b = MemcachedBackend(servers.addresses, prefix="fence2", timeout=0.3, connect_timeout=0.3,
                         retry_attempts=0, retry_timeout=0.1, dead_timeout=0.5)
    key = _keys_on(b, victim.port, 1)[0]
    home = b.server_of(key)
    for value in ("during outage 1", None):
        victim.freeze()
        with contextlib.suppress(BackendUnavailable):
            b.get(key)
        _wait(lambda: b.server_of(key) != home, what="failover")
        if value is not None:
            b.set(key, value)
            assert b.get(key) == value
            victim.thaw()
            _wait(lambda: b.server_of(key) == home, what="rejoin")
            b.set(key, "after outage 1")
            assert b.get(key) == "after outage 1"
    assert b.get(key) is MISSING  # not "during outage 1"
    victim.thaw()
    b.close()


@pytest.mark.parametrize("on_failure", ["raise", "degrade"])
def test_threads_sharing_a_backend_through_failovers_see_only_backend_unavailable(
        private_memcached_servers: MemcachedServers, on_failure: str) -> None:
    servers = private_memcached_servers
    b = MemcachedBackend(servers.addresses, prefix="threads", timeout=0.2, connect_timeout=0.2,
                         retry_attempts=1, retry_timeout=0.05, dead_timeout=0.2,
                         on_failure=on_failure)
    errors: collections.Counter[str] = collections.Counter()
    done = threading.Event()
    calls = [0]

    def worker(n: int) -> None:
        i = 0
        while not done.is_set():
            key = f"k{(n * 7919 + i) % 300}"
            i += 1
            try:
                if i % 3:
                    b.get(key)
                else:
                    b.set_many({key: i, f"{key}x": i}) if i % 2 else b.delete(key)
                calls[0] += 1
            except BackendUnavailable:
                errors["BackendUnavailable"] += 1
            except Exception as e:  # pragma: no cover - the bug this test is about
                errors[f"{type(e).__name__}: {e}"] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    try:
        for round_ in range(6):
            victim = servers.servers[round_ % 3]
            if round_ % 2:
                victim.freeze()
                _wait(_more_calls(calls, 200), what="calls during the freeze")
                victim.thaw()
            else:
                victim.kill()
                _wait(_more_calls(calls, 200), what="calls while down")
                victim.restart()
            _wait(_more_calls(calls, 200), what="calls after recovery")
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert set(errors) <= {"BackendUnavailable"}, errors
    if on_failure == "degrade":
        assert not errors
    b.close()


def test_a_second_stand_in_never_serves_what_the_first_one_overwrote(
        private_memcached_servers: MemcachedServers) -> None:
    """Key ranked s0 > s1 > s2.  s0 and s1 out: written to s2; s1 back: rewritten there;
    s1 out again (s0 still out): the key is on s2 again, whose copy is older."""
    servers = private_memcached_servers
    b = MemcachedBackend(servers.addresses, prefix="fence3", timeout=0.3, connect_timeout=0.3,
                         retry_attempts=0, retry_timeout=0.1, dead_timeout=0.5)
    names = [f"127.0.0.1:{s.port}" for s in servers.servers]
    key = next(k for k in (f"k{i}" for i in range(5000))
               if b._ranks[_slot(b._key(k))] == tuple(names))

    def out(*which: int) -> None:
        for i in which:
            servers.servers[i].freeze()
        holder = names[max(which) + 1]
        _wait(lambda: _touch(b, key) == holder, what=f"failover to {holder}")

    try:
        out(0, 1)
        b.set(key, "old")  # on s2, standing in for s0 and s1
        servers.servers[1].thaw()
        _wait(lambda: _touch(b, key) == names[1], what="s1 back")
        b.set(key, "new")  # on s1, standing in for s0
        assert b.get(key) == "new"
        out(1)
        assert b.get(key) in (MISSING, "new")  # never "old"
    finally:
        for s in servers.servers:
            s.thaw()
        b.close()


def _touch(b: MemcachedBackend, key: str) -> str | None:
    """The server holding ``key`` after one call (which lets the backend notice failures)."""
    with contextlib.suppress(BackendUnavailable):
        b.get(key)
    return b.server_of(key)
