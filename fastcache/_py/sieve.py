"""SIEVECache: the twin of ``csrc/sieve.c`` (SIEVE, Zhang et al., NSDI'24).

One FIFO queue; a hit sets the entry's visited bit (``entry.index``); eviction moves a hand
from the oldest entry towards the newest, clearing visited bits, until it finds an unvisited
entry, which goes; the hand stays there for the next eviction (past the newest, it wraps to
the oldest). The queue is two ``OrderedDict``s split at the hand: ``_behind`` (the oldest,
up to the hand) and ``_order`` (from the hand to the newest, where new entries go), so
the hand's step past an entry is moving it from the front of ``_order`` to the end of
``_behind``, and wrapping is swapping the two. The C keeps one list and a hand index; its
opening note lists how both differ from the simulator's ``run_sieve``.
"""

from __future__ import annotations

import collections
from typing import Any

from .caches import Marking, _Entry, _require


class SIEVECache(Marking):
    """SIEVE cache: a hit sets a visited bit; the hand evicts the first unvisited entry."""

    __slots__ = ("_behind",)

    def _p_init(self) -> None:
        self._behind: collections.OrderedDict[_Entry, None] = collections.OrderedDict()

    def _hit(self, entry: _Entry) -> None:
        entry.index = 1

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        entry.index = 0
        self._order[entry] = None

    def _p_unlink(self, entry: _Entry) -> None:
        order = self._order
        if entry in order:
            del order[entry]
            if not order:  # the hand passed the newest
                self._wrap()
        else:
            del self._behind[entry]

    def _wrap(self) -> None:
        """The hand goes back to the oldest entry."""
        self._order, self._behind = self._behind, self._order
        self._mte = self._order.move_to_end

    def _victim(self, skip: _Entry | None) -> _Entry:
        while True:
            order = self._order
            if not order:
                self._wrap()
                continue
            entry: _Entry = next(iter(order))
            if entry is not skip:
                if entry.index <= 0:
                    return entry  # the hand stays on it; its removal moves it on
                entry.index = 0
            del order[entry]
            self._behind[entry] = None

    def _p_order(self) -> list[_Entry]:
        return [*self._behind, *self._order]

    def _p_clear(self) -> None:
        self._behind.clear()

    def _p_check(self) -> None:
        order, behind = self._order, self._behind
        _require(len(order) + len(behind) == len(self._data), "order length")
        _require({id(e) for e in self._p_order()} == {id(e) for e in self._data.values()},
                 "order and data disagree")
        _require(all(e.index in (0, 1) for e in self._data.values()), "visited bits")
        _require(bool(order) or not behind, "hand past the newest entry")

    def _p_state(self) -> Any:
        return [e.index for e in self._p_order()], len(self._behind)

    def _p_restore_extras(self, extra: Any, n: int) -> list[Any]:
        if not (isinstance(extra, tuple) and len(extra) == 2 and isinstance(extra[0], list)
                and len(extra[0]) == n and all(type(b) is int and b in (0, 1) for b in extra[0])
                and type(extra[1]) is int and 0 <= extra[1] <= n):
            raise ValueError("invalid cache state: SIEVE marks")
        marks: list[Any] = extra[0]
        return marks

    def _p_restore_one(self, entry: _Entry, extra: Any) -> None:
        self._p_link(entry)
        entry.index = extra

    def _p_restore_end(self, extra: Any) -> None:
        # the first `hand` entries are behind the hand (entries stored meanwhile by nested
        # writes went last)
        order, behind = self._order, self._behind
        for _ in range(min(extra[1], len(order) - 1)):
            entry: _Entry = next(iter(order))
            del order[entry]
            behind[entry] = None
