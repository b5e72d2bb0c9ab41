"""S3FIFOCache: the twin of ``csrc/s3fifo.c`` (S3-FIFO, Yang et al., SOSP'23, as
libCacheSim's S3FIFO.c: the simulator's variant 0).

A small FIFO (``_small``), a main FIFO (``_order``), a ghost FIFO of the hashes of keys
evicted from small (``_ghost``: hash -> size, oldest first), and a 2-bit frequency per
entry (``entry.index``, 0..3) that a hit increments. A new key whose hash is in the ghost
goes to main, others to small (to main too until the first eviction, once small is full).
Eviction takes from main while main is over its share or small is empty (its oldest goes
if its frequency is 0, else is reinserted with one less), otherwise from small (its oldest
moves to main if it was hit at least twice, else goes, its hash to the ghost). The C keeps
both queues on one list; its opening note lists how both differ from the simulator.
"""

from __future__ import annotations

import collections
import math
import sys
from collections.abc import Callable
from typing import Any

from .caches import Marking, _Entry, _require

MOVE_TO_MAIN = 2


def check_fraction(value: Any, name: str) -> float:
    """Validate ``small_fraction``/``ghost_fraction``: a number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, not {type(value).__name__}")
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), not {value!r}")
    return float(value)


class S3FIFOCache(Marking):
    """S3-FIFO cache: small and main FIFOs with 2-bit frequencies, a ghost of hashes."""

    __slots__ = ("_fractions", "_gcap", "_ghost", "_ghost_fraction", "_ghost_used",
                 "_has_evicted", "_m_size", "_mcap", "_s_size", "_scap", "_small",
                 "_small_fraction")

    def __init__(self, maxsize: Any, getsizeof: Callable[[Any], int] | None = None,
                 small_fraction: float = 0.1, ghost_fraction: float = 0.9, *,
                 on_evict: Callable[[Any, Any, str], object] | None = None,
                 stats: bool = False) -> None:
        # applied by _p_config once every argument passed (a failing __init__ changes nothing)
        self._fractions = (check_fraction(small_fraction, "small_fraction"),
                           check_fraction(ghost_fraction, "ghost_fraction"))
        self._setup(maxsize, getsizeof, on_evict, stats)

    @property
    def small_fraction(self) -> float:
        """The small queue's share of maxsize."""
        return self._small_fraction

    @property
    def ghost_fraction(self) -> float:
        """The ghost queue's capacity, as a fraction of maxsize."""
        return self._ghost_fraction

    # -- structures ---------------------------------------------------------------------------

    def _p_init(self) -> None:
        self._small: collections.OrderedDict[_Entry, None] = collections.OrderedDict()
        self._ghost: collections.OrderedDict[int, int] = collections.OrderedDict()
        self._reset()

    def _reset(self) -> None:
        self._ghost_used = 0
        self._s_size = 0
        self._m_size = 0
        self._has_evicted = False

    def _p_config(self) -> None:
        self._small_fraction, self._ghost_fraction = self._fractions
        # the shares as the simulator computes them (C doubles, truncated)
        maxsize = sys.maxsize if self._maxsize == math.inf else self._maxsize
        self._scap = int(float(maxsize) * self._small_fraction)
        if self._scap == 0 and maxsize >= 2:
            self._scap = 1
        self._mcap = maxsize - self._scap
        self._gcap = int(float(maxsize) * self._ghost_fraction)

    def _p_clear(self) -> None:
        self._small.clear()
        self._ghost.clear()
        self._reset()

    def _hit(self, entry: _Entry) -> None:
        if entry.index < 3:
            entry.index += 1

    # -- the ghost ----------------------------------------------------------------------------

    def _p_keyhash(self, key: Any) -> Any:
        return hash(key)

    def _p_admit(self, keyhash: Any) -> Any:
        size = self._ghost.pop(keyhash, None)
        if size is not None:
            self._ghost_used -= size
        return keyhash, size is not None

    def _ghost_push(self, keyhash: int, size: int) -> None:
        ghost = self._ghost
        weight = max(size, 1)
        if weight > self._gcap:
            return
        old = ghost.pop(keyhash, None)
        if old is not None:
            self._ghost_used -= old
        while self._ghost_used > self._gcap - weight:
            self._ghost_used -= ghost.popitem(last=False)[1]
        ghost[keyhash] = weight
        self._ghost_used += weight

    # -- the queues ---------------------------------------------------------------------------

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        entry.item, to_main = entry.item  # _p_admit's (hash, whether the ghost had it)
        entry.index = 0
        self._queue(entry, to_main or self._scap == 0
                    or (not self._has_evicted and self._s_size >= self._scap))

    def _queue(self, entry: _Entry, to_main: bool) -> None:
        if to_main:
            self._order[entry] = None
            self._m_size += entry.size
        else:
            self._small[entry] = None
            self._s_size += entry.size

    def _p_unlink(self, entry: _Entry) -> None:
        order = self._order
        if entry in order:
            del order[entry]
            self._m_size -= entry.size
        else:
            del self._small[entry]
            self._s_size -= entry.size

    def _replace(self, key: Any, entry: _Entry, value: Any, size: int, notes: Any,
                 deadline: Any) -> None:
        if entry in self._order:
            self._m_size += size - entry.size
        else:
            self._s_size += size - entry.size
        super()._replace(key, entry, value, size, notes, deadline)

    def _victim(self, skip: _Entry | None) -> _Entry:
        self._has_evicted = True
        entry = None
        if self._m_size > self._mcap or not self._small:
            entry = self._evict_main(skip)
        if entry is None:
            entry = self._evict_small(skip)
        if entry is None:
            entry = self._evict_main(skip)
        assert entry is not None
        return entry

    def _evict_main(self, skip: _Entry | None) -> _Entry | None:
        main = self._order
        if not main or (len(main) == 1 and skip is not None and skip in main):
            return None
        mte = self._mte
        while True:
            entry: _Entry = next(iter(main))
            if entry is not skip:
                if entry.index == 0:
                    return entry
                entry.index -= 1
            mte(entry)

    def _evict_small(self, skip: _Entry | None) -> _Entry | None:
        small = self._small
        while small:
            if len(small) == 1 and skip is not None and skip in small:
                return None
            entry = next(iter(small))
            if entry is skip:
                small.move_to_end(entry)
                continue
            if entry.index >= MOVE_TO_MAIN:
                del small[entry]
                self._s_size -= entry.size
                entry.index = 0
                self._queue(entry, True)
                continue
            self._ghost_push(entry.item, entry.size)
            return entry
        return None

    def _p_order(self) -> list[_Entry]:
        return [*self._small, *self._order]

    def _p_check(self) -> None:
        main, small = self._order, self._small
        _require(len(main) + len(small) == len(self._data), "order length")
        _require({id(e) for e in self._p_order()} == {id(e) for e in self._data.values()},
                 "order and data disagree")
        _require(all(e.index in (0, 1, 2, 3) for e in self._data.values()), "frequencies")
        _require(sum(e.size for e in main) == self._m_size, "main size")
        _require(sum(e.size for e in small) == self._s_size, "small size")
        _require(sum(self._ghost.values()) == self._ghost_used <= self._gcap, "ghost size")

    # -- pickle -------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["small_fraction"] = self._small_fraction
        params["ghost_fraction"] = self._ghost_fraction
        return params

    def _setup_from(self, params: dict[str, Any]) -> None:
        self._fractions = (check_fraction(params["small_fraction"], "small_fraction"),
                           check_fraction(params["ghost_fraction"], "ghost_fraction"))
        super()._setup_from(params)

    def _p_state(self) -> Any:
        return ([e.index for e in self._p_order()], len(self._small), list(self._ghost.items()),
                self._has_evicted)

    def _p_restore_extras(self, extra: Any, n: int) -> list[Any]:
        if not (isinstance(extra, tuple) and len(extra) == 4 and isinstance(extra[0], list)
                and len(extra[0]) == n and all(type(f) is int and 0 <= f <= 3 for f in extra[0])
                and type(extra[1]) is int and 0 <= extra[1] <= n
                and isinstance(extra[2], list) and type(extra[3]) is bool):
            raise ValueError("invalid cache state: S3-FIFO")
        return [(f, i >= extra[1]) for i, f in enumerate(extra[0])]

    def _p_restore_one(self, entry: _Entry, extra: Any) -> None:
        # entry.item: the key's hash, taken before the entry was stored (__setstate__)
        entry.index = extra[0]
        self._queue(entry, extra[1])

    def _p_restore_end(self, extra: Any) -> None:
        for pair in extra[2]:
            if not (isinstance(pair, tuple) and len(pair) == 2 and type(pair[0]) is int
                    and type(pair[1]) is int and pair[1] >= 1
                    and pair[1] <= self._gcap - self._ghost_used
                    and pair[0] not in self._ghost):
                raise ValueError("invalid cache state: S3-FIFO ghost")
            self._ghost_push(*pair)
        self._has_evicted = extra[3]


