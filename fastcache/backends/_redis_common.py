"""The non-I/O half of the Redis backends, shared by both faces: constructor, errors,
argument building and result decoding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._optional import require
from ..serializers import Serializer
from ._remote import RemoteBase
from ._shared import MISSING, BackendError, check_key
from .failure import CircuitBreaker, OnFailure

__all__ = ["SCAN_COUNT", "ClusterArgs", "RedisCommon", "field_key", "map_response_error"]

SCAN_COUNT = 1000


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    from redis import exceptions as x

    return (x.ConnectionError, x.TimeoutError, x.ClusterError, x.TryAgainError,
            x.SlotNotCoveredError, x.RedisClusterException, OSError)


def _lost_connection(error: BaseException) -> bool:
    """redis-py's own errors from a client racing a failover, which are outages.

    redis-py 5-8's asyncio cluster client writes to ``Connection._writer`` after a
    concurrent ``disconnect()`` set it to ``None`` (a server killed under load), and the
    caller gets ``'NoneType' object has no attribute 'writelines'`` instead of a
    ``ConnectionError``; the threaded cluster client's ``NodesManager.initialize`` iterates
    its nodes while another thread rebuilds them (``RuntimeError: dictionary keys changed
    during iteration``, CI saw it on 3.10 with a node killed). Only such an error raised
    inside the ``redis`` package counts; one from fastcache's or the user's code is a bug,
    not an outage.
    """
    if isinstance(error, AttributeError):
        if "'NoneType'" not in str(error):
            return False
    elif not isinstance(error, RuntimeError) or "during iteration" not in str(error):
        return False
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = "" if tb is None else tb.tb_frame.f_globals.get("__name__", "")
    return module == "redis" or module.startswith("redis.")


def _client_options(timeout: float, connect_timeout: float, retries: int,
                    options: dict[str, Any], retry_class: Any) -> dict[str, Any]:
    from redis.backoff import NoBackoff

    opts: dict[str, Any] = {"socket_timeout": timeout,
                            "socket_connect_timeout": connect_timeout}
    opts["retry"] = retry_class(NoBackoff(), retries)
    opts.update(options)
    return opts


def map_response_error(e: Exception, key: str) -> Exception:
    text = str(e)
    if "not an integer" in text or "not a valid float" in text:
        return ValueError(f"value at {key!r} is not a number: {text}")
    if "WRONGTYPE" in text:
        return TypeError(f"key {key!r} holds another kind of Redis value: {text}")
    return BackendError(text)


def field_key(key: str, field: str) -> str:
    """What a signed value in a hash field is bound to: the key and the field."""
    return f"{key}\x00{field}"


class RedisCommon(RemoteBase):
    """Argument building and result decoding shared by the four Redis classes."""

    _client: Any

    def __init__(self, url: str = "redis://localhost:6379/0", *, client: Any = None,
                 prefix: str = "fastcache", version: int | str = 1,
                 serializer: Serializer | None = None, compress_threshold: int | None = None,
                 timeout: float = 1.0, connect_timeout: float = 1.0, retries: int = 1,
                 on_failure: OnFailure = "raise", breaker: CircuitBreaker | None = None,
                 **redis_options: Any) -> None:
        require("redis", "redis", feature=type(self).__name__)
        if client is None:
            client = self._make_client(url, _client_options(
                timeout, connect_timeout, retries, redis_options, self._retry_class()))
        self._init(client, f"{type(self).__name__}({url})", prefix, version, serializer,
                   compress_threshold, on_failure, breaker)

    @staticmethod
    def _make_client(url: str, options: dict[str, Any]) -> Any:
        raise NotImplementedError  # each class makes its own redis-py client

    @classmethod
    def _retry_class(cls) -> Any:
        raise NotImplementedError  # redis-py's sync or asyncio Retry

    def _init(self, client: Any, name: str, prefix: str, version: int | str,
              serializer: Serializer | None, compress_threshold: int | None,
              on_failure: OnFailure, breaker: CircuitBreaker | None) -> None:
        from redis.exceptions import ResponseError

        self._client = client
        self._response_error = ResponseError
        self._setup(name, _unavailable_errors(), prefix=prefix, version=version,
                    serializer=serializer, compress_threshold=compress_threshold,
                    on_failure=on_failure, breaker=breaker, fault=_lost_connection)

    @property
    def client(self) -> Any:
        """The underlying redis-py client (for what the protocol does not cover)."""
        return self._client

    def _full(self, key: str) -> str:
        return self._head + check_key(key)

    def _keys(self, keys: Iterable[str]) -> tuple[list[str], list[str]]:
        user = [check_key(k) for k in keys]
        head = self._head
        return user, [head + k for k in user]

    def _found(self, user: list[str], values: list[Any]) -> dict[str, object]:
        decode = self.codec.decode_or
        return {k: v for k, raw in zip(user, values, strict=False)
                if raw is not None and (v := decode(raw, MISSING, k)) is not MISSING}

    @staticmethod
    def _ttl_result(ms: int, key: str) -> float | None:
        if ms == -2:
            raise KeyError(key)
        return None if ms == -1 else ms / 1000.0

    def _hash_items(self, raw: Mapping[bytes, bytes], key: str) -> dict[str, object]:
        decode = self.codec.decode_or
        return {f: v for f, r in ((f.decode(), r) for f, r in raw.items())
                if (v := decode(r, MISSING, field_key(key, f))) is not MISSING}


class ClusterArgs(RedisCommon):
    """The cluster classes' constructor: any node's ``url``, or ``startup_nodes``."""

    def __init__(self, url: str = "redis://localhost:7000", *,
                 startup_nodes: Iterable[tuple[str, int]] | None = None,
                 **options: Any) -> None:
        if startup_nodes is not None:
            options["startup_nodes"] = list(startup_nodes)
        super().__init__(url, **options)

    @staticmethod
    def tagged(tag: str, key: str) -> str:
        """``{tag}key``: every key with the same tag hashes to the same slot."""
        if "{" in tag or "}" in tag:
            raise ValueError("a hash tag cannot contain braces")
        return f"{{{tag}}}{key}"
