"""Serialisers and the Codec: round trips, untrusted bytes, signed pickle, compression."""

from __future__ import annotations

import collections
import datetime
import enum
import logging
import os
import pickle
import re
import zlib
import zoneinfo
from typing import Any

import pytest

from fastcache.serializers import (
    Codec,
    JSONSerializer,
    MsgpackSerializer,
    PickleSerializer,
    SerializationError,
    SignedSerializer,
    default_serializer,
    versioned_key,
)
from tests.backends.support import Exploding

SAFE_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2**64, -(2**100), 0.25, float("inf"), "", "\u00e9\U0001f600",
    b"", b"\x00\x01\xff", [], [1, [2, [3]]], {}, {"a": 1, 2: "int key", "b": [b"x", None]},
    {"nested": {"deep": {"deeper": [True, 1.5, "s"]}}},
]
SECRET = b"0123456789abcdef-secret"


@pytest.fixture(params=["msgpack", "json"])
def safe(request: pytest.FixtureRequest) -> Any:
    return MsgpackSerializer() if request.param == "msgpack" else JSONSerializer()


@pytest.mark.parametrize("value", SAFE_VALUES, ids=repr)
def test_safe_serializers_round_trip_types(safe: Any, value: Any) -> None:
    codec = Codec(safe)
    got = codec.decode(codec.encode(value))
    assert got == value and type(got) is type(value)


EXACT_VALUES: list[Any] = [
    (), (1, (2, 3)), [(1, 2), [3]], {(1, 2): "tuple key", ("a", (b"b",)): [(), ()]},
    (2**70, -(2**70)), datetime.datetime(2026, 12, 3, 22, 30, 1, 5),
    datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    datetime.date(1999, 12, 31), {"when": [datetime.date(2000, 1, 1)]},
]


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return (len(a) == len(b) and all(_same(k, k2) and _same(a[k], b[k2])
                                         for k, k2 in zip(a, b, strict=True)))
    if isinstance(a, datetime.datetime):
        return a == b and a.tzinfo == b.tzinfo
    return bool(a == b)


@pytest.mark.parametrize("value", EXACT_VALUES, ids=repr)
def test_tuples_and_datetimes_round_trip_exactly(safe: Any, value: Any) -> None:
    codec = Codec(safe)
    assert _same(codec.decode(codec.encode(value)), value)


Point = collections.namedtuple("Point", "x y")


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


@pytest.mark.parametrize("value", [
    {1, 2}, frozenset(), object(), Exception("x"), Point(1, 2), Colour.RED, Name("x"),
    collections.OrderedDict(a=1), collections.defaultdict(list), [1, {"deep": {1}}],
    {(1, Point(1, 2)): 1}, datetime.datetime(2026, 1, 1, tzinfo=zoneinfo.ZoneInfo("UTC")),
    datetime.time(1, 2), datetime.timedelta(1), 1.5j,
], ids=lambda v: re.sub(r" at 0x[0-9a-f]+", "", repr(v)))  # the same ids in every process
def test_what_cannot_come_back_exactly_is_refused_on_write(safe: Any, value: Any) -> None:
    with pytest.raises(TypeError):
        Codec(safe).encode(value)


def test_bytes_like_values_come_back_as_bytes(safe: Any) -> None:
    codec = Codec(safe)
    for value in (bytearray(b"ab"), memoryview(b"ab")):
        assert _same(codec.decode(codec.encode([value])), [b"ab"])


@pytest.mark.parametrize("garbage", [b"M\xc7\x01\x02x", b"M\xc7\x02\x03xy", b"M\xd4\x04x",
                                     b"M\xc7\x02\x02\xc1\xc1", b'J["T","never"]', b'J["D",1]',
                                     b'J["t",1]'])
def test_corrupt_extensions_are_serialization_errors(garbage: bytes) -> None:
    serializer = MsgpackSerializer() if garbage[:1] == b"M" else JSONSerializer()
    with pytest.raises(SerializationError):
        Codec(serializer).decode(garbage)


@pytest.mark.parametrize("garbage", [b"M\xc1", b"M\x92\x01", b"J{", b'J["x", 1]', b'J{"a": 1}',
                                     b"M\xd4\x07\x00", b"Q...", b"\x00", b"Zxx", b"12a"])
def test_garbage_is_a_serialization_error(garbage: bytes) -> None:
    for serializer in (MsgpackSerializer(), JSONSerializer()):
        codec = Codec(serializer)
        if garbage[:1] in (b"M", b"J") and garbage[:1] != serializer.tag:
            continue
        with pytest.raises(SerializationError):
            codec.decode(garbage)


def test_ints_are_stored_as_decimal_text_for_server_counters() -> None:
    codec = Codec()
    assert codec.encode(42) == b"42" and codec.encode(-7) == b"-7"
    assert codec.decode(b"1234") == 1234
    assert codec.encode(True) != b"1"  # bool stays a bool


def test_default_serializer_is_msgpack_when_installed() -> None:
    assert isinstance(default_serializer(), MsgpackSerializer)


def test_compression_above_threshold_only() -> None:
    codec = Codec(compress_threshold=100)
    small, big = "x" * 10, "y" * 10_000
    assert codec.encode(small)[:1] == b"M"
    packed = codec.encode(big)
    assert packed[:1] == b"Z" and len(packed) < 200
    assert codec.decode(packed) == big
    random_bytes = os.urandom(500)
    assert codec.encode(random_bytes)[:1] == b"M"  # incompressible: stored as is


def test_decompression_bomb_is_refused() -> None:
    bomb = b"Z" + zlib.compress(b"M" + b"\x00" * 10_000_000)
    with pytest.raises(SerializationError, match="max_size"):
        Codec(max_size=1_000_000).decode(bomb)


def test_signed_pickle_round_trip_and_rotation() -> None:
    value = {"set": {1, 2}, "tuple": (1, 2), "obj": ValueError("x").args}
    old = PickleSerializer(b"old-secret-0123456789")
    new = PickleSerializer(SECRET, old_secrets=(b"old-secret-0123456789",))
    assert Codec(new).decode(Codec(new).encode(value)) == value
    assert Codec(new).decode(Codec(old).encode(value)) == value  # still readable
    with pytest.raises(SerializationError):
        Codec(old).decode(Codec(new).encode(value))


def test_unsigned_or_tampered_pickle_is_never_loaded(caplog: pytest.LogCaptureFixture) -> None:
    codec = Codec(PickleSerializer(SECRET))
    Exploding.loaded = False
    unsigned = b"P" + pickle.dumps(Exploding())
    signed = bytearray(codec.encode("harmless"))
    signed[-3] ^= 0x01
    forged = b"P" + b"\x00" * 32 + pickle.dumps(Exploding())
    for data in (unsigned, bytes(signed), forged, b"P", b"P" + b"\x00" * 31):
        with pytest.raises(SerializationError, match="signature"):
            codec.decode(data)
        with caplog.at_level(logging.WARNING, "fastcache.serializers"):
            assert codec.decode_or(data, "miss", "k") == "miss"
        assert "refused" in caplog.text
    assert Exploding.loaded is False


def test_safe_codec_refuses_pickles() -> None:
    signed = Codec(PickleSerializer(SECRET)).encode([1])
    with pytest.raises(SerializationError, match="format"):
        Codec().decode(signed)


def test_bad_serializer_configuration() -> None:
    with pytest.raises(ValueError):
        PickleSerializer(b"short")
    with pytest.raises(TypeError):
        PickleSerializer(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Codec(object())  # type: ignore[arg-type]

    class DigitTag(JSONSerializer):
        tag = b"7"

    with pytest.raises(ValueError):
        Codec(DigitTag())
    with pytest.raises(ValueError):
        Codec(compress_threshold=-1)


@pytest.fixture(params=["pickle", "signed-msgpack", "signed-json"])
def signed(request: pytest.FixtureRequest) -> Any:
    if request.param == "pickle":
        return PickleSerializer(SECRET)
    inner = MsgpackSerializer() if request.param == "signed-msgpack" else JSONSerializer()
    return SignedSerializer(inner, SECRET)


def test_signature_is_bound_to_the_full_key(signed: Any) -> None:
    v1 = Codec(signed, namespace="app:1:")
    v2 = Codec(signed, namespace="app:2:")
    other = Codec(signed, namespace="other:1:")
    stored = v1.encode({"admin": True}, "perm:alice")
    assert v1.decode(stored, "perm:alice") == {"admin": True}
    for codec, key in ((v1, "perm:mallory"), (v2, "perm:alice"), (other, "perm:alice"),
                       (v1, "perm:alic")):
        with pytest.raises(SerializationError, match="signature"):
            codec.decode(stored, key)


def test_a_per_key_version_in_the_key_refuses_rollback(signed: Any) -> None:
    codec = Codec(signed, namespace="app:1:")
    old = codec.encode("balance 10", versioned_key("acct:7", 1))
    assert codec.decode(old, versioned_key("acct:7", 1)) == "balance 10"
    with pytest.raises(SerializationError):
        codec.decode(old, versioned_key("acct:7", 2))


def test_signed_wrapper_refuses_tampering_and_the_other_inner_codec() -> None:
    as_msgpack = Codec(SignedSerializer(MsgpackSerializer(), SECRET))
    as_json = Codec(SignedSerializer(JSONSerializer(), SECRET))
    data = as_msgpack.encode([1, (2,)], "k")
    assert as_msgpack.decode(data, "k") == [1, (2,)]
    with pytest.raises(SerializationError, match="inner"):
        as_json.decode(data, "k")
    tampered = bytearray(data)
    tampered[-1] ^= 1
    with pytest.raises(SerializationError, match="signature"):
        as_msgpack.decode(bytes(tampered), "k")
    with pytest.raises(TypeError):
        SignedSerializer(PickleSerializer(SECRET), SECRET)
    with pytest.raises(ValueError, match="16 bytes"):
        SignedSerializer(MsgpackSerializer(), b"short")


def test_old_custom_serializers_without_the_key_still_work() -> None:
    class Upper:
        tag = b"U"

        def dumps(self, value: Any) -> bytes:
            return str(value).upper().encode()

        def loads(self, data: bytes) -> Any:
            return data.decode()

    codec = Codec(Upper(), namespace="ns:1:")
    assert codec.decode(codec.encode("abc", "k"), "k") == "ABC"
    assert codec.decode_or(codec.encode("x", "k"), None, "k") == "X"


# -- the same on every backend ---------------------------------------------------------------

@pytest.mark.parametrize("codec", ["msgpack", "json"])
def test_every_backend_reads_back_what_it_accepted(backend_kind: tuple[str, str], codec: str,
                                                   make_backend: Any) -> None:
    serializer = MsgpackSerializer() if codec == "msgpack" else JSONSerializer()
    b = make_backend(*backend_kind, serializer=serializer)
    value = {(1, 2): "tuple key", "t": (1, (2, [3])), "when": datetime.date(2026, 12, 3)}
    b.set("tuples", value)
    assert _same(b.get("tuples"), value) and b.exists("tuples")
    b.set_many({"m1": (1,), "m2": [(2,)]})
    assert _same(b.get_many(["m1", "m2"]), {"m1": (1,), "m2": [(2,)]})
    for bad in ({1}, {"k": Point(1, 2)}, Colour.RED, collections.OrderedDict(a=1)):
        with pytest.raises(TypeError):
            b.set("bad", bad)
        with pytest.raises(TypeError):
            b.add("bad", bad)
        with pytest.raises(TypeError):
            b.set_many({"bad": bad})
        assert b.get("bad", "absent") == "absent" and not b.exists("bad")


@pytest.fixture(params=[(k, m) for k in ("memory", "redis", "cluster", "memcached")
                        for m in ("sync", "async")],
                ids=[f"{k}-{m}" for k in ("memory", "redis", "cluster", "memcached")
                     for m in ("sync", "async")])
def backend_kind(request: pytest.FixtureRequest) -> tuple[str, str]:
    kind, mode = request.param
    return kind, mode


def _copy_raw(src: Any, src_key: str, dst: Any, dst_key: str) -> None:
    """Copy the stored bytes of ``src_key`` to ``dst_key``, as someone with server access can."""
    a, b = getattr(src, "inner", src), getattr(dst, "inner", dst)
    if src.kind == "memory":
        a, b = getattr(a, "sync", a), getattr(b, "sync", b)
        b._cache[dst_key] = a._cache[src_key]
    elif src.kind == "memcached":
        a, b = getattr(a, "sync", a), getattr(b, "sync", b)
        b._raw_set(b._key(dst_key), a._raw_get(a._key(src_key))[0])  # stamped to fit
    elif src.mode == "async":
        data = src.loop.run_until_complete(a.client.get(a.namespace.head + src_key))
        src.loop.run_until_complete(b.client.set(b.namespace.head + dst_key, data))
    else:
        b.client.set(b.namespace.head + dst_key, a.client.get(a.namespace.head + src_key))


@pytest.mark.parametrize("codec", ["pickle", "signed-msgpack"])
def test_every_backend_refuses_a_signed_value_moved_to_another_key(
        backend_kind: tuple[str, str], codec: str, make_backend: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    serializer: Any = (PickleSerializer(SECRET) if codec == "pickle"
                       else SignedSerializer(MsgpackSerializer(), SECRET))
    b = make_backend(*backend_kind, serializer=serializer)
    b.set("perm:alice", {"admin": True})
    b.set("perm:mallory", {"admin": False})
    _copy_raw(b, "perm:alice", b, "perm:mallory")
    with caplog.at_level(logging.WARNING):
        assert b.get("perm:mallory", "miss") == "miss"
    assert "signature" in caplog.text
    assert b.get("perm:alice") == {"admin": True}
    if backend_kind[0] != "memory":  # another namespace version: a replay
        b2 = make_backend(*backend_kind, serializer=serializer,
                          prefix=b.namespace.prefix, version=2)
        b2.set("perm:alice", {"admin": False})
        _copy_raw(b, "perm:alice", b2, "perm:alice")
        with caplog.at_level(logging.WARNING):
            assert b2.get("perm:alice", "miss") == "miss"
