"""The backend protocol, checked on every backend (memory, redis, cluster, memcached) x
(sync, async) against real servers."""

from __future__ import annotations

import importlib
import math
import os
import time
from typing import Any

import pytest

from fastcache.backends import MISSING
from tests.backends.support import TTL_SLACK, assert_same_faces

VALUES = [
    b"", b"\x00\xff\r\n binary", "", "unicode \u00e9\u4e2d\U0001f600", 0, -7, 2**63, -(2**80),
    1.5, -0.0, math.inf, None, True, False, [], {}, [1, "a", b"b", None, [2.5]],
    {"k": {"nested": [True, None]}, "n": 1},
]


def test_missing_and_stored_none_are_distinct(backend: Any) -> None:
    assert backend.get("absent") is MISSING
    assert backend.get("absent", "dflt") == "dflt"
    backend.set("none", None)
    assert backend.get("none", "dflt") is None
    assert backend.exists("none") and not backend.exists("absent")


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_round_trip(backend: Any, value: object) -> None:
    backend.set("v", value)
    got = backend.get("v")
    assert got == value and type(got) is type(value)
    assert backend.get_many(["v", "nope"]) == {"v": value}


def test_one_megabyte_value(backend: Any) -> None:
    big = os.urandom(1024 * 1024)
    backend.set("big", big)
    assert backend.get("big") == big
    text = "\u00e9" * (512 * 1024)  # 1 MB of UTF-8
    backend.set("big", text)
    assert backend.get("big") == text


def test_keys_of_every_shape(backend: Any) -> None:
    keys = ["plain", "with space", "tab\tnewline\n", "\u00e9\u4e2d", "x" * 300, "{tag}k", ""]
    for i, key in enumerate(keys):
        backend.set(key, i)
    assert [backend.get(k) for k in keys] == list(range(len(keys)))
    assert backend.get_many(keys) == {k: i for i, k in enumerate(keys)}
    assert backend.get("x" * 299) is MISSING  # hashed long keys stay distinct


def test_non_str_key_is_a_type_error(backend: Any) -> None:
    # memcached's own message comes with its hardening (another branch)
    message = None if backend.kind == "memcached" else "backend keys must be str"
    for bad in (b"bytes", 1, None):
        for method, args in (("set", (bad, 1)), ("get", (bad,)), ("delete", (bad,)),
                             ("add", (bad, 1)), ("get_many", (["ok", bad],))):
            with pytest.raises(TypeError, match=message):
                getattr(backend, method)(*args)


def test_set_overwrites_and_delete(backend: Any) -> None:
    backend.set("k", 1)
    backend.set("k", "two")
    assert backend.get("k") == "two"
    assert backend.delete("k") is True
    assert backend.delete("k") is False
    assert backend.get("k") is MISSING


def test_add_only_when_absent(backend: Any) -> None:
    assert backend.add("k", "first") is True
    assert backend.add("k", "second") is False
    assert backend.get("k") == "first"
    backend.delete("k")
    assert backend.add("k", "third") is True
    assert backend.get("k") == "third"


def test_many_operations(backend: Any) -> None:
    data = {f"key{i}": {"i": i} for i in range(300)}
    backend.set_many(data)
    keys = [*data, "missing1", "missing2"]
    assert backend.get_many(keys) == data
    assert backend.get_many([]) == {}
    assert backend.delete_many(["key0", "key1", "missing1"]) == 2
    assert backend.get_many(["key0", "key1", "key2"]) == {"key2": {"i": 2}}
    assert backend.delete_many([]) == 0


def test_counters(backend: Any) -> None:
    assert backend.incr("c") == 1
    assert backend.incr("c", 10) == 11
    assert backend.decr("c", 4) == 7
    assert backend.get("c") == 7
    backend.set("d", 41)
    assert backend.incr("d") == 42
    assert backend.decr("new") == (0 if backend.kind == "memcached" else -1)
    backend.set("s", "text")
    with pytest.raises(ValueError):
        backend.incr("s")
    assert backend.get("s") == "text"
    with pytest.raises(TypeError):
        backend.incr("c", 1.5)


def test_bad_ttl_arguments(backend: Any) -> None:
    for bad in (0, -1, math.nan):
        with pytest.raises(ValueError):
            backend.set("k", 1, ttl=bad)
    for bad in ("1", True, [1]):
        with pytest.raises(TypeError):
            backend.set("k", 1, ttl=bad)
    assert backend.get("k") is MISSING
    backend.set("k", 1, ttl=math.inf)
    assert backend.ttl("k") is None


def test_ttl_expire_touch(backend: Any) -> None:
    backend.set("forever", 1)
    assert backend.ttl("forever") is None
    with pytest.raises(KeyError):
        backend.ttl("absent")
    backend.set("t", 1, ttl=30)
    assert 28 <= backend.ttl("t") <= 30
    assert backend.expire("t", 100) is True
    assert 98 <= backend.ttl("t") <= 100
    assert backend.touch("t", None) is True
    assert backend.ttl("t") is None
    assert backend.expire("absent", 10) is False
    backend.set("n", 5, ttl=50)
    backend.incr("n")
    assert backend.ttl("n") is not None  # a counter keeps its expiry


def test_keys_expire_on_the_server(backend: Any) -> None:
    slack = TTL_SLACK[backend.kind]
    backend.set("short", "v", ttl=1)
    backend.set_many({"m1": 1, "m2": 2}, ttl=1)
    assert backend.add("added", "a", ttl=1) is True
    backend.set("long", "w", ttl=60)
    backend.set("touched", "x", ttl=60)
    assert backend.expire("touched", 1) is True
    start = time.monotonic()
    assert backend.get("short") == "v"
    assert backend.get_many(["m1", "m2"]) == {"m1": 1, "m2": 2}
    time.sleep(max(0.0, 1.0 + slack - (time.monotonic() - start)) + 0.05)
    for key in ("short", "m1", "m2", "added", "touched"):
        assert backend.get(key) is MISSING, key
        assert not backend.exists(key)
    assert backend.add("added", "again") is True
    assert backend.get("long") == "w"


def test_clear_only_touches_this_namespace(backend: Any, make_backend: Any) -> None:
    other = make_backend(backend.kind, backend.mode)
    backend.set_many({f"a{i}": i for i in range(50)})
    other.set("mine", "kept")
    backend.clear()
    assert backend.get_many([f"a{i}" for i in range(50)]) == {}
    assert other.get("mine") == "kept"
    backend.set("after", 1)  # usable after clear
    assert backend.get("after") == 1


def test_version_bump_invalidates(remote_backend: Any, make_backend: Any) -> None:
    backend = remote_backend
    prefix = backend.namespace.prefix
    v1 = make_backend(backend.kind, backend.mode, prefix=prefix, version=1)
    v2 = make_backend(backend.kind, backend.mode, prefix=prefix, version=2)
    v1.set("k", "old")
    assert v2.get("k") is MISSING
    v2.set("k", "new")
    assert v1.get("k") == "old"


def test_context_manager(backend: Any) -> None:
    if backend.mode == "sync":
        with backend as b:
            b.set("k", 1)
            assert b.get("k") == 1
        return

    async def use() -> object:
        async with backend.inner as b:
            await b.set("k", 1)
            return await b.get("k")

    assert backend.loop.run_until_complete(use()) == 1


PAIRS = [
    ("fastcache.backends", "Backend"),
    ("fastcache.backends", "MemoryBackend"),
    ("fastcache.backends", "RedisBackend"),
    ("fastcache.backends", "RedisClusterBackend"),
    ("fastcache.backends", "MemcachedBackend"),
]


@pytest.mark.parametrize(("module", "name"), PAIRS, ids=[n for _, n in PAIRS])
def test_sync_and_async_faces_offer_the_same_methods(module: str, name: str) -> None:
    mod = importlib.import_module(module)
    assert_same_faces(getattr(mod, name), getattr(mod, "Async" + name))
