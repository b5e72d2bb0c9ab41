"""Every exception and warning class fastcache defines, each under the built-in it refines.

One module, as msgpack's ``exceptions``: the backends, serialisers and patterns raise these
(and import them from here); ``except`` clauses written for the built-in category keep
working:

- ``BackendError`` (``Exception``): a backend failed to do what was asked (an error reply).
- ``BackendUnavailable`` (``BackendError``, ``ConnectionError``): the server is down,
  unreachable, timed out, or its circuit breaker is open; an ``except OSError`` meant for
  network failures catches it.
- ``SerializationError`` (``ValueError``): stored bytes that cannot (or must not) be decoded.
- ``QueueFullError`` (``Exception``): back pressure of the write-behind queue, as
  ``queue.Full`` and ``asyncio.QueueFull`` (no built-in category means "try later").
- ``JournalError`` (``Exception``): a write-behind journal cannot be opened or used (bad
  file, owner or permissions); ``JournalLockedError`` (``JournalError``): another journal
  has the file open.
- ``PurePythonWarning`` (``RuntimeWarning``): a source checkout runs the pure-Python twin
  because the compiled core was not built.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "JournalError",
    "JournalLockedError",
    "PurePythonWarning",
    "QueueFullError",
    "SerializationError",
]


class BackendError(Exception):
    """Base class of the errors raised by backends."""


class BackendUnavailable(BackendError, ConnectionError):
    """The server is down, unreachable, timed out, or its circuit breaker is open.

    The client library's own exception is chained as ``__cause__``.
    """


class SerializationError(ValueError):
    """Stored bytes that cannot (or must not) be decoded: corrupt, foreign or unsigned."""


class QueueFullError(Exception):
    """The write-behind queue is full (``on_full="raise"``, or ``put_timeout`` expired)."""


class JournalError(Exception):
    """The journal cannot be opened or used (bad file, bad owner, bad permissions)."""


class JournalLockedError(JournalError):
    """Another journal (in another process, or in this one) has the file open."""


class PurePythonWarning(RuntimeWarning):
    """The pure-Python twin runs in a source checkout where the compiled core is not built.

    Silence it by building the core (``pip install -e .`` or ``python setup.py build_ext
    --inplace``) or by asking for the twin (``FASTCACHE_PURE_PYTHON=1``).
    """
