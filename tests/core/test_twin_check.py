"""The twin's ``_check()`` notices broken invariants (the state machines rely on it)."""

from __future__ import annotations

import pytest

from fastcache._py import public as twin

from .support import Timer


def test_check_detects_a_wrong_size() -> None:
    c = twin.LRUCache(3)
    c[1] = 1
    c._check()
    c._currsize = 2
    with pytest.raises(AssertionError):
        c._check()


def test_check_detects_a_broken_lfu_bucket() -> None:
    c = twin.LFUCache(3)
    c[1], c[2] = 1, 2
    c[1]
    c._check()
    c._data[2].bucket = c._data[1].bucket
    with pytest.raises(AssertionError):
        c._check()


def test_check_detects_a_lost_deadline() -> None:
    c = twin.TTLCache(3, 5, Timer())
    c[1] = 1
    c._check()
    c._data[1].item = None
    with pytest.raises(AssertionError):
        c._check()


def test_lfu_frequency() -> None:
    c = twin.LFUCache(3)
    c[1] = 1
    c[1]
    c.get(1)
    c[1] = 2
    assert c.frequency(1) == 4
    with pytest.raises(KeyError):
        c.frequency(2)
