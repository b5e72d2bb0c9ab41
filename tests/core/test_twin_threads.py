"""The twin's lock-free reads (plain keys, no stats) against a writer holding the lock, each
interleaving driven deterministically: the writer's thread is stopped by a trace function at a
chosen point of its code (an event it waits on), a read runs, then the writer goes on. The
compiled core has no such reads (the GIL is its lock)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from .conftest import load_impl
from .support import make, size_of_value

Stop = Callable[[FrameType, str], bool]
WAIT = 60.0  # seconds: generous, only a broken interleaving reaches it


def interleave(write: Callable[[], Any], stop: Stop, read: Callable[[], Any]) -> Any:
    """Run ``write()`` in a thread stopped at the first trace event ``stop(frame, event)``
    accepts (``call`` or ``line``, Python frames), ``read()`` meanwhile; return what ``read``
    returned once the write completed (the write's own exception re-raised)."""
    stopped, resume = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    matched: list[bool] = []
    blocked: list[bool] = []

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if not stopped.is_set() and stop(frame, event):
            matched.append(True)
            stopped.set()
            if not resume.wait(WAIT):  # a read that blocks on the writer: fail, not hang
                blocked.append(True)
        return trace

    def writer() -> None:
        sys.settrace(trace)
        try:
            write()
        except BaseException as exc:
            errors.append(exc)
        finally:
            sys.settrace(None)
            stopped.set()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    assert stopped.wait(WAIT), "the writer did not get going"
    try:
        result = read()
    finally:
        resume.set()
        t.join(WAIT)
    assert not t.is_alive(), "the write did not finish"
    assert not blocked, "the read waited for the stopped writer"
    if errors:
        raise errors[0]
    assert matched, "the write never reached the point to stop at"
    return result


def at_call(name: str) -> Stop:
    return lambda frame, event: event == "call" and frame.f_code.co_name == name


def twin() -> Any:
    return load_impl("py")


@pytest.mark.parametrize("name", ["TTLCache", "TLRUCache"])
@pytest.mark.parametrize("read", ["getitem", "get", "contains"])
@pytest.mark.parametrize("where", ["_p_link", "_schedule"])
def test_timed_read_of_an_entry_not_linked_yet(name: str, read: str, where: str) -> None:
    """A reader finds the entry a writer has inserted in the dict but not linked (``_p_link``:
    no deadline yet; ``_schedule``: in the LRU order, no deadline yet): a miss (the write has
    not happened for it), not ``TypeError`` from a ``None`` heap item."""
    c = make(twin(), name, 10, size_of_value)  # sized: the general write path
    reads = {"getitem": lambda: _getitem(c, 1), "get": lambda: c.get(1, "miss"),
             "contains": lambda: 1 in c}
    got = interleave(lambda: c.__setitem__(1, 1), at_call(where), reads[read])
    assert got in ("miss", False)
    assert c[1] == 1 and 1 in c
    c._check()


def _getitem(c: Any, key: Any) -> Any:
    try:
        return c[key]
    except KeyError:
        return "miss"


@pytest.mark.parametrize("name", ["LRUCache", "TTLCache"])
def test_victim_walk_reordered_by_a_reader(name: str) -> None:
    """A write over the least recently used key that needs room skips it (pinned) and walks on
    to the next victim; a lock-free reader's ``move_to_end`` between the two steps of the walk
    made the write fail with ``RuntimeError`` ("OrderedDict mutated during iteration")."""
    c = make(twin(), name, 3, len)
    for k in "abc":
        c[k] = "x"

    def on_pinned(frame: FrameType, event: str) -> bool:
        if event != "line" or frame.f_code.co_name != "_p_first":
            return False
        entry = frame.f_locals.get("entry")
        return entry is not None and entry is frame.f_locals.get("pinned")

    interleave(lambda: c.__setitem__("a", "xx"), on_pinned, lambda: c["b"])
    assert c["a"] == "xx" and len(c) == 2 and "c" not in c  # c: least recently used
    c._check()


def test_lfu_access_to_an_entry_not_linked_yet() -> None:
    """An LFU reader buffers an access to the entry a writer has inserted but not linked; the
    writer's link drains it: dropped (310a05e), not followed into a ``None`` bucket."""
    c = twin().LFUCache(1)
    got = interleave(lambda: c.__setitem__(1, "v"), at_call("_p_link"), lambda: c.get(1))
    assert got == "v" and c.frequency(1) == 1
    c._check()
