"""Serialisers and the Codec: round trips, untrusted bytes, signed pickle, compression."""

from __future__ import annotations

import logging
import os
import pickle
import zlib
from typing import Any

import pytest

from fastcache.serializers import (
    Codec,
    JSONSerializer,
    MsgpackSerializer,
    PickleSerializer,
    SerializationError,
    default_serializer,
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


def test_tuples_come_back_as_lists(safe: Any) -> None:
    assert Codec(safe).decode(Codec(safe).encode((1, (2, 3)))) == [1, [2, 3]]


def test_unsupported_types_are_refused_on_write(safe: Any) -> None:
    for value in ({1, 2}, object(), Exception("x")):
        with pytest.raises(TypeError):
            Codec(safe).encode(value)


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
