"""Pure-Python twin of the compiled W-TinyLFU policy (``csrc/wtinylfu.c``): ``WTinyLFUCache``.

The same algorithm, step for step (the opening note of ``csrc/wtinylfu.c`` describes it): a
window LRU in front of a segmented LRU (probation, protected), a count-min sketch (``Sketch``
of ``sim.py``, the twin of ``csrc/sketch.h``) deciding whether the window's least recently
used entry displaces probation's, and, with ``adaptive``, the miniature simulations (``Mini``
of ``sim.py``, the twin of ``csrc/mini.h``) that pick the configuration (``"climb"``:
Caffeine's hill climber on the window's size). The segments are three ``OrderedDict`` of
entries (the C keeps them as three ranges of its one eviction list); an entry's ``bucket`` is
its segment, its ``index`` its key's hash (the C's stored hash), so no user code runs while
they change, and its ``item`` its count under S3-FIFO's rules (``ADMIT_S3``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any, Literal

from .._types import process_seed
from .caches import MISSING, PLAIN, Cache, _Entry, _require
from .sim import (
    ADMIT_S3,
    ADMIT_SKETCH,
    M64,
    MINI_CONFIGS,
    S3_MAX_FREQ,
    S3_MOVE_FREQ,
    BloomGhost,
    Mini,
    Sketch,
    climb_amount,
    rng_next,
    s3_ghost_cap,
    window_begin,
    window_end,
)

__all__ = ["WTinyLFUCache"]

PROBATION, PROTECTED, WINDOW = 0, 1, 2
SK_EAGER = 1 << 16
SK_MAX = 1 << 24
INT64_MAX = (1 << 63) - 1
FIXED, MINI, CLIMB = 0, 1, 2  # adaptive=False, True, "climb" (the C's FC_WT_*)
_ADAPTIVE = {FIXED: False, MINI: True, CLIMB: "climb"}


def _options(window: Any, adaptive: Any, seed: Any) -> tuple[float, int, int, Any]:
    """Validate ``window``/``adaptive``/``seed`` (the C's ``parse_options``)."""
    if isinstance(window, bool) or not isinstance(window, (int, float)):
        raise TypeError(f"window must be a number, not {type(window).__name__}")
    wf = float(window)
    if not 0.0 < wf <= 1.0:
        raise ValueError(f"window must be in (0, 1], not {window!r}")
    if isinstance(adaptive, str):
        if adaptive != "climb":
            raise ValueError(f"adaptive must be True, False or 'climb', not {adaptive!r}")
        flag = CLIMB
    else:
        flag = MINI if adaptive else FIXED
    if seed is None:
        return wf, flag, process_seed(), None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or None, not {type(seed).__name__}")
    return wf, flag, int(seed) & M64, int(seed)


def _pow2_words(n: int) -> int:
    p = 8
    while p < n:
        p <<= 1
    return p


class WTinyLFUCache(Cache):
    """Window TinyLFU cache: a small LRU window in front of a segmented LRU whose entries are
    admitted by a frequency sketch; ``adaptive`` picks the window's size, the protected
    segment's and the admission rule (the sketch's filter, none, or S3-FIFO's rules) by
    miniature simulations (``"climb"``: a hill climber on the window's size)."""

    __slots__ = (
        "_adaptive",
        "_config",
        "_filter",
        "_ghost",
        "_hash_seed",
        "_len",
        "_mini",
        "_norecord",
        "_old_size",
        "_pmax",
        "_prev_rate",
        "_rng",
        "_s_hits",
        "_s_reqs",
        "_sample_size",
        "_seed",
        "_segs",
        "_sk",
        "_step",
        "_window",
        "_wmax",
        "_write_hash",
    )
    _ordered = False

    def __init__(self, maxsize: Any, getsizeof: Callable[[Any], int] | None = None,
                 window: float = 0.01, adaptive: bool | Literal["climb"] = True,
                 seed: int | None = None, *,
                 on_evict: Callable[[Any, Any, str], object] | None = None,
                 stats: bool = False) -> None:
        bool(stats)
        opts = _options(window, adaptive, seed)
        self._window, self._adaptive, self._hash_seed, self._seed = opts
        self._setup(maxsize, getsizeof, on_evict, stats)

    # -- configuration ------------------------------------------------------------------------

    def _p_init(self) -> None:
        self._segs: list[collections.OrderedDict[_Entry, None]] = [
            collections.OrderedDict() for _ in range(3)]
        self._len = [0, 0, 0]
        self._sk: Sketch | None = None
        self._mini: Mini | None = None
        self._ghost: BloomGhost | None = None
        self._config = 0
        self._filter = ADMIT_SKETCH
        self._norecord = False
        self._old_size = 0
        self._write_hash = 0

    def _p_config(self) -> None:
        """The policy's state afresh (the C's ``start``)."""
        maxsize = self._maxsize
        self._sk = None
        self._mini = None
        self._ghost = None
        self._config = 0
        self._filter = ADMIT_SKETCH
        seed = self._hash_seed
        self._rng = (seed ^ 0x9E3779B97F4A7C15) or 1
        if maxsize == float("inf"):
            self._wmax, self._pmax = INT64_MAX, 0
        else:
            main_max = min(int(maxsize * (1.0 - self._window)), maxsize)
            self._wmax = maxsize - main_max
            self._pmax = int(main_max * 0.80)
        sample = 10.0 * (maxsize if maxsize else 1)
        self._sample_size = (1 << 64) - 1 if sample >= 1.8e19 else int(sample)
        self._s_hits = self._s_reqs = 0
        self._prev_rate = 0.0
        self._step = -0.0625 * maxsize if maxsize != float("inf") else 0.0
        self._ensure_sketch()
        self._ensure_mini()

    def _ensure_sketch(self) -> None:
        maxsize = self._maxsize
        if maxsize == float("inf"):
            return
        target = min(len(self._data) if self._sized else maxsize, SK_MAX)
        sk = self._sk
        if sk is not None and _pow2_words(target) <= len(sk.table):
            return
        if (self._sized or target > SK_EAGER) and self._currsize < maxsize // 2 + maxsize % 2:
            return
        self._sk = Sketch(target, self._hash_seed)

    def _ensure_mini(self) -> None:
        """The shadows of adaptive=True, made with the sketch (the C's ``ensure_mini``)."""
        maxsize = self._maxsize
        if self._adaptive != MINI or self._mini is not None or maxsize == float("inf") \
                or maxsize == 0:
            return
        if (self._sized or maxsize > SK_EAGER) and self._currsize < maxsize // 2 + maxsize % 2:
            return
        C = 2 * len(self._data) if self._sized else maxsize
        self._mini = Mini(C or 1, self._hash_seed)

    # -- segments -----------------------------------------------------------------------------

    def _seg_append(self, entry: _Entry, s: int) -> None:
        self._segs[s][entry] = None
        entry.bucket = s
        self._len[s] += entry.size

    def _seg_remove(self, entry: _Entry) -> None:
        s = entry.bucket
        del self._segs[s][entry]
        self._len[s] -= entry.size

    def _seg_move(self, entry: _Entry, s: int) -> None:
        self._seg_remove(entry)
        self._seg_append(entry, s)

    def _seg_first(self, s: int) -> _Entry | None:
        """The first entry of segment ``s`` other than ``_pinned`` (which, if anywhere, is
        that first entry), or ``None``."""
        seg = self._segs[s]
        if not seg:
            return None
        it = iter(seg)
        first = next(it)
        if first is not self._pinned:
            return first
        return next(it, None)

    def _record(self, h: int) -> None:
        sk = self._sk
        if sk is not None:
            sk.increment(sk.hash(h & M64))

    def _estimate(self, entry: _Entry) -> int:
        sk = self._sk
        return 0 if sk is None else sk.estimate(sk.hash(entry.index & M64))

    def _demote_protected(self) -> None:
        prot = self._segs[PROTECTED]
        while self._len[PROTECTED] > self._pmax and prot:
            self._seg_move(next(iter(prot)), PROBATION)

    def _move_window(self, adj: int) -> None:
        """Move the window's boundary by adj (the C's ``move_window``)."""
        maxsize = self._maxsize
        wcap = maxsize if maxsize > 1 else 1
        segs = self._segs
        quota, self._pmax, self._wmax = window_begin(adj, self._pmax, self._wmax, wcap)
        t = 0
        if adj > 0:
            self._demote_protected()
            while t < 1000 and quota > 0:
                seg = segs[PROBATION] or segs[PROTECTED]
                if not seg:
                    break
                x = next(iter(seg))
                self._seg_move(x, WINDOW)
                quota -= x.size
                t += 1
        else:
            while t < 1000 and quota < 0 and segs[WINDOW]:
                x = next(iter(segs[WINDOW]))
                self._seg_move(x, PROBATION)
                quota += x.size
                t += 1
        self._pmax, self._wmax = window_end(quota, self._pmax, self._wmax)

    def _take_config(self, cfg: int) -> None:
        """Take configuration cfg of the miniature simulations (the C's ``configure``)."""
        window, protect, filter_ = MINI_CONFIGS[cfg]
        C = self._maxsize
        target = C - int(C * (1.0 - window))
        self._pmax = C - self._wmax  # all of main pays for a larger window
        t = 0
        while t < 64 and self._wmax != target:
            before = self._wmax
            self._move_window(target - self._wmax)
            if self._wmax == before:
                break
            t += 1
        self._pmax = int((C - self._wmax) * protect)
        self._demote_protected()
        self._filter = filter_
        self._config = cfg

    def _adapt(self, h: int, hit: int) -> None:
        """One request done for the key whose hash is h: the miniature simulations see it if
        it is sampled, or the climber counts it (the C's ``adapt``)."""
        mini = self._mini
        if mini is not None:
            k = h & M64
            if mini.sampled(k):
                nxt = mini.step(k, self._config)
                if nxt != self._config:
                    self._take_config(nxt)
            return
        maxsize = self._maxsize
        if self._adaptive != CLIMB or maxsize == float("inf") or maxsize == 0:
            return
        self._s_hits += hit
        self._s_reqs += 1
        if self._s_reqs < self._sample_size:
            return
        amount, self._prev_rate, self._step = climb_amount(
            self._s_hits / self._s_reqs, self._prev_rate, self._step, 0.0625, 0.05, 0.98,
            float(maxsize))
        self._s_hits = self._s_reqs = 0
        self._move_window(int(amount))

    def _wt_reorder(self, entry: _Entry, old_size: int) -> None:
        s = entry.bucket
        self._len[s] += entry.size - old_size
        if self._filter == ADMIT_S3:
            if entry.item < S3_MAX_FREQ:
                entry.item += 1
        elif s == PROBATION:
            self._seg_move(entry, PROTECTED)
            self._demote_protected()
        else:
            self._segs[s].move_to_end(entry)
        self._adapt(entry.index, 1)

    def _access(self, entry: _Entry) -> None:
        """A hit: the sketch counts it, then the move (the C's ``fc_wtlfu_access``)."""
        self._record(entry.index)
        self._wt_reorder(entry, entry.size)

    # -- policy hooks -------------------------------------------------------------------------

    def _p_link(self, entry: _Entry, deadline: Any = None) -> None:
        """A new entry stored by a write: the window's tail; its overflow to probation, the
        request (a miss) adapts, the sketch and the shadows are made when their time has
        come."""
        entry.index = self._write_hash
        entry.item = 0
        ghost = self._ghost
        main = self._filter == ADMIT_S3 and ghost is not None and entry.index & M64 in ghost
        self._seg_append(entry, PROBATION if main else WINDOW)
        window = self._segs[WINDOW]
        # the C's "the window's first entry is not the list's last"
        while self._len[WINDOW] > self._wmax and len(window) > 1:
            self._seg_move(next(iter(window)), PROBATION)
        self._adapt(entry.index, 0)
        self._ensure_sketch()
        self._ensure_mini()

    def _replace(self, key: Any, entry: _Entry, value: Any, size: int, notes: Any,
                 deadline: Any) -> None:
        self._old_size = entry.size
        super()._replace(key, entry, value, size, notes, deadline)

    def _p_replace(self, entry: _Entry, deadline: Any = None) -> None:
        self._wt_reorder(entry, self._old_size)

    def _p_unlink(self, entry: _Entry) -> None:
        self._seg_remove(entry)

    def _s3_victim(self) -> _Entry | None:
        """ADMIT_S3's victim (the C's ``s3_victim``)."""
        while True:
            small = self._seg_first(WINDOW)
            v = self._seg_first(PROBATION)
            if v is None:
                v = self._seg_first(PROTECTED)
            if (self._len[WINDOW] >= self._wmax and small is not None) or v is None:
                if small is None:
                    return None
                if small.item >= S3_MOVE_FREQ:
                    self._seg_move(small, PROBATION)
                    small.item = 0
                    continue
                if self._ghost is None:  # made by its first key (the C's ghost_add)
                    C = len(self._data) if self._sized else self._maxsize
                    self._ghost = BloomGhost(s3_ghost_cap(min(C, SK_MAX)), self._hash_seed)
                self._ghost.add(small.index & M64)
                return small
            if v.item == 0:
                return v
            v.item -= 1
            self._segs[v.bucket].move_to_end(v)

    def _p_first(self) -> _Entry:
        """The victim (the C's ``fc_wtlfu_victim``): the window's candidate, when the window
        is full, moves to probation and competes with probation's first entry."""
        data = self._data
        pinned = self._pinned
        if not data or (len(data) == 1 and pinned is not MISSING and pinned.live):
            raise KeyError(f"{type(self).__name__} is empty") from None
        if self._filter == ADMIT_S3:
            victim = self._s3_victim()
            if victim is None:
                raise KeyError(f"{type(self).__name__} is empty") from None
            return victim
        cand: _Entry | None = None
        if self._len[WINDOW] >= self._wmax:
            cand = self._seg_first(WINDOW)
            if cand is not None:
                self._seg_move(cand, PROBATION)
        v: _Entry | None = None
        for s in (PROBATION, PROTECTED, WINDOW):
            v = self._seg_first(s)
            if v is not None:
                break
        if v is None:
            raise KeyError(f"{type(self).__name__} is empty") from None
        if cand is None or v is cand or self._filter != ADMIT_SKETCH:
            return v
        fc, fv = self._estimate(cand), self._estimate(v)
        admit = fc > fv
        if not admit and fc >= 6:
            self._rng, out = rng_next(self._rng)
            admit = (out & 127) == 0
        return v if admit else cand

    def _p_order(self) -> list[_Entry]:
        segs = self._segs
        return [*segs[PROBATION], *segs[PROTECTED], *segs[WINDOW]]

    def _p_clear(self) -> None:
        for seg in self._segs:
            seg.clear()
        self._len[:] = [0, 0, 0]

    def _p_check(self) -> None:
        segs = self._segs
        _require(sum(len(s) for s in segs) == len(self._data), "segment population")
        stored = {id(e) for e in self._data.values()}
        for s, seg in enumerate(segs):
            _require(all(e.bucket == s and id(e) in stored and 0 <= e.item <= S3_MAX_FREQ
                         for e in seg), "segment entries")
            _require(sum(e.size for e in seg) == self._len[s], "segment sizes")
        _require(self._wmax >= 0 and self._pmax >= 0 and self._rng != 0, "maxima")
        _require(self._filter == MINI_CONFIGS[self._config][2], "configuration")
        _require(self._mini is None or self._adaptive == MINI, "shadows")

    # -- accesses -----------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        return self._counted(key, self._lookup(key) if type(key) in PLAIN
                             else self._locked_lookup(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (an access) if present, else ``default``."""
        return self._get_lookup(key, default)

    def _lookup(self, key: Any) -> Any:
        """The value (an access: the policy's structures change, under the lock) or
        ``MISSING``; the lookup itself runs as the base's (lock held or key plain)."""
        entry = self._data.get(key)
        if entry is None:
            return MISSING
        with self._lock:
            if entry.live:
                self._access(entry)
        return entry.value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._setitem_general(key, value)

    def _store(self, key: Any, value: Any, size: int, notes: Any, deadline: Any = None) -> None:
        h = hash(key)
        if self._norecord:  # a write started again after __init__: counted once (as the C)
            self._norecord = False
        else:
            self._record(h)  # a write is a request: the sketch counts it first
        outer = self._write_hash  # a nested write (from user code) has its own
        self._write_hash = h
        try:
            super()._store(key, value, size, notes, deadline)
        finally:
            self._write_hash = outer

    def _restart_write(self, key: Any, value: Any, ttl: Any = None) -> None:
        self._norecord = True
        try:
            super()._restart_write(key, value, ttl)
        finally:
            self._norecord = False

    # -- pickle -------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params.update(window=self._window, adaptive=_ADAPTIVE[self._adaptive], seed=self._seed)
        return params

    def _setup_from(self, params: dict[str, Any]) -> None:
        self._window, self._adaptive, self._hash_seed, self._seed = _options(
            params["window"], params["adaptive"], params["seed"])
        super()._setup_from(params)

    def _p_state(self) -> Any:
        sk = self._sk
        sketch = None if sk is None else (list(sk.table), sk.size, sk.sample_size)
        order = self._p_order()
        return ([e.bucket | e.item << 2 for e in order], [e.key for e in order],
                (self._hash_seed, self._wmax, self._pmax, self._rng, self._s_hits,
                 self._s_reqs, self._prev_rate, self._step, self._config, sketch))

    def _p_restore_extras(self, extra: Any, n: int) -> list[Any]:
        segs, keys, _state = extra
        segs, keys = list(segs), list(keys)
        # a segment and a count (the C's byte): bits 0-1 and 2-3
        if len(segs) != n or len(keys) != n or not all(
                type(s) is int and 0 <= s <= 15 and s & 3 <= 2 for s in segs):
            raise ValueError("invalid cache state: W-TinyLFU segment")
        # the keys (the entries' own objects: pickle's and deepcopy's memo) are hashed here,
        # before any is stored: their user code then sees a consistent cache
        return [(s, hash(k)) for s, k in zip(segs, keys, strict=True)]

    def _p_restore_one(self, entry: _Entry, extra: Any) -> None:
        entry.index = extra[1]
        entry.item = extra[0] >> 2
        self._seg_append(entry, extra[0] & 3)

    def _p_restore_end(self, extra: Any) -> None:
        _segs, _keys, state = extra
        hseed, wmax, pmax, rng, s_hits, s_reqs, prev, step, config, sketch = state
        ints = (hseed, wmax, pmax, rng, s_hits, s_reqs)
        bounded = self._maxsize != float("inf")
        if not all(type(v) is int and v >= 0 for v in ints) or rng == 0 or s_hits > s_reqs \
                or (bounded and (wmax > self._maxsize or pmax > self._maxsize)):
            raise ValueError("invalid cache state: W-TinyLFU state")
        if type(config) is not int or not 0 <= config < len(MINI_CONFIGS) or (
                config and self._adaptive != MINI):
            raise ValueError("invalid cache state: W-TinyLFU configuration")
        self._config, self._filter = config, MINI_CONFIGS[config][2]
        self._hash_seed, self._wmax, self._pmax, self._rng = hseed & M64, wmax, pmax, rng
        self._s_hits, self._s_reqs = s_hits, s_reqs
        self._prev_rate, self._step = float(prev), float(step)
        if sketch is None:
            self._sk = None
            return
        table, size, sample = sketch
        n = len(table)
        if n < 8 or n > SK_MAX or n & (n - 1) or not 1 <= sample < 1 << 32 or not \
                0 <= size < sample:
            raise ValueError("invalid cache state: W-TinyLFU sketch")
        sk = Sketch(n, self._hash_seed)
        sk.table = [int(v) & M64 for v in table]
        sk.size, sk.sample_size = size, sample
        self._sk = sk
