"""The pure-Python twin of the trace simulator (``csrc/sim.c``, ``_core.sim_run``).

Slow (about a million requests a second at best) but the same algorithms step for step, the
same sketch hash and the same pseudo-random stream, so it gives the compiled simulator's
counts exactly: the tests cross-check the two, and ``fastcache.simulate`` falls back to it
when the compiled core is absent. Keys are integers in ``[0, 2**64)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["POLICIES", "Sketch", "climb_amount", "mix64", "rng_next", "sim_run", "window_begin",
           "window_end"]

M64 = (1 << 64) - 1
NIL = -1

POLICIES = ("lru", "lfu", "fifo", "clock", "arc", "sieve", "s3fifo", "wtinylfu",
            "wtinylfu-hc", "wtinylfu-mini", "auto")
PARAM_NAMES = ("window", "protected", "small", "ghost", "threshold", "step", "restart",
               "decay", "max_window", "sample", "variant", "floor", "hysteresis")


def mix64(x: int) -> int:
    """splitmix64's finaliser (``fc_mix64`` in csrc/sketch.h)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    x ^= x >> 31
    return x


class BloomGhost:
    """Two rotating Bloom filters remembering the last ``cap`` to ``2 x cap`` keys added
    (``fc_bloomghost`` of csrc/bloomghost.h, bit for bit): the ghost queue of W-TinyLFU's S3-FIFO
    mode. Each filter is an int of ``mask + 1`` bits."""

    __slots__ = ("bits", "cap", "count", "cur", "mask", "seed")

    def __init__(self, cap: int, seed: int) -> None:
        cap = min(max(cap, 1), 1 << 32)
        m = 64
        while m < GHOST_BITS_PER_KEY * cap:
            m <<= 1
        self.bits = [0, 0]
        self.mask = m - 1
        self.count = 0
        self.cap = cap
        self.cur = 0
        self.seed = (seed ^ 0x5BD1E9955BD1E995) & M64

    def _probes(self, k: int) -> list[int]:
        h = mix64((k ^ self.seed) & M64)
        h2 = (h >> 29) | 1
        return [(h + i * h2) & self.mask for i in range(GHOST_PROBES)]

    def __contains__(self, k: int) -> bool:
        probes = self._probes(k)
        return any(all(f >> b & 1 for b in probes) for f in self.bits)

    def add(self, k: int) -> None:
        if self.count >= self.cap:
            self.cur ^= 1
            self.bits[self.cur] = 0
            self.count = 0
        f = self.bits[self.cur]
        for b in self._probes(k):
            f |= 1 << b
        self.bits[self.cur] = f
        self.count += 1


# bloomghost.h's FC_BLOOMGHOST_PROBES, FC_BLOOMGHOST_BITS_PER_KEY
GHOST_PROBES, GHOST_BITS_PER_KEY = 4, 10
# mini.h's admission modes (FC_ADMIT_*) and FC_ADMIT_S3's counts
ADMIT_ALL, ADMIT_SKETCH, ADMIT_S3 = 0, 1, 2
S3_MAX_FREQ, S3_MOVE_FREQ = 3, 2


def s3_ghost_cap(C: int) -> int:
    """``fc_s3_ghost_cap`` (csrc/mini.h)."""
    return max(int(C * 0.9), 1)


class Sketch:
    """Count-min sketch of 4-bit counters with periodic halving (``fc_sketch``)."""

    def __init__(self, capacity: int, seed: int = 0) -> None:
        cap = min(capacity, 1 << 30)
        n = 8
        while n < cap:
            n <<= 1
        self.table = [0] * n
        self.block_mask = (n >> 3) - 1
        self.seed = seed & M64
        self.size = 0
        self.sample_size = 10 if capacity == 0 else 10 * max(cap, 1)

    def hash(self, key: int) -> int:
        return mix64((key ^ self.seed) & M64)

    def _slots(self, h: int) -> Iterable[tuple[int, int]]:
        block = ((h & 0xFFFFFFFF) & self.block_mask) << 3
        c = h >> 32
        for i in range(4):
            ci = c >> (i << 3)
            yield block + (ci & 1) + (i << 1), (ci >> 1) & 15

    def estimate(self, h: int) -> int:
        return min((self.table[w] >> (nib << 2)) & 15 for w, nib in self._slots(h))

    def increment(self, h: int) -> None:
        added = False
        for w, nib in self._slots(h):
            if (self.table[w] >> (nib << 2)) & 15 != 15:
                self.table[w] += 1 << (nib << 2)
                added = True
        if added:
            self.size += 1
            if self.size == self.sample_size:
                self.reset()

    def reset(self) -> None:
        odd = 0
        for i, v in enumerate(self.table):
            odd += bin(v & 0x1111111111111111).count("1")
            self.table[i] = (v >> 1) & 0x7777777777777777
        self.size = (self.size - (odd >> 2)) >> 1


class _Lists:
    """Circular doubly linked lists over node indexes; node h < sentinels is list h's head."""

    def __init__(self, sentinels: int) -> None:
        self.prev = list(range(sentinels))
        self.next = list(range(sentinels))
        self.key: list[int] = [0] * sentinels
        self.q: list[int] = [0] * sentinels
        self.freq: list[int] = [0] * sentinels
        self.bit: list[int] = [0] * sentinels
        self.free: list[int] = []
        self.where: dict[int, int] = {}  # the simulator's table: key -> node

    def new(self, key: int) -> int:
        if self.free:
            x = self.free.pop()
        else:
            x = len(self.prev)
            for a in (self.prev, self.next, self.key, self.q, self.freq, self.bit):
                a.append(0)
        self.key[x] = key
        self.freq[x] = 0
        self.bit[x] = 0
        self.where[key] = x
        return x

    def unlink(self, i: int) -> None:
        p, n = self.prev[i], self.next[i]
        self.next[p] = n
        self.prev[n] = p

    def push(self, h: int, i: int) -> None:
        t = self.prev[h]
        self.prev[i] = t
        self.next[i] = h
        self.next[t] = i
        self.prev[h] = i

    def move(self, h: int, i: int) -> None:
        self.unlink(i)
        self.push(h, i)

    def first(self, h: int) -> int:
        return self.next[h]

    def drop(self, x: int) -> None:
        self.unlink(x)
        del self.where[self.key[x]]
        self.free.append(x)


class _Run:
    def __init__(self, keys: Sequence[int], sizes: Sequence[int] | None, cap: int, seed: int,
                 params: Mapping[str, float]) -> None:
        self.keys = keys
        self.sizes = sizes
        self.cap = cap
        self.seed = seed & M64
        self.p = params
        self.hits = self.misses = self.bytes_hit = self.bytes_missed = 0
        self.window_final = 0

    def get(self, name: str, default: float) -> float:
        return float(self.p.get(name, default))

    def hit(self, i: int) -> None:
        self.hits += 1
        if self.sizes is not None:
            self.bytes_hit += self.sizes[i]

    def miss(self, i: int) -> None:
        self.misses += 1
        if self.sizes is not None:
            self.bytes_missed += self.sizes[i]


def _simple(R: _Run, kind: int) -> None:
    L = _Lists(1)
    count = 0
    for i, k in enumerate(R.keys):
        x = L.where.get(k, NIL)
        if x != NIL:
            R.hit(i)
            if kind == 0:
                L.move(0, x)
            elif kind == 2:
                L.bit[x] = 1
            continue
        R.miss(i)
        if count == R.cap:
            v = L.first(0)
            if kind == 2:
                while L.bit[v]:
                    L.bit[v] = 0
                    L.move(0, v)
                    v = L.first(0)
            L.drop(v)
        else:
            count += 1
        L.push(0, L.new(k))


def _sieve(R: _Run) -> None:
    L = _Lists(1)
    count = 0
    hand = NIL
    for i, k in enumerate(R.keys):
        x = L.where.get(k, NIL)
        if x != NIL:
            R.hit(i)
            L.bit[x] = 1
            continue
        R.miss(i)
        if count == R.cap:
            v = hand if hand != NIL else L.first(0)
            while L.bit[v]:
                L.bit[v] = 0
                v = L.next[v]
                if v == 0:
                    v = L.first(0)
            hand = L.next[v]
            if hand == 0:
                hand = NIL
            L.drop(v)
        else:
            count += 1
        L.push(0, L.new(k))


def _lfu(R: _Run) -> None:
    # buckets: count -> keys in least-recently-used-first order (dicts keep insertion order)
    buckets: dict[int, dict[int, None]] = {}
    counts: dict[int, int] = {}
    order: list[int] = []  # the distinct counts present, ascending (small: kept sorted)
    import bisect

    def add(k: int, c: int) -> None:
        b = buckets.get(c)
        if b is None:
            b = buckets[c] = {}
            bisect.insort(order, c)
        b[k] = None
        counts[k] = c

    def remove(k: int) -> None:
        c = counts.pop(k)
        b = buckets[c]
        del b[k]
        if not b:
            del buckets[c]
            order.pop(bisect.bisect_left(order, c))

    for i, k in enumerate(R.keys):
        c = counts.get(k)
        if c is not None:
            R.hit(i)
            remove(k)
            add(k, c + 1)
            continue
        R.miss(i)
        if len(counts) == R.cap:
            remove(next(iter(buckets[order[0]])))
        add(k, 1)


def _arc(R: _Run) -> None:
    T1, T2, B1, B2 = 0, 1, 2, 3
    L = _Lists(4)
    ln = [0, 0, 0, 0]
    C = R.cap
    p = 0

    def replace(in_b2: bool) -> None:
        if ln[T1] >= 1 and ((in_b2 and ln[T1] == p) or ln[T1] > p):
            src, dst = T1, B1
        else:
            src, dst = T2, B2
        v = L.first(src)
        L.move(dst, v)
        L.q[v] = dst
        ln[src] -= 1
        ln[dst] += 1

    for i, k in enumerate(R.keys):
        x = L.where.get(k, NIL)
        if x != NIL and L.q[x] in (T1, T2):
            R.hit(i)
            ln[L.q[x]] -= 1
            L.move(T2, x)
            L.q[x] = T2
            ln[T2] += 1
            continue
        R.miss(i)
        if x != NIL:
            if L.q[x] == B1:
                d = 1 if ln[B1] >= ln[B2] else ln[B2] // ln[B1]
                p = min(p + d, C)
                replace(False)
            else:
                d = 1 if ln[B2] >= ln[B1] else ln[B1] // ln[B2]
                p = max(p - d, 0)
                replace(True)
            ln[L.q[x]] -= 1
            L.move(T2, x)
            L.q[x] = T2
            ln[T2] += 1
            continue
        if ln[T1] + ln[B1] == C:
            if ln[T1] < C:
                L.drop(L.first(B1))
                ln[B1] -= 1
                replace(False)
            else:
                L.drop(L.first(T1))
                ln[T1] -= 1
        else:
            total = sum(ln)
            if total >= C:
                if total == 2 * C:
                    L.drop(L.first(B2))
                    ln[B2] -= 1
                replace(False)
        x = L.new(k)
        L.push(T1, x)
        L.q[x] = T1
        ln[T1] += 1


def _s3fifo(R: _Run) -> None:
    QS, QM, QG = 0, 1, 2
    C = R.cap
    small = R.get("small", 0.10)
    variant = int(R.get("variant", 1))
    thr = int(R.get("threshold", 2))
    scap = int(C * small)
    if scap == 0 and C >= 2 and small > 0:
        scap = 1
    mcap = C - scap
    gcap = int(C * R.get("ghost", 0.90))
    L = _Lists(3)
    ln = [0, 0, 0]

    def evict_main() -> None:
        while ln[QM] > 0:
            v = L.first(QM)
            if L.freq[v] >= 1:
                L.freq[v] -= 1
                L.move(QM, v)
            else:
                L.drop(v)
                ln[QM] -= 1
                return

    def evict_small() -> None:
        while ln[QS] > 0:
            v = L.first(QS)
            ln[QS] -= 1
            if L.freq[v] >= thr:
                L.move(QM, v)
                L.q[v] = QM
                L.freq[v] = 0
                ln[QM] += 1
                if variant == 1 and ln[QM] > mcap:
                    evict_main()
                continue
            if gcap > 0:
                if ln[QG] >= gcap:
                    L.drop(L.first(QG))
                    ln[QG] -= 1
                L.move(QG, v)
                L.q[v] = QG
                ln[QG] += 1
            else:
                L.drop(v)
            return

    has_evicted = False
    for i, k in enumerate(R.keys):
        x = L.where.get(k, NIL)
        if x != NIL and L.q[x] != QG:
            R.hit(i)
            if L.freq[x] < 3:
                L.freq[x] += 1
            continue
        R.miss(i)
        ghost_hit = x != NIL
        if ghost_hit and variant == 0:
            L.unlink(x)
            L.q[x] = QM
            ln[QG] -= 1
        while ln[QS] + ln[QM] >= C:
            has_evicted = True
            if variant == 1:
                from_main = ln[QM] > 0 and not (ln[QS] >= scap and ln[QS] > 0)
            else:
                from_main = ln[QM] > mcap or ln[QS] == 0
            if from_main:
                evict_main()
            else:
                evict_small()
        if variant == 1 and ghost_hit:
            x = L.where.get(k, NIL)
            ghost_hit = x != NIL
            if ghost_hit:
                L.unlink(x)
                ln[QG] -= 1
        if not ghost_hit:
            x = L.new(k)
        L.freq[x] = 0
        if ghost_hit or scap == 0 or (variant == 0 and not has_evicted and ln[QS] >= scap):
            L.push(QM, x)
            L.q[x] = QM
            ln[QM] += 1
        else:
            L.push(QS, x)
            L.q[x] = QS
            ln[QS] += 1


def rng_next(s: int) -> tuple[int, int]:
    """xorshift64* (``rng_next`` in sim.c): (new state, output)."""
    s ^= s >> 12
    s ^= (s << 25) & M64
    s ^= s >> 27
    return s, (s * 0x2545F4914F6CDD1D) & M64


def climb_amount(rate: float, prev_rate: float, step: float, step_pct: float, restart: float,
                 decay: float, capacity: float) -> tuple[float, float, float]:
    """The hill climber's decision (``fc_climb_amount`` in csrc/sketch.h): (the window's
    adjustment, the new previous rate, the new step)."""
    change = rate - prev_rate
    amount = step if change >= 0 else -step
    if abs(change) >= restart:
        step = step_pct * capacity * (1 if amount >= 0 else -1)
    else:
        step = decay * amount
    return amount, rate, step


def window_begin(adj: int, pmax: int, wmax: int, wcap: int) -> tuple[int, int, int]:
    """The climber's move of the window's boundary (``fc_window_begin`` in csrc/sketch.h):
    (quota, new pmax, new wmax); quota > 0 moves that much of main to the window, < 0 that
    much of the window to probation. ``window_end`` gives back what was not moved."""
    if adj > 0:
        quota = min(adj, pmax)
        if quota > wcap - wmax:
            quota = max(wcap - wmax, 0)
    elif adj < 0 and wmax > 1:
        quota = -min(-adj, wmax - 1)
    else:
        return 0, pmax, wmax
    return quota, pmax - quota, wmax + quota


def window_end(left: int, pmax: int, wmax: int) -> tuple[int, int]:
    """(pmax, wmax) after a move that left ``left`` of the quota (``fc_window_end``)."""
    return pmax + left, wmax - left


QW, QP, QR = 0, 1, 2  # W-TinyLFU's segments: window, probation, protected


class _WT:
    """One W-TinyLFU cache (``WT`` in sim.c): an LRU window, a segmented main, the sketch's
    admission filter (``filter``: ``ADMIT_ALL``, every candidate enters; ``ADMIT_SKETCH``;
    ``ADMIT_S3``, S3-FIFO's rules on the same segments, ``s3_miss``)."""

    def __init__(self, C: int, wfrac: float, pfrac: float, seed: int) -> None:
        self.C = C
        self.sk = Sketch(C, seed)
        self.L = _Lists(3)
        main_max = int(C * (1.0 - wfrac))
        self.wmax = C - main_max
        self.pmax = int(main_max * pfrac)
        self.len = [0, 0, 0]
        rng = seed ^ 0x9E3779B97F4A7C15
        self.rng = rng if rng else 1
        self.seed = seed
        self.filter = ADMIT_SKETCH
        self.ghost: BloomGhost | None = None

    def s3_evict(self) -> None:
        """ADMIT_S3: evict one entry (``wt_s3_evict``)."""
        L, ln = self.L, self.len
        while True:
            if (ln[QW] >= self.wmax and ln[QW] > 0) or ln[QP] + ln[QR] == 0:
                v = L.first(QW)
                if L.freq[v] >= S3_MOVE_FREQ:
                    self.shift(QW, QP)
                    L.freq[v] = 0
                    continue
                if self.ghost is None:  # made by its first key (``wt_ghost_add``)
                    self.ghost = BloomGhost(s3_ghost_cap(self.C), self.seed)
                self.ghost.add(L.key[v])
                q = QW
            else:
                q = QP if ln[QP] else QR
                v = L.first(q)
                if L.freq[v] > 0:
                    L.freq[v] -= 1
                    L.move(q, v)
                    continue
            ln[q] -= 1
            L.drop(v)
            return

    def s3_miss(self, k: int) -> bool:
        """ADMIT_S3: a miss for k (``wt_s3_miss``): room first, then k to main's tail if the
        ghost remembers it, else to the small queue's."""
        L, ln = self.L, self.len
        if self.C == 0:
            return False
        while sum(ln) >= self.C:
            self.s3_evict()
        x = L.new(k)
        q = QP if self.ghost is not None and k in self.ghost else QW
        L.push(q, x)
        L.q[x] = q
        ln[q] += 1
        if ln[QW] > self.wmax:
            self.shift(QW, QP)
        return False

    def shift(self, src: int, dst: int) -> None:
        L = self.L
        v = L.first(src)
        L.move(dst, v)
        L.q[v] = dst
        self.len[src] -= 1
        self.len[dst] += 1

    def access(self, k: int) -> bool:
        """One request for k (``wt_access``): True on a hit; a miss inserts k."""
        L, sk, ln = self.L, self.sk, self.len
        sk.increment(sk.hash(k))
        x = L.where.get(k, NIL)
        if self.filter == ADMIT_S3:
            if x == NIL:
                return self.s3_miss(k)
            if L.freq[x] < S3_MAX_FREQ:
                L.freq[x] += 1
            return True
        if x != NIL:
            if L.q[x] == QP:
                L.move(QR, x)
                L.q[x] = QR
                ln[QP] -= 1
                ln[QR] += 1
                if ln[QR] > self.pmax:
                    self.shift(QR, QP)
            else:
                L.move(L.q[x], x)
            return True
        x = L.new(k)
        L.push(QW, x)
        L.q[x] = QW
        ln[QW] += 1
        cand = NIL
        if ln[QW] > self.wmax:
            cand = L.first(QW)
            self.shift(QW, QP)
        if sum(ln) > self.C:
            q = QP if ln[QP] else QR if ln[QR] else QW
            v = ev = L.first(q)
            if cand != NIL and v != cand and self.filter == ADMIT_SKETCH:
                fc = sk.estimate(sk.hash(L.key[cand]))
                fv = sk.estimate(sk.hash(L.key[v]))
                admit = fc > fv
                if not admit and fc >= 6:
                    self.rng, out = rng_next(self.rng)
                    admit = (out & 127) == 0
                ev = v if admit else cand
            ln[L.q[ev]] -= 1
            L.drop(ev)
        return False

    def move_window(self, adj: int, wcap: int) -> None:
        """Move the window's boundary by adj entries (``wt_move_window``)."""
        ln = self.len
        quota, self.pmax, self.wmax = window_begin(adj, self.pmax, self.wmax, wcap)
        t = 0
        if adj > 0:
            while ln[QR] > self.pmax:
                self.shift(QR, QP)
            while t < 1000 and quota > 0:
                q = QP if ln[QP] else QR if ln[QR] else NIL
                if q == NIL:
                    break
                self.shift(q, QW)
                quota -= 1
                t += 1
        else:
            while t < 1000 and quota < 0 and ln[QW]:
                self.shift(QW, QP)
                quota += 1
                t += 1
        self.pmax, self.wmax = window_end(quota, self.pmax, self.wmax)

    def configure(self, window: float, protect: float, filter_: int) -> None:
        """Take a candidate configuration (``wt_configure``)."""
        target = self.C - int(self.C * (1.0 - window))
        self.pmax = self.C - self.wmax  # all of main pays for a larger window
        t = 0
        while t < 64 and self.wmax != target:
            before = self.wmax
            self.move_window(target - self.wmax, self.C)
            if self.wmax == before:
                break
            t += 1
        self.pmax = int((self.C - self.wmax) * protect)
        while self.len[QR] > self.pmax:
            self.shift(QR, QP)
        self.filter = filter_


def _wtlfu(R: _Run, climb: bool) -> None:
    C = R.cap
    wfrac = R.get("window", 0.01)
    pfrac = R.get("protected", 0.80)
    step_pct = R.get("step", 0.0625)
    restart = R.get("restart", 0.05)
    decay = R.get("decay", 0.98)
    maxw = R.get("max_window", 1.0)
    sample_mult = R.get("sample", 10.0) or 10.0
    W = _WT(C, wfrac, pfrac, R.seed)
    wcap = max(int(C * maxw), 1)
    sample_size = int(sample_mult * (C or 1))
    s_hits = s_reqs = 0
    prev_rate = 0.0
    step = -step_pct * C
    for i, k in enumerate(R.keys):
        if W.access(k):
            R.hit(i)
            s_hits += 1
        else:
            R.miss(i)
        if not climb:
            continue
        s_reqs += 1
        if s_reqs < sample_size:
            continue
        amount, prev_rate, step = climb_amount(s_hits / s_reqs, prev_rate, step, step_pct,
                                               restart, decay, C)
        s_hits = s_reqs = 0
        W.move_window(int(amount), wcap)
    R.window_final = W.wmax


# the candidate configurations of the miniature simulations (FC_MINI_CONFIGS, csrc/sim.c):
# (window, protected, admission mode)
MINI_CONFIGS = ((0.01, 0.80, ADMIT_SKETCH), (0.20, 0.50, ADMIT_SKETCH),
                (0.01, 0.50, ADMIT_ALL), (0.10, 0.00, ADMIT_S3))


MINI_FLOOR = 256  # mini.h's FC_MINI_FLOOR: shadows of at most 256 entries


class Mini:
    """The miniature simulations (``fc_mini`` of csrc/mini.h): one shadow ``_WT`` per
    candidate configuration, fed the sampled keys; the one mechanism of ``_mini`` (the
    simulator's ``wtinylfu-mini``) and ``WTinyLFUCache(adaptive=True)`` (wtinylfu.py).
    A negative parameter takes its default."""

    __slots__ = ("decay", "hyst", "period", "s_reqs", "salt", "score", "shadows", "thr")

    def __init__(self, C: int, seed: int, floor: float = -1, period: float = -1,
                 decay: float = -1, hyst: float = -1) -> None:
        if floor < 1:
            floor = MINI_FLOOR
        rate = 1.0 if C <= floor else floor / C
        self.salt = (seed ^ 0x5851F42D4C957F2D) & M64
        self.thr = int(rate * 16777216.0)
        cs = max(int(C * rate + 0.5), 1)
        self.period = max(int((period if period > 0 else 1.0) * cs), 1)
        self.s_reqs = 0
        self.decay = decay if decay >= 0 else 0.9
        self.hyst = hyst if hyst >= 0 else 0.02
        self.score = [0.0] * len(MINI_CONFIGS)
        self.shadows = []
        for window, protect, filter_ in MINI_CONFIGS:
            s = _WT(cs, window, protect, seed)
            s.filter = filter_
            self.shadows.append(s)

    def sampled(self, k: int) -> bool:
        """Whether the shadows see key k (``fc_mini_sampled``)."""
        return mix64(k ^ self.salt) >> 40 < self.thr

    def step(self, k: int, cur: int) -> int:
        """A sampled request for k in configuration cur: the configuration to take."""
        score = self.score
        for j, s in enumerate(self.shadows):
            score[j] += 1 - s.access(k)
        self.s_reqs += 1
        if self.s_reqs < self.period:
            return cur
        self.s_reqs = 0
        best = cur
        for j in range(len(score)):
            if score[j] < score[best]:
                best = j
        if best != cur and score[best] < score[cur] * (1.0 - self.hyst):
            cur = best
        self.score = [x * self.decay for x in score]
        return cur


def _mini(R: _Run) -> None:
    """W-TinyLFU configured by miniature simulations (``run_mini`` in sim.c)."""
    C = R.cap
    m = Mini(C, R.seed, R.get("floor", -1), R.get("sample", -1), R.get("decay", -1),
             R.get("hysteresis", -1))
    W = _WT(C, MINI_CONFIGS[0][0], MINI_CONFIGS[0][1], R.seed)
    cur = 0
    for i, k in enumerate(R.keys):
        if W.access(k):
            R.hit(i)
        else:
            R.miss(i)
        if not m.sampled(k):
            continue
        nxt = m.step(k, cur)
        if nxt != cur:
            cur = nxt
            W.configure(*MINI_CONFIGS[cur])
    R.window_final = W.wmax


_RUNNERS: dict[str, Callable[[_Run], None]] = {
    "lru": lambda R: _simple(R, 0),
    "fifo": lambda R: _simple(R, 1),
    "clock": lambda R: _simple(R, 2),
    "lfu": _lfu,
    "arc": _arc,
    "sieve": _sieve,
    "s3fifo": _s3fifo,
    "wtinylfu": lambda R: _wtlfu(R, False),
    "wtinylfu-hc": lambda R: _wtlfu(R, True),
    "wtinylfu-mini": _mini,
    "auto": _mini,  # the adaptive default (sim.c's POLICIES)
}


def sim_run(policy: str, keys: Iterable[int], capacity: int, sizes: Iterable[int] | None = None,
            seed: int = 0, params: Mapping[str, float] | None = None
            ) -> tuple[int, int, int, int, int]:
    """The twin of ``_core.sim_run``: (hits, misses, bytes_hit, bytes_missed, window)."""
    if policy not in _RUNNERS:
        raise ValueError(f"unknown policy {policy!r}")
    if not 0 <= capacity < (1 << 32) // 4:
        raise ValueError(f"capacity must be in 0..{(1 << 32) // 4 - 1}, not {capacity}")
    params = dict(params or {})
    for name, value in params.items():
        if name not in PARAM_NAMES:
            raise ValueError(f"unknown parameter {name!r}")
        if not 0 <= float(value) <= 1e9:
            raise ValueError(f"parameter {name} must be a number >= 0, not {value!r}")
    for name in ("window", "protected", "small", "max_window", "hysteresis"):
        if float(params.get(name, 0)) > 1:
            raise ValueError("fractions must be in [0, 1]")
    ks = [int(k) & M64 for k in keys]
    sz = None if sizes is None else [int(s) for s in sizes]
    if sz is not None and len(sz) != len(ks):
        raise ValueError(f"sizes has {len(sz)} items, keys {len(ks)}")
    R = _Run(ks, sz, capacity, seed, params)
    if capacity == 0:
        R.misses = len(ks)
        R.bytes_missed = sum(sz) if sz is not None else 0
    else:
        _RUNNERS[policy](R)
    return R.hits, R.misses, R.bytes_hit, R.bytes_missed, R.window_final
