"""The backend protocol (sync ``Backend``, async ``AsyncBackend``) and its shared pieces.

Conventions every backend follows (the contract suite in ``tests/backends`` checks them):

- Keys are ``str`` (anything else: ``TypeError``).  Values are any object the backend's
  serialiser accepts; a stored ``None`` is returned as ``None``, an absent key returns the
  ``default`` argument of ``get`` (``MISSING`` unless given), so the two are distinguishable.
- ``ttl`` arguments are seconds: ``None`` (or ``math.inf``) means no expiry, otherwise a real
  number > 0 (``TypeError`` / ``ValueError`` otherwise).  Memcached rounds up to whole seconds.
- ``ttl(key)`` returns the remaining seconds, ``None`` for a key without expiry, and raises
  ``KeyError(key)`` for an absent key (as ``TTLCache.remaining_ttl``).
- ``incr``/``decr`` on an absent key start from 0 (as Redis ``INCRBY``) without expiry and
  keep an existing key's expiry; on a value that is not an ``int``: ``ValueError``.
  (Memcached counters are the server's unsigned 64-bit ones: ``decr`` stops at 0.)
- ``expire(key, ttl)`` (alias ``touch``) sets a new expiry on an existing key (``ttl=None``
  removes it) and returns whether the key existed.
- ``clear()`` removes only this backend's namespace (prefix and version), never the server.
- A server that is down or does not answer within the timeout raises ``BackendUnavailable``
  (chained to the client's own error), unless the backend was built with
  ``on_failure="degrade"`` (see ``fastcache.backends.failure``).
"""

from __future__ import annotations

from ._async_base import AsyncBackend
from ._shared import MISSING, BackendError, BackendUnavailable, check_key, check_ttl
from ._sync_base import Backend

__all__ = [
    "MISSING",
    "AsyncBackend",
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "check_key",
    "check_ttl",
]
