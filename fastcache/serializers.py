"""Value serialisers for the remote backends, and the ``Codec`` that frames their output.

A stored value is bytes in one of these forms (the first byte says which):

- ``b"-"`` or an ASCII digit: an ``int`` written in decimal, so the server's own counters
  (Redis ``INCRBY``, memcached ``incr``) work on values stored with ``set``;
- the serialiser's tag byte followed by its payload: ``b"M"`` msgpack, ``b"J"`` JSON,
  ``b"P"`` signed pickle, ``b"S"`` signed (another serialiser's tag and payload);
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
import datetime
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
    "SignedSerializer",
    "default_serializer",
    "versioned_key",
]

log = logging.getLogger("fastcache.serializers")


@runtime_checkable
class Serializer(Protocol):
    """Turns values into bytes and back.  ``tag`` is one ASCII letter naming the format.

    ``dumps`` must raise ``TypeError`` for a value it could not read back exactly, and
    ``loads`` ``SerializationError`` for bytes it cannot decode.  A serialiser whose output
    depends on the key (a signature bound to it) sets ``binds_key = True``: it is then
    called as ``dumps(value, key)`` and ``loads(data, key)`` with the full key (prefix,
    namespace version and key).  Serialisers without the attribute are called as before.
    """

    tag: bytes

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` (``TypeError`` for a value the format cannot give back exactly)."""
        ...

    def loads(self, data: bytes) -> Any:
        """Decode bytes produced by ``dumps``."""
        ...


# -- exact types --------------------------------------------------------------------------

def _refuse(obj: object, codec: str) -> TypeError:
    kind = type(obj)
    for base in (bool, int, float, str, bytes, tuple, list, dict):
        if isinstance(obj, base):
            return TypeError(
                f"cannot serialise {kind.__name__} with {codec}: it would come back as a plain "
                f"{base.__name__}; store {base.__name__}(value) if that is what you mean")
    return TypeError(f"cannot serialise {kind.__name__} with {codec}")


def _datetime_text(obj: datetime.datetime) -> str:
    if obj.tzinfo is not None and type(obj.tzinfo) is not datetime.timezone:
        raise TypeError(f"cannot serialise a datetime in time zone {obj.tzinfo!r}: only naive "
                        "datetimes and fixed offsets (datetime.timezone) come back exactly")
    return obj.isoformat()


def _datetime_from(text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError as e:
        raise SerializationError(f"corrupt datetime {text[:40]!r}") from e


def _date_from(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as e:
        raise SerializationError(f"corrupt date {text[:40]!r}") from e


# -- msgpack ---------------------------------------------------------------------------------

_EXT_BIGINT = 1
_EXT_TUPLE = 2
_EXT_DATETIME = 3
_EXT_DATE = 4


class MsgpackSerializer:
    """msgpack with ``bytes``/``str`` kept apart, and every value read back exactly.

    Beyond msgpack's own types: integers of any size, ``tuple`` (also as a dict key),
    ``datetime.datetime`` (naive or with a fixed ``datetime.timezone`` offset) and
    ``datetime.date`` travel as extension types and come back as themselves.  Anything
    else, subclasses included (a ``namedtuple``, an ``IntEnum``, an ``OrderedDict``,
    ``set``), is a ``TypeError`` at ``dumps``: it could not be read back as it was.
    ``bytearray`` and ``memoryview`` are stored as (and come back as) ``bytes``.
    """

    tag = b"M"

    def __init__(self) -> None:
        msgpack = require("msgpack", "msgpack", feature="MsgpackSerializer")
        self._msgpack = msgpack
        self._packer = msgpack.Packer(use_bin_type=True, strict_types=True,
                                      default=self._default)
        self._errors = (ValueError, TypeError, msgpack.UnpackException)

    def _default(self, obj: object) -> object:
        ext = self._msgpack.ExtType
        kind = type(obj)
        if kind is int:  # outside msgpack's 64-bit range
            return ext(_EXT_BIGINT, str(obj).encode("ascii"))
        if kind is tuple:  # a fresh packer: the one running is not reentrant
            return ext(_EXT_TUPLE, self._msgpack.packb(
                list(obj), use_bin_type=True, strict_types=True,  # type: ignore[call-overload]
                default=self._default))
        if kind is datetime.datetime:
            return ext(_EXT_DATETIME, _datetime_text(obj).encode("ascii"))  # type: ignore[arg-type]
        if kind is datetime.date:
            return ext(_EXT_DATE, obj.isoformat().encode("ascii"))  # type: ignore[attr-defined]
        raise _refuse(obj, "msgpack")

    def _ext_hook(self, code: int, data: bytes) -> object:
        try:
            if code == _EXT_BIGINT:
                return int(data.decode("ascii"))
            if code == _EXT_TUPLE:
                return tuple(self._unpack(data))
            if code == _EXT_DATETIME:
                return _datetime_from(data.decode("ascii"))
            if code == _EXT_DATE:
                return _date_from(data.decode("ascii"))
        except (ValueError, TypeError) as e:
            raise SerializationError(f"corrupt msgpack extension {code}: {e}") from e
        raise SerializationError(f"unknown msgpack extension type {code}")

    def _unpack(self, data: bytes) -> Any:
        return self._msgpack.unpackb(data, raw=False, strict_map_key=False,
                                     ext_hook=self._ext_hook)

    def dumps(self, value: Any) -> bytes:
        """msgpack bytes of ``value`` (``TypeError`` if it could not be read back exactly)."""
        out: bytes = self._packer.pack(value)
        return out

    def loads(self, data: bytes) -> Any:
        """The value encoded in ``data`` (``SerializationError`` if corrupt)."""
        try:
            return self._unpack(data)
        except SerializationError:
            raise
        except self._errors as e:
            raise SerializationError(f"corrupt msgpack data: {e}") from e
        except RecursionError as e:
            raise SerializationError("msgpack data nested too deeply") from e


# -- JSON ------------------------------------------------------------------------------------

def _to_json(obj: object) -> object:
    kind = type(obj)
    if obj is None or kind in (bool, int, float, str):
        return obj
    if kind is list:
        return ["l", [_to_json(v) for v in obj]]  # type: ignore[attr-defined]
    if kind is tuple:
        return ["t", [_to_json(v) for v in obj]]  # type: ignore[attr-defined]
    if kind is dict:
        return ["d", [[_to_json(k), _to_json(v)] for k, v in obj.items()]]  # type: ignore[attr-defined]
    if kind in (bytes, bytearray, memoryview):
        return ["b", base64.b64encode(bytes(obj)).decode("ascii")]  # type: ignore[call-overload]
    if kind is datetime.datetime:
        return ["T", _datetime_text(obj)]  # type: ignore[arg-type]
    if kind is datetime.date:
        return ["D", obj.isoformat()]  # type: ignore[attr-defined]
    raise _refuse(obj, "JSON")


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
    if tag == "t" and isinstance(body, list):
        return tuple(_from_json(v) for v in body)
    if tag == "d" and isinstance(body, list):
        out: dict[Any, object] = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise SerializationError("malformed tagged JSON mapping")
            out[_from_json(pair[0])] = _from_json(pair[1])
        return out
    if tag == "b" and isinstance(body, str):
        return base64.b64decode(body.encode("ascii"), validate=True)
    if tag == "T" and isinstance(body, str):
        return _datetime_from(body)
    if tag == "D" and isinstance(body, str):
        return _date_from(body)
    raise SerializationError(f"unknown JSON tag {tag!r}")


class JSONSerializer:
    """JSON with type tags: every value it accepts is read back exactly.

    Tags keep ``bytes``, ``tuple`` (also as a dict key), dicts with non-str keys,
    ``datetime.datetime`` (naive or fixed offset) and ``datetime.date`` apart from lists and
    strings.  As with msgpack, anything else, subclasses included, is a ``TypeError`` at
    ``dumps``; ``bytearray``/``memoryview`` come back as ``bytes``.
    """

    tag = b"J"

    def dumps(self, value: Any) -> bytes:
        """Tagged JSON bytes of ``value`` (``TypeError`` if it could not be read back)."""
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


# -- signing ----------------------------------------------------------------------------------

_MAC_SIZE = hashlib.sha256().digest_size
_MAC_DOMAIN = b"fastcache-mac-v2\x00"


def _secret(secret: bytes | str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes):
        raise TypeError("secret must be bytes or str")
    if len(secret) < 16:
        raise ValueError("secret must be at least 16 bytes long (32 random bytes recommended: "
                         "secrets.token_bytes(32))")
    return secret


class _Signer:
    """HMAC-SHA256 over (the full key, the payload), with old secrets still accepted."""

    def __init__(self, secret: bytes | str, old_secrets: tuple[bytes | str, ...]) -> None:
        self._secrets = [_secret(s) for s in (secret, *old_secrets)]

    @staticmethod
    def _mac(secret: bytes, key: str, payload: bytes) -> bytes:
        k = key.encode("utf-8", "surrogatepass")
        mac = hmac.new(secret, _MAC_DOMAIN, hashlib.sha256)
        mac.update(len(k).to_bytes(8, "big"))  # length first: key and payload cannot blur
        mac.update(k)
        mac.update(payload)
        return mac.digest()

    def sign(self, payload: bytes, key: str) -> bytes:
        return self._mac(self._secrets[0], key, payload) + payload

    def verify(self, data: bytes, key: str) -> bytes:
        mac, payload = data[:_MAC_SIZE], data[_MAC_SIZE:]
        if len(mac) != _MAC_SIZE or not any(
                hmac.compare_digest(mac, self._mac(s, key, payload)) for s in self._secrets):
            raise SerializationError(
                "value has a bad or missing signature for this key (tampered, unsigned, or "
                "copied from another key or namespace version); not loaded")
        return payload


class PickleSerializer:
    """pickle, signed with HMAC-SHA256 bound to the key; unpickled only if the MAC checks.

    The MAC covers the full key (prefix, namespace version and key: the backends pass it),
    so a value copied to another key or replayed into another namespace version is refused
    like a tampered one (``SerializationError``: a miss and a logged warning for a backend).
    It cannot tell an older signed value *of the same key* from the current one: whoever can
    write to the server can roll a key back to a value it once held.  Where you have a
    per-key version (a row's version column, an ``updated_at``), put it in the key
    (``versioned_key(key, version)``): the MAC then binds it, and a reader asking for the
    current version never accepts an older one.

    ``secret`` (bytes or str, at least 16 bytes; 32 random bytes recommended) must be shared
    by every process reading the cache and kept out of the cache server.  ``old_secrets``
    are still accepted for reading, so a secret can be rotated without a cold cache.
    """

    tag = b"P"
    binds_key = True

    def __init__(self, secret: bytes | str, *, old_secrets: tuple[bytes | str, ...] = (),
                 protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        self._signer = _Signer(secret, old_secrets)
        self._protocol = protocol

    def dumps(self, value: Any, key: str = "") -> bytes:
        """Signature (over ``key`` and the pickle) followed by the pickle of ``value``."""
        return self._signer.sign(pickle.dumps(value, protocol=self._protocol), key)

    def loads(self, data: bytes, key: str = "") -> Any:
        """Unpickle ``data`` if (and only if) its signature is valid for ``key``."""
        payload = self._signer.verify(data, key)
        try:
            return pickle.loads(payload)
        except Exception as e:  # signed by us, so only a version mismatch gets here
            raise SerializationError(f"signed pickle could not be loaded: {e}") from e


class SignedSerializer:
    """Any serialiser's output signed with HMAC-SHA256 bound to the key (tag ``b"S"``).

    ``SignedSerializer(MsgpackSerializer(), secret)`` where integrity matters: a value that
    was tampered with, or copied from another key or namespace version, is refused (a miss
    and a logged warning), as with ``PickleSerializer``, which says what a MAC cannot
    prevent.  The inner serialiser's tag is signed with its payload.
    """

    tag = b"S"
    binds_key = True

    def __init__(self, inner: Serializer, secret: bytes | str, *,
                 old_secrets: tuple[bytes | str, ...] = ()) -> None:
        if not isinstance(inner, Serializer) or getattr(inner, "binds_key", False):
            raise TypeError("inner must be an unsigned serializer (tag, dumps, loads)")
        self.inner = inner
        self._inner_tag = inner.tag
        self._signer = _Signer(secret, old_secrets)

    def dumps(self, value: Any, key: str = "") -> bytes:
        """Signature (over ``key`` and the inner bytes) followed by the inner bytes."""
        return self._signer.sign(self._inner_tag + self.inner.dumps(value), key)

    def loads(self, data: bytes, key: str = "") -> Any:
        """The inner serialiser's value, if (and only if) the signature is valid for ``key``."""
        payload = self._signer.verify(data, key)
        if payload[:1] != self._inner_tag:
            raise SerializationError("signed value was written by another inner serializer")
        return self.inner.loads(payload[1:])


def versioned_key(key: str, version: int | str) -> str:
    """``key`` with a per-key version in it (``"user:42@v7"``), for a signed cache.

    A signed serialiser binds its MAC to the full key: a reader that asks for the current
    version never accepts a value signed for an older one (the rollback a MAC alone cannot
    see).  The version is the caller's: a row's version column, an ``updated_at``.
    """
    return f"{key}@v{version}"


# -- framing ---------------------------------------------------------------------------------

_INT_FIRST = frozenset(b"-0123456789")
_ZLIB = b"Z"
_ZLIB_BYTE = _ZLIB[0]


class Codec:
    """Frames values for a backend: plain ints, the serialiser's tag, optional zlib.

    ``compress_threshold``: payloads of at least this many bytes are zlib-compressed (None:
    never).  ``max_size``: a compressed value that would inflate beyond this many bytes is
    refused (a decompression bomb from a shared server).  ``namespace``: the backend's key
    head (``"<prefix>:<version>:"``); a serialiser with ``binds_key`` is given
    ``namespace + key`` for every value, so a signature covers the full key.
    """

    def __init__(self, serializer: Serializer | None = None, *,
                 compress_threshold: int | None = None, compress_level: int = 6,
                 max_size: int = 512 * 1024 * 1024, namespace: str = "") -> None:
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
        self.namespace = namespace
        self._tag = tag
        self._tag_byte = tag[0]
        self._keyed = bool(getattr(serializer, "binds_key", False))
        self._dumps = serializer.dumps
        self._loads = serializer.loads
        self._threshold = compress_threshold
        self._level = compress_level
        self._max_size = max_size

    def _load(self, data: bytes, key: str) -> object:
        if self._keyed:
            return self._loads(data, self.namespace + key)  # type: ignore[call-arg]
        return self._loads(data)

    def encode(self, value: object, key: str = "") -> bytes:
        """The bytes to store for ``value`` at ``key`` (``TypeError``: cannot be read back)."""
        if type(value) is int:
            return b"%d" % value
        if self._keyed:
            body = self._dumps(value, self.namespace + key)  # type: ignore[call-arg]
        else:
            body = self._dumps(value)
        data = self._tag + body
        if self._threshold is not None and len(data) >= self._threshold:
            packed = zlib.compress(data, self._level)
            if len(packed) + 1 < len(data):
                return _ZLIB + packed
        return data

    def decode(self, data: bytes, key: str = "") -> object:
        """The value stored as ``data`` at ``key`` (``SerializationError``: not trusted)."""
        if not data:
            raise SerializationError("empty stored value")
        first = data[0]
        if first == self._tag_byte:
            return self._load(data[1:], key)
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
                return self._load(data[1:], key)
        raise SerializationError(
            f"stored value is not in this codec's format (first byte {data[:1]!r})")

    def decode_or(self, data: bytes, default: object, key: str) -> object:
        """``decode(data, key)``, or ``default`` with a logged warning if it cannot be trusted."""
        try:
            if data[:1] == self._tag and not self._keyed:  # the common case, one call less
                return self._loads(data[1:])
            return self.decode(data, key)
        except SerializationError as e:
            log.warning("fastcache: value at %r refused, treated as a miss: %s", key, e)
            return default
