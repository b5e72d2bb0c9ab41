"""Drop-in differential tests of datetime timers: cachetools 8's
``TTLCache(maxsize, ttl=timedelta(...), timer=datetime.now)`` and ``TLRUCache`` whose ``ttu``
returns datetimes, run through cachetools and through fastcache's compiled core and its
twin, comparing what a user observes.

The mechanism (csrc/timed.c, fastcache/_py/timed.py): a cache whose ttl is a ``timedelta``
(or whose TLRU timer returns a datetime first) holds its times as microseconds from the
first time it read, so the wheel and the comparisons stay numeric; a TTL deadline is the
timer's own ``now + ttl`` (cachetools' ``OverflowError`` past ``datetime.max``). The numeric
path is untouched but for one test of the mode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import cachetools
import pytest

from tests.impls import Implementation

US = timedelta(microseconds=1)


def _libs(implementation: Implementation) -> list[ModuleType]:
    return [cachetools, implementation.caches]


def test_ttl_cache_with_timedelta_and_datetime_timer(implementation: Implementation) -> None:
    """``TTLCache(maxsize, ttl=timedelta(...), timer=...)`` with a datetime clock: live up to
    the microsecond before ``now + ttl``, gone at it."""
    clock = [datetime(2026, 1, 1)]
    for lib in _libs(implementation):
        clock[0] = datetime(2026, 1, 1)
        c = lib.TTLCache(2, ttl=timedelta(hours=1), timer=lambda: clock[0])
        c["a"] = 1
        clock[0] += timedelta(minutes=59)
        assert c["a"] == 1
        clock[0] += timedelta(minutes=1) - US
        assert "a" in c and len(c) == 1
        clock[0] += US
        assert "a" not in c and len(c) == 0
    with pytest.raises(ValueError):
        implementation.caches.TTLCache(2, ttl=timedelta(0))


def test_tlru_cache_with_datetime_timer(implementation: Implementation) -> None:
    """``TLRUCache(maxsize, ttu, timer)``: ttu returns a datetime."""
    def ttu(key: object, value: Any, now: datetime) -> datetime:
        return now + timedelta(seconds=value)

    clock = [datetime(2026, 1, 1)]
    c = implementation.caches.TLRUCache(3, ttu, timer=lambda: clock[0])
    c["a"], c["b"] = 10, 100
    clock[0] += timedelta(seconds=50)
    assert "a" not in c and c["b"] == 100


def _script(lib: ModuleType, cls: str) -> list[Any]:
    """One sequence of operations over a hand-moved datetime clock; what the user sees (no
    reads that reorder: cachetools' items() counts as an access, fastcache's does not)."""
    clock = [datetime(2026, 3, 1, 8, 30)]

    def ttu(key: object, value: Any, now: datetime) -> datetime:
        return now + timedelta(seconds=value)

    c = (lib.TTLCache(3, timedelta(seconds=30), lambda: clock[0]) if cls == "TTLCache"
         else lib.TLRUCache(3, ttu, lambda: clock[0]))
    seen: list[Any] = []
    for step in range(40):
        clock[0] += timedelta(seconds=step % 7) + US * (step % 3)
        c[step % 5] = 20 + step % 17
        seen.append((sorted(c), len(c), [k in c for k in range(5)]))
        if step % 9 == 0:
            seen.append(sorted(c.expire(clock[0] + timedelta(seconds=21))))
        if step % 4 == 0:
            with c.timer as now:
                seen.append(now == clock[0])
                seen.append(sorted(c))
    return seen


@pytest.mark.parametrize("cls", ["TTLCache", "TLRUCache"])
def test_same_as_cachetools_step_by_step(implementation: Implementation, cls: str) -> None:
    assert _script(implementation.caches, cls) == _script(cachetools, cls)


def test_overflow_as_cachetools(implementation: Implementation) -> None:
    """``now + ttl`` past ``datetime.max``: the same OverflowError, nothing stored."""
    for lib in _libs(implementation):
        c = lib.TTLCache(2, ttl=timedelta.max, timer=datetime.now)
        with pytest.raises(OverflowError):
            c[1] = 1
        assert 1 not in c and len(c) == 0 and c.expire() == []
