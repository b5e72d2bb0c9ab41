"""One validation module and one exceptions module: the same check gives the same message
wherever it is made, and every error class sits under the built-in it refines."""

from __future__ import annotations

import math

import pytest

import fastcache
from fastcache import _validate, exceptions


@pytest.mark.parametrize("bad", [0, -1, -0.5, math.nan, -math.inf])
def test_ttl_refuses_non_positive(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^ttl must be positive$"):
        _validate.ttl(bad)


@pytest.mark.parametrize("bad", ["1", True, None, [1], 1j])
def test_ttl_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match=rf"^ttl must be a real number, not {type(bad).__name__}$"):
        _validate.ttl(bad)


def test_ttl_accepts_and_returns() -> None:
    assert _validate.ttl(2) == 2 and _validate.ttl(0.5, "interval") == 0.5
    assert _validate.ttl(math.inf) == math.inf
    assert _validate.ttl(None, optional=True) is None
    with pytest.raises(TypeError, match=r"^put_timeout must be a real number or None, not str$"):
        _validate.ttl("x", "put_timeout", optional=True)


def test_maxsize() -> None:
    assert _validate.maxsize(0) == 0 and _validate.maxsize(math.inf) == math.inf
    for bad, kind, message in [
        (-1, ValueError, "maxsize must be non-negative"),
        (-1.0, ValueError, "maxsize must be non-negative"),
        (math.nan, ValueError, "maxsize must be non-negative"),
        (1.5, TypeError, "maxsize must be an int or math.inf, not float"),
        (True, TypeError, "maxsize must be an int or math.inf, not bool"),
        ("3", TypeError, "maxsize must be an int or math.inf, not str"),
    ]:
        with pytest.raises(kind, match=f"^{message}$"):
            _validate.maxsize(bad)


def test_decorator_maxsize_is_functools() -> None:
    assert _validate.decorator_maxsize(-5) == 0 and _validate.decorator_maxsize(None) is None
    with pytest.raises(TypeError,
                       match=r"^Expected first argument to be an integer, a callable, or None$"):
        _validate.decorator_maxsize("3")


def test_callable() -> None:
    assert _validate.callable_(len, "key") is len
    assert _validate.callable_(None, "on_error", optional=True) is None
    with pytest.raises(TypeError, match=r"^key must be callable, not int$"):
        _validate.callable_(1, "key")
    with pytest.raises(TypeError, match=r"^on_error must be callable or None, not int$"):
        _validate.callable_(1, "on_error", optional=True)


def test_call_sites_share_the_messages() -> None:
    """The decorators, the backends and the patterns refuse alike (the compiled core's
    words)."""
    from fastcache.backends import MemoryBackend, check_ttl
    from fastcache.backends.failure import CircuitBreaker

    cases = [
        (lambda: fastcache.ttl_cache(ttl=0), ValueError, "ttl must be positive"),
        (lambda: fastcache.TTLCache(3, 0), ValueError, "ttl must be positive"),
        (lambda: check_ttl(-1), ValueError, "ttl must be positive"),
        (lambda: check_ttl("1"), TypeError, "ttl must be a real number or None, not str"),
        (lambda: CircuitBreaker(reset_timeout=0), ValueError, "reset_timeout must be positive"),
        (lambda: fastcache.ttl_cache(timer=1), TypeError, "timer must be callable, not int"),
        (lambda: MemoryBackend(timer=1), TypeError, "timer must be callable, not int"),
        (lambda: fastcache.cached({}, key=1), TypeError, "key must be callable, not int"),
        (lambda: fastcache.ReadThrough(MemoryBackend(), 1), TypeError,
         "loader must be callable, not int"),
    ]
    for make, kind, message in cases:
        with pytest.raises(kind) as info:
            make()
        assert str(info.value) == message


def test_exceptions_are_one_class_each_under_their_builtin() -> None:
    from fastcache import backends, patterns, serializers

    assert backends.BackendError is exceptions.BackendError is fastcache.BackendError
    assert backends.BackendUnavailable is exceptions.BackendUnavailable
    assert serializers.SerializationError is exceptions.SerializationError
    assert patterns.QueueFullError is exceptions.QueueFullError is fastcache.QueueFullError
    assert issubclass(exceptions.BackendUnavailable, exceptions.BackendError)
    assert issubclass(exceptions.BackendUnavailable, ConnectionError)  # an OSError
    assert issubclass(exceptions.SerializationError, ValueError)
    assert issubclass(exceptions.PurePythonWarning, RuntimeWarning)
    for name in exceptions.__all__:
        assert name in fastcache.__all__
        assert getattr(fastcache, name) is getattr(exceptions, name)


def test_dir_shows_the_public_api() -> None:
    names = dir(fastcache)
    assert names == sorted(fastcache.__all__)
    for helper in ("Any", "TYPE_CHECKING", "importlib", "annotations", "_LAZY"):
        assert helper not in names
