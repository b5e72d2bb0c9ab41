"""Invalidators: how a write in one process reaches the local cache levels of the others.

``RedisInvalidator`` (pub/sub) and ``VersionCheckInvalidator`` (a shared version counter)
implement the ``Invalidator`` protocol that ``MultiLevelCache`` (both faces) drives; the
staleness bound of each is stated in ``fastcache/patterns/multilevel.py``.  They run their
own thread and call back into the cache, so one invalidator serves both faces.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from .._optional import require
from ..backends import MISSING
from ._common import check_backend, check_key, check_ttl

__all__ = [
    "Invalidator",
    "KeyCallback",
    "RedisInvalidator",
    "StateCallback",
    "VersionCheckInvalidator",
]

log = logging.getLogger("fastcache.patterns")

KeyCallback = Callable[["str | None"], None]
StateCallback = Callable[[bool], None]


class Invalidator(Protocol):
    """Carries invalidations between processes.

    ``start(on_key, on_state)``: call ``on_key(key)`` when another process changed ``key``
    (``on_key(None)``: anything may have changed), and ``on_state(False)`` /
    ``on_state(True)`` when invalidations can no longer / can again be received.
    ``publish(key)`` tells the other processes; ``close()`` stops.
    """

    def start(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        """Begin delivering invalidations to the callbacks (from a background thread)."""

    def publish(self, key: str) -> None:
        """Tell the other processes that ``key`` changed."""

    def close(self) -> None:
        """Stop delivering; release connections."""


class RedisInvalidator:
    """Invalidation over Redis pub/sub on ``channel``.

    ``redis``: a ``redis://`` URL or a ``redis.Redis`` client (redis-py; imported lazily).
    A listener thread holds one subscription; on a connection error it reports
    ``on_state(False)``, retries every ``reconnect_delay`` seconds, and reports
    ``on_state(True)`` once subscribed again. A process ignores its own messages.
    """

    def __init__(
        self,
        redis: Any,
        channel: str = "fastcache:invalidate",
        *,
        reconnect_delay: float = 0.1,
        health_check_interval: float = 1.0,
    ) -> None:
        redis_py = require("redis", "redis", feature="RedisInvalidator")

        if isinstance(redis, str):
            self._client = redis_py.Redis.from_url(
                redis,
                health_check_interval=health_check_interval,
                socket_timeout=5.0,
                socket_connect_timeout=2.0,
            )
            self._owns = True
        elif isinstance(redis, redis_py.Redis):
            self._client = redis
            self._owns = False
        else:
            raise TypeError("redis must be a redis:// URL or a redis.Redis client")
        if not isinstance(channel, str) or not channel:
            raise ValueError("channel must be a non-empty str")
        self.channel = channel
        self.reconnect_delay = float(check_ttl(reconnect_delay, "reconnect_delay") or 0)
        self._origin = uuid.uuid4().hex.encode()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.subscribed = threading.Event()  # set while the subscription is live

    def start(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        """Start the listener thread. Local levels stay bypassed (``on_state(False)``)
        until the subscription is live: an invalidation published before it would be lost."""
        if self._thread is not None:
            raise RuntimeError("invalidator already started")
        on_state(False)
        self._thread = threading.Thread(
            target=self._listen, args=(on_key, on_state), daemon=True,
            name="fastcache-invalidator",
        )  # fmt: skip
        self._thread.start()

    def publish(self, key: str) -> None:
        """Publish ``key`` to every subscribed process."""
        self._client.publish(self.channel, self._origin + b"\x00" + key.encode())

    def _listen(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=0.2)
                    if msg is None:
                        continue
                    if msg["type"] == "subscribe":
                        on_key(None)  # what was published while we were away is lost
                        self.subscribed.set()
                        on_state(True)
                    elif msg["type"] == "message":
                        origin, _, key = msg["data"].partition(b"\x00")
                        if origin != self._origin:
                            on_key(key.decode())
            except Exception as exc:
                if self.subscribed.is_set():
                    log.warning("invalidation subscription lost: %r", exc)
                self.subscribed.clear()
                on_state(False)
                self._stop.wait(self.reconnect_delay)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    log.debug("closing the pub/sub connection failed", exc_info=True)

    def close(self) -> None:
        """Stop the listener (and close the client if this object created it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._owns:
            self._client.close()


class VersionCheckInvalidator:
    """Invalidation by a shared version counter, for shared backends without pub/sub.

    ``backend``: a synchronous shared ``Backend`` (memcached, Redis, ...) holding the counter
    at ``key``. Each ``publish`` increments it; a thread reads it every ``interval`` seconds
    and reports ``on_key(None)`` when it moved (so local levels are cleared), and
    ``on_state(False)`` while it cannot be read.
    """

    def __init__(
        self, backend: Any, *, key: str = "fastcache:invalidate:version", interval: float = 0.5
    ) -> None:
        check_backend(backend)
        if not callable(getattr(backend, "incr", None)):
            raise TypeError("backend must support incr()")
        self.backend = backend
        self.key = check_key(key)
        self.interval = float(check_ttl(interval, "interval") or 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_key: KeyCallback, on_state: StateCallback) -> None:
        """Read the current version (now, so that every later write is seen as a change),
        then start the polling thread."""
        if self._thread is not None:
            raise RuntimeError("invalidator already started")
        try:
            seen: object = self.backend.get(self.key, 0)
        except Exception as exc:
            log.warning("version check failed: %r", exc)
            seen = MISSING
            on_state(False)
        self._thread = threading.Thread(
            target=self._poll, args=(on_key, on_state, seen), daemon=True,
            name="fastcache-version-check",
        )  # fmt: skip
        self._thread.start()

    def publish(self, key: str) -> None:
        """Increment the shared version."""
        self.backend.incr(self.key)

    def _poll(self, on_key: KeyCallback, on_state: StateCallback, seen: object) -> None:
        healthy = seen is not MISSING
        while not self._stop.wait(self.interval):
            try:
                version = self.backend.get(self.key, 0)
            except Exception as exc:
                if healthy:
                    log.warning("version check failed: %r", exc)
                    healthy = False
                    on_state(False)
            else:
                if not healthy:
                    healthy = True
                    on_key(None)
                    on_state(True)
                elif version != seen:
                    on_key(None)
                seen = version

    def close(self) -> None:
        """Stop the polling thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
