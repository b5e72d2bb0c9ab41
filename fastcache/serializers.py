"""Value serialisers for the remote backends, and the ``Codec`` that frames their output.

A stored value is bytes in one of these forms (the first byte says which):

- ``b"-"`` or an ASCII digit: an ``int`` written in decimal, so the server's own counters
  (Redis ``INCRBY``, memcached ``incr``) work on values stored with ``set``;
- the serialiser's tag byte followed by its payload: ``b"M"`` msgpack, ``b"J"`` JSON,
  ``b"P"`` signed pickle;
- ``b"Z"`` followed by zlib-compressed bytes of the form above (when compression is on and
  the payload reached the threshold).

The default serialiser (``default_serializer()``: msgpack if installed, else JSON) is safe on
untrusted bytes: decoding runs no user code and builds only ``None``, ``bool``, ``int``,
``float``, ``str``, ``bytes``, ``list`` and ``dict`` (tuples come back as lists).
``PickleSerializer`` handles any picklable object but only loads a payload whose
HMAC-SHA256 signature (made with the secret) checks out: a tampered or unsigned value is a
``SerializationError``, which the backends turn into a miss and a logged warning.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import pickle
import zlib
from typing import Any, Protocol, runtime_checkable

from ._optional import require
from .exceptions import SerializationError

__all__ = [
    "Codec",
    "JSONSerializer",
    "MsgpackSerializer",
    "PickleSerializer",
    "SerializationError",
    "Serializer",
    "default_serializer",
]

log = logging.getLogger("fastcache.serializers")


@runtime_checkable
class Serializer(Protocol):
    """Turns values into bytes and back.  ``tag`` is one ASCII letter naming the format.

    ``loads`` must raise ``SerializationError`` for bytes it cannot decode.
    """

    tag: bytes

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` (``TypeError`` for a value of a type the format cannot hold)."""
        ...

    def loads(self, data: bytes) -> Any:
        """Decode bytes produced by ``dumps``."""
        ...


# -- msgpack ---------------------------------------------------------------------------------

_EXT_BIGINT = 1


def _msgpack_default(obj: object) -> object:
    import msgpack  # type: ignore[import-untyped]

    if type(obj) is int:  # outside msgpack's 64-bit range
        return msgpack.ExtType(_EXT_BIGINT, str(obj).encode("ascii"))
    raise TypeError(f"cannot serialise {type(obj).__name__} with msgpack")


def _msgpack_ext_hook(code: int, data: bytes) -> object:
    if code == _EXT_BIGINT:
        try:
            return int(data.decode("ascii"))
        except ValueError as e:
            raise SerializationError("corrupt big integer") from e
    raise SerializationError(f"unknown msgpack extension type {code}")


class MsgpackSerializer:
    """msgpack with ``bytes``/``str`` kept apart and integers of any size."""

    tag = b"M"

    def __init__(self) -> None:
        msgpack = require("msgpack", "msgpack", feature="MsgpackSerializer")
        self._packer = msgpack.Packer(use_bin_type=True, default=_msgpack_default)
        self._unpackb = msgpack.unpackb
        self._errors = (ValueError, TypeError, msgpack.UnpackException)

    def dumps(self, value: Any) -> bytes:
        """msgpack bytes of ``value``."""
        out: bytes = self._packer.pack(value)
        return out

    def loads(self, data: bytes) -> Any:
        """The value encoded in ``data`` (``SerializationError`` if corrupt)."""
        try:
            return self._unpackb(data, raw=False, strict_map_key=False,
                                 ext_hook=_msgpack_ext_hook)
        except SerializationError:
            raise
        except self._errors as e:
            raise SerializationError(f"corrupt msgpack data: {e}") from e
        except RecursionError as e:
            raise SerializationError("msgpack data nested too deeply") from e


# -- JSON ------------------------------------------------------------------------------------

def _to_json(obj: object) -> object:
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return ["b", base64.b64encode(bytes(obj)).decode("ascii")]
    if isinstance(obj, (list, tuple)):
        return ["l", [_to_json(v) for v in obj]]
    if isinstance(obj, dict):
        return ["d", [[_to_json(k), _to_json(v)] for k, v in obj.items()]]
    if isinstance(obj, (bool, int, float, str)):  # subclasses: store the base value
        for base in (bool, int, float, str):
            if isinstance(obj, base):
                return base(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} with JSON")


def _from_json(obj: object) -> object:
    if not isinstance(obj, list):
        if isinstance(obj, dict):
            raise SerializationError("untagged JSON object")
        return obj
    if len(obj) != 2:
        raise SerializationError("malformed tagged JSON value")
    tag, body = obj
    if tag == "l" and isinstance(body, list):
        return [_from_json(v) for v in body]
    if tag == "d" and isinstance(body, list):
        out: dict[Any, object] = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise SerializationError("malformed tagged JSON mapping")
            out[_from_json(pair[0])] = _from_json(pair[1])
        return out
    if tag == "b" and isinstance(body, str):
        return base64.b64decode(body.encode("ascii"), validate=True)
    raise SerializationError(f"unknown JSON tag {tag!r}")


class JSONSerializer:
    """JSON with type tags, so ``bytes``, lists and dicts with non-str keys round-trip."""

    tag = b"J"

    def dumps(self, value: Any) -> bytes:
        """Tagged JSON bytes of ``value``."""
        return json.dumps(_to_json(value), separators=(",", ":")).encode("utf-8")

    def loads(self, data: bytes) -> Any:
        """The value encoded in ``data`` (``SerializationError`` if corrupt)."""
        try:
            return _from_json(json.loads(data))
        except SerializationError:
            raise
        except (ValueError, TypeError, RecursionError) as e:
            raise SerializationError(f"corrupt JSON data: {e}") from e


def default_serializer() -> Serializer:
    """``MsgpackSerializer()`` when msgpack is installed, else ``JSONSerializer()``."""
    try:
        return MsgpackSerializer()
    except ImportError:
        return JSONSerializer()


# -- signed pickle ---------------------------------------------------------------------------

_MAC_SIZE = hashlib.sha256().digest_size


class PickleSerializer:
    """pickle, signed with HMAC-SHA256; a payload is unpickled only if its signature checks.

    ``secret`` (bytes or str, at least 16 bytes) must be shared by every process reading the
    cache and kept out of the cache server.  ``old_secrets`` are still accepted for reading,
    so a secret can be rotated without a cold cache.
    """

    tag = b"P"

    def __init__(self, secret: bytes | str, *, old_secrets: tuple[bytes | str, ...] = (),
                 protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        self._keys = [self._key(s) for s in (secret, *old_secrets)]
        self._protocol = protocol

    @staticmethod
    def _key(secret: bytes | str) -> bytes:
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if not isinstance(secret, bytes):
            raise TypeError("secret must be bytes or str")
        if len(secret) < 16:
            raise ValueError("secret must be at least 16 bytes long")
        return secret

    def dumps(self, value: Any) -> bytes:
        """Signature followed by the pickle of ``value``."""
        payload = pickle.dumps(value, protocol=self._protocol)
        return hmac.new(self._keys[0], payload, hashlib.sha256).digest() + payload

    def loads(self, data: bytes) -> Any:
        """Unpickle ``data`` if (and only if) its signature is valid."""
        mac, payload = data[:_MAC_SIZE], data[_MAC_SIZE:]
        if len(mac) != _MAC_SIZE or not any(
                hmac.compare_digest(mac, hmac.new(k, payload, hashlib.sha256).digest())
                for k in self._keys):
            raise SerializationError("pickled value has a bad or missing signature; not loaded")
        try:
            return pickle.loads(payload)
        except Exception as e:  # signed by us, so only a version mismatch gets here
            raise SerializationError(f"signed pickle could not be loaded: {e}") from e


# -- framing ---------------------------------------------------------------------------------

_INT_FIRST = frozenset(b"-0123456789")
_ZLIB = b"Z"
_ZLIB_BYTE = _ZLIB[0]


class Codec:
    """Frames values for a backend: plain ints, the serialiser's tag, optional zlib.

    ``compress_threshold``: payloads of at least this many bytes are zlib-compressed (None:
    never).  ``max_size``: a compressed value that would inflate beyond this many bytes is
    refused (a decompression bomb from a shared server).
    """

    def __init__(self, serializer: Serializer | None = None, *,
                 compress_threshold: int | None = None, compress_level: int = 6,
                 max_size: int = 512 * 1024 * 1024) -> None:
        if serializer is None:
            serializer = default_serializer()
        if not isinstance(serializer, Serializer):
            raise TypeError("serializer must have tag, dumps and loads")
        tag = serializer.tag
        if len(tag) != 1 or tag[0] in _INT_FIRST or tag == _ZLIB:
            raise ValueError(f"serializer tag must be one byte, not a digit, '-' or 'Z': {tag!r}")
        if compress_threshold is not None and compress_threshold < 0:
            raise ValueError("compress_threshold must be >= 0 or None")
        self.serializer = serializer
        self._tag = tag
        self._tag_byte = tag[0]
        self._dumps = serializer.dumps
        self._loads = serializer.loads
        self._threshold = compress_threshold
        self._level = compress_level
        self._max_size = max_size

    def encode(self, value: object) -> bytes:
        """The bytes to store for ``value``."""
        if type(value) is int:
            return b"%d" % value
        data = self._tag + self._dumps(value)
        if self._threshold is not None and len(data) >= self._threshold:
            packed = zlib.compress(data, self._level)
            if len(packed) + 1 < len(data):
                return _ZLIB + packed
        return data

    def decode(self, data: bytes) -> object:
        """The value stored as ``data``; ``SerializationError`` if it cannot be trusted."""
        if not data:
            raise SerializationError("empty stored value")
        first = data[0]
        if first == self._tag_byte:
            return self._loads(data[1:])
        if first in _INT_FIRST:
            try:
                return int(data)
            except ValueError as e:
                raise SerializationError("corrupt integer value") from e
        if first == _ZLIB_BYTE:
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(data[1:], self._max_size)
            except zlib.error as e:
                raise SerializationError(f"corrupt compressed value: {e}") from e
            if inflater.unconsumed_tail:
                raise SerializationError("compressed value inflates beyond max_size")
            if data[:1] == self._tag:
                return self._loads(data[1:])
        raise SerializationError(
            f"stored value is not in this codec's format (first byte {data[:1]!r})")

    def decode_or(self, data: bytes, default: object, key: str) -> object:
        """``decode(data)``, or ``default`` with a logged warning if it cannot be trusted."""
        try:
            if data[:1] == self._tag:  # the common case, without the call to decode()
                return self._loads(data[1:])
            return self.decode(data)
        except SerializationError as e:
            log.warning("fastcache: value at %r refused, treated as a miss: %s", key, e)
            return default
