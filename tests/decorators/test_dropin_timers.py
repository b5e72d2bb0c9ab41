"""PENDING: drop-in differential tests that need changes to the compiled core and its twin.

NOT COLLECTED (the file name does not match ``test_*.py``): each test below fails today and
passes once the change named in its docstring lands in ``csrc/`` (the ``_core`` module) and
``fastcache/_py/`` alike. When a change lands, move its test to
``test_dropin_core.py`` and remove the matching ``PENDING_CORE``
entries of ``tests/cachetools8/conftest.py`` (strict xfails: they fail once fixed, which
says when to remove them). The plan, per item, is in the lead's report of branch
``dropin``; the mechanism is summarised in each docstring.

Run them by hand: ``python -m pytest -q -p no:cacheprovider
tests/decorators/pending_core_dropin.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import cachetools
import pytest

from tests.impls import Implementation


def test_ttl_cache_with_timedelta_and_datetime_timer(implementation: Implementation) -> None:
    """``TTLCache(maxsize, ttl=timedelta(...), timer=datetime.now)`` as cachetools: a
    non-numeric timer/ttl takes a slower generic path (``PyNumber_Add(now, ttl)``,
    ``PyObject_RichCompare(now, expires, Py_LT)``), chosen at construction when ``ttl`` is
    not a real number or ``timer`` is not ``time.monotonic``/a float-returning callable;
    the default numeric path is untouched. ``_validate.ttl`` then accepts a
    ``timedelta`` (> 0) beside real numbers; zero/negative still rejected."""
    clock = [datetime(2026, 1, 1)]
    for lib in (cachetools, implementation.caches):
        clock[0] = datetime(2026, 1, 1)
        c = lib.TTLCache(2, ttl=timedelta(hours=1), timer=lambda: clock[0])
        c["a"] = 1
        clock[0] += timedelta(minutes=59)
        assert c["a"] == 1
        clock[0] += timedelta(minutes=2)
        assert "a" not in c and len(c) == 0
    with pytest.raises(ValueError):
        implementation.caches.TTLCache(2, ttl=timedelta(0))


def test_tlru_cache_with_datetime_timer(implementation: Implementation) -> None:
    """``TLRUCache(maxsize, ttu, timer=datetime.now)``: ttu returns a datetime; the same
    generic comparison path as the TTL item above."""
    def ttu(key: object, value: object, now: datetime) -> datetime:
        return now + timedelta(seconds=value)  # type: ignore[arg-type]

    clock = [datetime(2026, 1, 1)]
    c = implementation.caches.TLRUCache(3, ttu, timer=lambda: clock[0])
    c["a"], c["b"] = 10, 100
    clock[0] += timedelta(seconds=50)
    assert "a" not in c and c["b"] == 100
