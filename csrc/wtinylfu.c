/*
 * wtinylfu.c: WTinyLFUCache, Window TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", 2017) as the trace simulator runs it (sim.c run_wtlfu;
 * run_mini, wtinylfu-mini, for adaptive=True; wtinylfu-hc for adaptive="climb"), on the cache
 * classes' table, list and write path.
 *
 * Design. A new key enters the window, an LRU of `window` x maxsize (1% by default) at the
 * tail of the one eviction list; the rest is the main segmented LRU, probation then protected
 * (80% of main). A hit moves its entry to the tail of its segment, a probation hit promotes it
 * to protected (whose least recently used entry goes back to probation when protected is
 * full). Every access counts in the count-min sketch (sketch.h, keyed by `seed`).
 * The cache makes room before it stores (cachetools' protocol: popitem() until the value
 * fits), so the simulator's "insert, then evict" becomes "evict, then insert": a victim is
 * chosen (victim(): fc_wtlfu_victim) as
 *   - when the window is full (its size >= its maximum: the new entry would overflow it), its
 *     least recently used entry, the candidate, moves to probation's tail;
 *   - the victim is probation's least recently used entry (protected's, then the window's,
 *     when probation is empty); if the candidate exists and is not that entry, and the filter
 *     is on, the one of the two with the lower sketch estimate loses: the candidate is
 *     admitted (the victim goes) if its estimate is higher, or at random (1 in 128,
 *     xorshift64* as sim.c) when it is >= 6, Caffeine's defence against an attacker who
 *     floods the sketch to keep a victim in. With the filter off the victim goes.
 * then the new entry joins the window's tail (and, with sizes, the window's overflow moves to
 * probation). With unit sizes this makes exactly the simulator's choices, request for request
 * (tests/core/test_wtinylfu.py replays traces through both).
 *
 * adaptive=True (the default) configures the cache by miniature simulations, the simulator's
 * `wtinylfu-mini` (`auto`), with its mechanism (mini.h; the shadows are sim.c's): every
 * request's key hash is tested for the sample (one fc_mix64, inline); a sampled one (all of
 * them when maxsize <= 256, about 256 / maxsize of them otherwise) is a request to the four
 * shadow caches (mini_step, out of line); when the shadows' decayed miss scores say another
 * configuration of FC_MINI_CONFIGS is better, configure() moves the window's boundary (with
 * the climber's move_window), resizes protected and switches the admission mode. The shadows
 * are fed the keys' Python hashes: keys of equal hash are one key to them.
 * The fourth configuration runs S3-FIFO's rules (FC_ADMIT_S3, mini.h) on the same segments:
 * a hit moves nothing and counts to 3 in bits 2-3 of the entry's seg byte; the victim is
 * s3_victim()'s (the window is the small FIFO, probation and protected the main FIFO, which
 * the configuration's protected share of 0 empties); a new key goes to probation instead of
 * the window when the ghost (bloomghost.h: two rotating Bloom filters, made by the first key
 * it remembers) has it.
 * adaptive="climb" runs Caffeine's hill climber on the window's maximum as sim.c's
 * `wtinylfu-hc`: every 10 x maxsize requests the hit rate of the sample is compared with the
 * previous one; the window keeps moving the same way while it improves (step 6.25% of
 * maxsize, decaying by 0.98, restarting at a 5-point jump), up to the whole cache (kept: it
 * is the climber's sample counting on the hit path, behind the same branch as the sample
 * test). adaptive=False keeps the configuration fixed (sim.c's `wtinylfu`).
 *
 * Requests. A hit (c[k], get, setdefault of a present key) and a write (c[k] = v, new or not)
 * are one request each: the sketch counts the key, the adaptation the hit or the miss. A
 * lookup that misses counts nothing: the write that follows it (cached(), `if k in c: c[k]
 * else: c[k] = v`) is the miss, so each request of a miss-then-insert counts once, as in the
 * simulator and in Caffeine. `in`, peek(), iteration count nothing.
 *
 * Cost (bench/policies.py). A hit is the table's lookup, one sketch increment (the key's four
 * counters in one cache line, unrolled), the move within its segment (seg_to_tail; a
 * probation hit also promotes, and may demote) and the sample test, inline in
 * fc_wtlfu_access; the shadows' request, the climber's sample end and the sketch's halving
 * are out of line. The sample test costs ~10 instructions a hit; a sampled hit adds four
 * shadow requests (~150 instructions each, in the shadows' own memory; one sketch
 * increment for the four, sim.c fc_mini_init): a cache of at most FC_MINI_FLOOR (256)
 * entries samples every key, so its hits cost about 1.4 times the fixed configuration's
 * instructions; one of 1,000 samples a quarter of them (cachegrind, a c[k] hit with its
 * loop, PYTHONHASHSEED=0: 1527 at 128 entries and 1211 at 1,000, against 1083 fixed and
 * 895 for LRUCache; 1717 and 1257 while each shadow counted in a sketch of its own),
 * one of 100,000 0.3% (1938 against 1920, an earlier build). A lookup starts loading the
 * key's sketch block before it probes the table (wtinylfu.h fc_wtlfu_prefetch_lookup), and
 * a write the usual victim's entry (fc_wtlfu_prefetch_write), so that those misses overlap
 * the table's: the same full 100,000-entry cache in one process, uniform hits, went from
 * 1.46x to 1.23x LRUCache's time with it (best of 31 interleaved rounds); bench/policies.py's
 * figures moved by less than its rounds' spread.
 *
 * The sketch hashes a key's Python hash (the one the table stored) with the seed: hash(k) is
 * k for an int 0 <= k < 2**61 - 1, so an int key and the simulator's uint64 key of the same
 * value land on the same counters. It is sized as the simulator's, one 64-bit word per entry
 * of maxsize, allocated at __init__ when that is at most 2**16 words; a larger one (and, with
 * getsizeof, one sized by the number of entries) is allocated when the cache is first half
 * full (Caffeine's lazy sizing: a cache of huge maxsize that stays small costs nothing), at
 * most 2**24 words, and sized up (emptied) as the entries grow; until then the sketch counts
 * nothing. Its memory failure only leaves it unallocated (estimates 0: the candidate loses).
 * The shadows (adaptive=True) are made with the sketch: at __init__ when maxsize <= 2**16,
 * otherwise (and with getsizeof) when the cache is first half full; they count entries, so
 * with getsizeof they model a cache of twice the entries it holds then. Their memory: four
 * W-TinyLFU caches of min(maxsize, 256) entries (about 100 bytes an entry, and the fourth's
 * ghost); its failure only leaves the cache in its configuration (a later write tries
 * again). The cache's own ghost, made when S3-FIFO's rules first evict from the window, takes
 * 2.25 to 4.5 bytes per unit of maxsize (per entry held then, with getsizeof); without memory
 * for it, it remembers nothing (every new key enters the window).
 *
 * Differences from the twin (fastcache/_py/wtinylfu.py): none in behaviour (the reentrancy
 * fuzzer's diff mode holds them to it); its segments are three OrderedDicts, its sketch sim.py's
 * Sketch, its shadows sim.py's Mini, and its pickles are its own, as for every class.
 * Differences from the simulator:
 *   1. With getsizeof, sizes replace counts: the maxima are in size units, the window's
 *      candidate is taken when the window's size is >= its maximum, and what a large entry
 *      makes the window overflow moves to probation after it is stored, with no contest. The
 *      shadows count entries (above).
 *   2. A sketch larger than 2**16 words is allocated when the cache is first half full (above):
 *      the simulator's sketch exists from the first request, so for maxsize > 65536 the counts
 *      of the first half-filling requests are missing here; so are the shadows' (adaptive=True).
 *   3. maxsize=math.inf never evicts: the sketch, the shadows and the climber are not used;
 *      popitem() takes probation's, protected's, then the window's least recently used entry.
 *   4. The shadows see keys' hashes: distinct keys of equal hash (not ints below 2**61 - 1)
 *      are one key to them, as they are to the sketch.
 * Pickling keeps the segments and the entries' counts, the sketch, the window's and
 * protected's sizes, the configuration taken (and so the admission mode), the climber and the
 * random stream (with adaptive "climb" or False a copy evicts as the original would); the
 * shadows and the ghost are not pickled: a copy's start afresh, as a new cache's, in the
 * configuration taken. clear() keeps the sketch, the configuration, the shadows and the ghost
 * (the popularity history); __init__ starts afresh.
 */
#include "core.h"

#define SK_EAGER (UINT64_C(1) << 16)
#define SK_MAX (UINT64_C(1) << 24)
#define WT(c) ((c)->wt)
/* An entry's byte of w->seg: its segment (bits 0-1) and its FC_ADMIT_S3 count (bits 2-3). */
#define SEG(w, ix) ((w)->seg[ix] & 3)
#define S3_FREQ(w, ix) ((w)->seg[ix] >> 2)
#define S3_ONE 4

/* ------------------------------------------------------------------ segments */

static inline void
seg_remove(CacheObject *c, fc_idx ix)
{
    fc_wtlfu *w = WT(c);
    fc_entry *e = c->t.entries;
    int s = SEG(w, ix);
    if (w->head[s] == ix && w->tail[s] == ix)
        w->head[s] = w->tail[s] = FC_NIL;
    else if (w->head[s] == ix)
        w->head[s] = e[ix].next;
    else if (w->tail[s] == ix)
        w->tail[s] = e[ix].prev;
    w->len[s] -= fc_entry_size(c, ix);
}

/* Link ix (unlinked) at the tail of segment s (its count kept). */
static inline void
seg_append(CacheObject *c, fc_idx ix, int s)
{
    fc_wtlfu *w = WT(c);
    fc_idx after = w->tail[s];
    for (int p = s - 1; after == FC_NIL && p >= 0; p--)
        after = w->tail[p];
    fc_list_insert_after(c->t.entries, &c->order, ix, after);
    if (w->head[s] == FC_NIL)
        w->head[s] = ix;
    w->tail[s] = ix;
    w->seg[ix] = (uint8_t)((w->seg[ix] & ~3) | s);
    w->len[s] += fc_entry_size(c, ix);
}

/* Move ix (in segment s) to s's tail: the move of most hits, with nothing to recount. */
static inline void
seg_to_tail(CacheObject *c, fc_idx ix, int s)
{
    fc_wtlfu *w = WT(c);
    fc_entry *e = c->t.entries;
    fc_idx t = w->tail[s];
    if (t == ix)
        return;
    if (w->head[s] == ix)
        w->head[s] = e[ix].next;
    fc_list_unlink(e, &c->order, ix);
    fc_list_insert_after(e, &c->order, ix, t);
    w->tail[s] = ix;
}

static inline void
seg_move(CacheObject *c, fc_idx ix, int s)
{
    if (SEG(WT(c), ix) == s && WT(c)->tail[s] == ix)
        return;
    seg_remove(c, ix);
    fc_list_unlink(c->t.entries, &c->order, ix);
    seg_append(c, ix, s);
}

/* The first entry of segment s other than skip, or FC_NIL. */
static inline fc_idx
seg_first(CacheObject *c, int s, fc_idx skip)
{
    fc_idx h = WT(c)->head[s];
    if (h != skip || h == FC_NIL)
        return h;
    return h == WT(c)->tail[s] ? FC_NIL : c->t.entries[h].next;
}

/* ------------------------------------------------------------------ sketch */

static inline uint64_t
key_hash(fc_wtlfu *w, Py_hash_t h)
{
    return fc_sketch_hash(&w->sk, (uint64_t)h);
}

static inline int
estimate(fc_wtlfu *w, Py_hash_t h)
{
    return w->sk.table ? fc_sketch_estimate(&w->sk, key_hash(w, h)) : 0;
}

/* Allocate or grow the sketch when its time has come (see the opening note). Inline: every
 * insert asks, and a cache without getsizeof whose sketch holds maxsize words has it for
 * good (until __init__), which the first test tells. */
static inline void
ensure_sketch(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    if ((w->sk.table != NULL && !c->sized && (uint64_t)c->maxsize <= w->sk.nwords) ||
        c->unbounded)
        return;
    uint64_t target = c->sized ? (uint64_t)c->t.len : (uint64_t)c->maxsize;
    if (target > SK_MAX)
        target = SK_MAX;
    if (w->sk.table != NULL && target <= w->sk.nwords)  /* nwords: a power of two >= 8 */
        return;
    if ((c->sized || target > SK_EAGER) && c->currsize < c->maxsize / 2 + c->maxsize % 2)
        return;
    fc_sketch_free(&w->sk);
    if (fc_sketch_init(&w->sk, target, w->seed) < 0)
        w->sk.table = NULL;
}

static inline void
record(fc_wtlfu *w, Py_hash_t hash)
{
    if (w->sk.table != NULL)
        fc_sketch_increment(&w->sk, key_hash(w, hash));
}

/* A write (cache.c) is a request: the sketch counts it. */
void
fc_wtlfu_record(CacheObject *c, Py_hash_t hash)
{
    record(WT(c), hash);
}

/* ------------------------------------------------------------------ adapting */

static void
demote_protected(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    while (w->len[FC_WT_PROTECTED] > w->pmax && w->head[FC_WT_PROTECTED] != FC_NIL)
        seg_move(c, w->head[FC_WT_PROTECTED], FC_WT_PROBATION);
}

/* Move the window's boundary by adj (sim.c's wt_move_window, sizes for counts): grow takes
 * main's least recently used entries into the window, shrink gives the window's to probation;
 * at most 1000 moves, a window of at least 1, never above the cache. */
static void
move_window(CacheObject *c, int64_t adj)
{
    fc_wtlfu *w = WT(c);
    int64_t wcap = c->maxsize > 1 ? (int64_t)c->maxsize : 1;
    int64_t quota = fc_window_begin(adj, &w->pmax, &w->wmax, wcap);
    if (adj > 0) {
        demote_protected(c);
        for (int t = 0; t < 1000 && quota > 0; t++) {
            fc_idx x = w->head[FC_WT_PROBATION] != FC_NIL ? w->head[FC_WT_PROBATION]
                                                          : w->head[FC_WT_PROTECTED];
            if (x == FC_NIL)
                break;
            seg_move(c, x, FC_WT_WINDOW);
            quota -= fc_entry_size(c, x);
        }
    }
    else {
        for (int t = 0; t < 1000 && quota < 0 && w->head[FC_WT_WINDOW] != FC_NIL; t++) {
            fc_idx x = w->head[FC_WT_WINDOW];
            seg_move(c, x, FC_WT_PROBATION);
            quota += fc_entry_size(c, x);
        }
    }
    fc_window_end(quota, &w->pmax, &w->wmax);
}

/* The end of a sample: sim.c's climber moves the window's maximum (out of line: once in
 * 10 x maxsize requests). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
climb_adjust(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    double amount = fc_climb_amount((double)w->s_hits / (double)w->s_reqs, &w->prev_rate,
                                    &w->step, 0.0625, 0.05, 0.98, (double)c->maxsize);
    w->s_hits = w->s_reqs = 0;
    move_window(c, (int64_t)amount);
}

static void
mover(void *c, int64_t adj)
{
    move_window(c, adj);
}

/* FC_ADMIT_S3's ghost remembers the key whose hash is h; it is made by its first key, for
 * 0.9 x maxsize keys (0.9 x the entries held then, with getsizeof; at most 0.9 x 2**24).
 * Out of memory it stays unallocated, remembering nothing (a later eviction tries again). */
static void
ghost_add(CacheObject *c, Py_hash_t h)
{
    fc_wtlfu *w = WT(c);
    if (w->ghost.bits[0] == NULL) {
        uint64_t C = c->sized ? (uint64_t)c->t.len : (uint64_t)c->maxsize;
        (void)fc_bloomghost_init(&w->ghost, fc_s3_ghost_cap(C < SK_MAX ? C : SK_MAX),
                                 w->seed);
    }
    fc_bloomghost_add(&w->ghost, (uint64_t)h);
}

/* Take configuration cfg of the miniature simulations (sim.c's wt_configure, sizes for
 * counts): the window's boundary moves to its fraction, protected is resized, the admission
 * mode switched. */
static void
configure(CacheObject *c, int cfg)
{
    fc_wtlfu *w = WT(c);
    w->pmax = fc_mini_resize(c, mover, &w->pmax, &w->wmax, (int64_t)c->maxsize, cfg);
    demote_protected(c);
    w->filter = FC_MINI_CONFIGS[cfg].filter;
    w->config = cfg;
}

/* A sampled request: the shadows see it (out of line: one request in about maxsize / 256
 * of a cache larger than 256). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
mini_step(CacheObject *c, uint64_t k)
{
    fc_wtlfu *w = WT(c);
    int next = fc_mini_step(&w->mini, k, w->config);
    if (next != w->config)
        configure(c, next);
}

/* The shadows of adaptive=True, made with the sketch (see the opening note). Inline: every
 * insert asks; once they exist the first test returns. */
static inline void
ensure_mini(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    if (w->adaptive != FC_WT_MINI || w->mini.sh != NULL || c->unbounded || c->maxsize == 0)
        return;
    if ((c->sized || (uint64_t)c->maxsize > SK_EAGER) &&
        c->currsize < c->maxsize / 2 + c->maxsize % 2)
        return;
    uint64_t C = c->sized ? 2 * (uint64_t)c->t.len : (uint64_t)c->maxsize;
    if (fc_mini_init(&w->mini, C ? C : 1, w->seed, -1, -1, -1, -1) < 0)
        w->mini.sh = NULL;  /* no memory: not adaptive until a later write tries again */
}

/* One request done (hit or miss) for the key whose hash is h: the miniature simulations see
 * it if it is sampled, or the climber counts it. */
static inline void
adapt(CacheObject *c, Py_hash_t h, int hit)
{
    fc_wtlfu *w = WT(c);
    if (w->mini.sh != NULL) {
        if (fc_mini_sampled(&w->mini, (uint64_t)h))
            mini_step(c, (uint64_t)h);
        return;
    }
    if (w->adaptive != FC_WT_CLIMB || c->unbounded || c->maxsize == 0)
        return;
    w->s_hits += (uint64_t)hit;
    if (++w->s_reqs >= w->sample_size)
        climb_adjust(c);
}

/* ------------------------------------------------------------------ the policy hooks */

int
fc_wtlfu_resize(CacheObject *c, Py_ssize_t cap)
{
    uint8_t *seg = PyMem_Realloc(WT(c)->seg, (size_t)cap);
    if (seg == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    WT(c)->seg = seg;
    return 0;
}

/* The entries are gone (clear(), __init__): empty segments; the sketch and the climber stay. */
void
fc_wtlfu_detach(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    if (w == NULL)
        return;
    PyMem_Free(w->seg);
    w->seg = NULL;
    for (int s = 0; s < FC_WT_NSEG; s++) {
        w->head[s] = w->tail[s] = FC_NIL;
        w->len[s] = 0;
    }
}

void
fc_wtlfu_free(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    if (w == NULL)
        return;
    fc_wtlfu_detach(c);
    fc_sketch_free(&w->sk);
    fc_mini_free(&w->mini);
    fc_bloomghost_free(&w->ghost);
    Py_CLEAR(w->seed_obj);
    PyMem_Free(w);
    c->wt = NULL;
}

/* A new entry (fc_entry_link): the window's tail, which is the list's tail; under
 * FC_ADMIT_S3 probation's (main's) if the ghost remembers its key. Its count starts at 0. */
void
fc_wtlfu_enter(CacheObject *c, fc_idx ix)
{
    fc_wtlfu *w = WT(c);
    w->seg[ix] = 0;
    int main = w->filter == FC_ADMIT_S3 &&
               fc_bloomghost_contains(&w->ghost, (uint64_t)c->t.entries[ix].hash);
    seg_append(c, ix, main ? FC_WT_PROBATION : FC_WT_WINDOW);
}

/* Entry ix leaves (fc_entry_remove, before it is unlinked from the list). */
void
fc_wtlfu_leave(CacheObject *c, fc_idx ix)
{
    seg_remove(c, ix);
}

/* A new entry (its key's hash: hash) was stored by a write: the window's overflow goes to
 * probation, the request (a miss) adapts, the sketch and the shadows are made when their time
 * has come. */
void
fc_wtlfu_inserted(CacheObject *c, Py_hash_t hash)
{
    fc_wtlfu *w = WT(c);
    while (w->len[FC_WT_WINDOW] > w->wmax && w->head[FC_WT_WINDOW] != c->order.tail)
        seg_move(c, w->head[FC_WT_WINDOW], FC_WT_PROBATION);
    adapt(c, hash, 0);
    ensure_sketch(c);
    ensure_mini(c);
}

/* An access to entry ix: the move of a hit (sim.c; under FC_ADMIT_S3 no move, the entry's
 * count goes up to 3), then the request (a hit) adapts. The sketch counted it already
 * (touch, the write). */
static inline void
reorder(CacheObject *c, fc_idx ix)
{
    fc_wtlfu *w = WT(c);
    int s = SEG(w, ix);
    if (w->filter == FC_ADMIT_S3) {
        if (S3_FREQ(w, ix) < FC_S3_MAX_FREQ)
            w->seg[ix] += S3_ONE;
    }
    else if (s == FC_WT_PROBATION) {
        seg_move(c, ix, FC_WT_PROTECTED);
        demote_protected(c);
    }
    else {
        seg_to_tail(c, ix, s);
    }
    adapt(c, c->t.entries[ix].hash, 1);
}

void
fc_wtlfu_reorder(CacheObject *c, fc_idx ix, Py_ssize_t old_size)
{
    fc_wtlfu *w = WT(c);
    w->len[SEG(w, ix)] += fc_entry_size(c, ix) - old_size;
    reorder(c, ix);
}

/* A hit (touch()): the sketch counts it, then the move; all of it inline here. */
void
fc_wtlfu_access(CacheObject *c, fc_idx ix)
{
    record(WT(c), c->t.entries[ix].hash);
    reorder(c, ix);
}

/* FC_ADMIT_S3's next victim, never `skip` (sim.c's wt_s3_evict): while the small queue (the
 * window) is at or over its share, or main is empty, its first entry moves to main's tail if
 * it was hit twice (its count starts again), otherwise it is the victim and the ghost
 * remembers it; else main's first entry is the victim if its count is 0, otherwise it is
 * counted down and moved to its segment's tail. Each turn lowers the sum of the counts and
 * the small queue's length, so the loop ends. */
static fc_idx
s3_victim(CacheObject *c, fc_idx skip)
{
    fc_wtlfu *w = WT(c);
    for (;;) {
        fc_idx small = seg_first(c, FC_WT_WINDOW, skip);
        fc_idx v = seg_first(c, FC_WT_PROBATION, skip);
        if (v == FC_NIL)
            v = seg_first(c, FC_WT_PROTECTED, skip);
        if ((w->len[FC_WT_WINDOW] >= w->wmax && small != FC_NIL) || v == FC_NIL) {
            if (small == FC_NIL)
                return FC_NIL;
            if (S3_FREQ(w, small) >= FC_S3_MOVE_FREQ) {
                seg_move(c, small, FC_WT_PROBATION);
                w->seg[small] &= 3;
                continue;
            }
            ghost_add(c, c->t.entries[small].hash);
            return small;
        }
        if (S3_FREQ(w, v) == 0)
            return v;
        w->seg[v] -= S3_ONE;
        seg_to_tail(c, v, SEG(w, v));
    }
}

/* The next victim, never `skip` (victim()): the admission contest of the opening note. */
fc_idx
fc_wtlfu_victim(CacheObject *c, fc_idx skip)
{
    fc_wtlfu *w = WT(c);
    if (w->filter == FC_ADMIT_S3)
        return s3_victim(c, skip);
    fc_entry *e = c->t.entries;
    fc_idx cand = FC_NIL;
    if (w->len[FC_WT_WINDOW] >= w->wmax) {
        cand = seg_first(c, FC_WT_WINDOW, skip);
        if (cand != FC_NIL)
            seg_move(c, cand, FC_WT_PROBATION);
    }
    fc_idx v = FC_NIL;
    for (int s = 0; s < FC_WT_NSEG && v == FC_NIL; s++)
        v = seg_first(c, s, skip);
    if (v == FC_NIL || cand == FC_NIL || v == cand || w->filter != FC_ADMIT_SKETCH)
        return v;
    int fc = estimate(w, e[cand].hash), fv = estimate(w, e[v].hash);
    int admit = fc > fv || (fc >= 6 && (fc_xorshift64s(&w->rng) & 127) == 0);
    return admit ? v : cand;
}

/* ------------------------------------------------------------------ configuration */

/* seed None: the process's random seed, fastcache._types.process_seed() (the twin's too). */
static int
random_seed(uint64_t *out)
{
    PyObject *f = fc_import_attr("fastcache._types", "process_seed");
    PyObject *r = f ? PyObject_CallNoArgs(f) : NULL;
    Py_XDECREF(f);
    if (r == NULL)
        return -1;
    *out = PyLong_Check(r) ? (uint64_t)PyLong_AsUnsignedLongLongMask(r) : 0;
    int bad = !PyLong_Check(r) || PyErr_Occurred();
    Py_DECREF(r);
    if (bad && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "process_seed() must return an int");
    return bad ? -1 : 0;
}

/* Validate window/adaptive/seed (no change on failure). */
static int
parse_options(PyObject *window, PyObject *adaptive, PyObject *seed, double *wout, int *aout,
              uint64_t *sout)
{
    if (PyBool_Check(window) || !(PyFloat_Check(window) || PyLong_Check(window))) {
        PyErr_Format(PyExc_TypeError, "window must be a number, not %.200s",
                     Py_TYPE(window)->tp_name);
        return -1;
    }
    double wf = PyFloat_AsDouble(window);
    if (wf == -1.0 && PyErr_Occurred())
        return -1;
    if (!(wf > 0.0 && wf <= 1.0)) {
        PyErr_Format(PyExc_ValueError, "window must be in (0, 1], not %R", window);
        return -1;
    }
    int a;
    if (PyUnicode_Check(adaptive)) {
        if (PyUnicode_CompareWithASCIIString(adaptive, "climb") != 0) {
            PyErr_Format(PyExc_ValueError, "adaptive must be True, False or 'climb', not %R",
                         adaptive);
            return -1;
        }
        a = FC_WT_CLIMB;
    }
    else if ((a = PyObject_IsTrue(adaptive)) < 0)
        return -1;
    uint64_t s;
    if (seed == Py_None) {
        if (random_seed(&s) < 0)
            return -1;
    }
    else if (PyLong_Check(seed) && !PyBool_Check(seed)) {
        s = (uint64_t)PyLong_AsUnsignedLongLongMask(seed);
        if (s == (uint64_t)-1 && PyErr_Occurred())
            return -1;
    }
    else {
        PyErr_Format(PyExc_TypeError, "seed must be an int or None, not %.200s",
                     Py_TYPE(seed)->tp_name);
        return -1;
    }
    *wout = wf;
    *aout = a;
    *sout = s;
    return 0;
}

/* The policy's state afresh (after fc_configure emptied the cache). */
static void
start(CacheObject *c, double window, int adaptive, uint64_t seed)
{
    fc_wtlfu *w = WT(c);
    fc_sketch_free(&w->sk);
    memset(&w->sk, 0, sizeof(w->sk));
    fc_mini_free(&w->mini);
    fc_bloomghost_free(&w->ghost);
    w->window = window;
    w->adaptive = adaptive;
    w->config = 0;
    w->filter = FC_ADMIT_SKETCH;
    w->seed = seed;
    w->sk.seed = seed;
    w->rng = seed ^ UINT64_C(0x9E3779B97F4A7C15);
    if (w->rng == 0)
        w->rng = 1;
    if (c->unbounded) {
        w->wmax = INT64_MAX;
        w->pmax = 0;
    }
    else {
        int64_t C = (int64_t)c->maxsize;
        int64_t main_max = (int64_t)((double)C * (1.0 - window));
        if (main_max > C)
            main_max = C;
        w->wmax = C - main_max;
        w->pmax = (int64_t)((double)main_max * 0.80);
    }
    double sample = 10.0 * (double)(c->maxsize ? c->maxsize : 1);
    w->sample_size = sample >= 1.8e19 ? UINT64_MAX : (uint64_t)sample;
    w->s_hits = w->s_reqs = 0;
    w->prev_rate = 0.0;
    w->step = -0.0625 * (double)c->maxsize;
    ensure_sketch(c);
    ensure_mini(c);
}

/* The state of a new WTinyLFUCache (fc_cache_new): unbounded, empty, until __init__. */
int
fc_wtlfu_new(CacheObject *c)
{
    c->wt = PyMem_Calloc(1, sizeof(fc_wtlfu));
    if (c->wt == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    fc_wtlfu_detach(c);
    c->wt->wmax = INT64_MAX;
    c->wt->rng = 1;
    c->wt->sample_size = UINT64_MAX;
    c->wt->filter = FC_ADMIT_SKETCH;
    return 0;
}

int
fc_wtlfu_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static const char *const names[] = {"maxsize", "getsizeof", "window", "adaptive", "seed",
                                        "on_evict", "stats", NULL};
    PyObject *window_default = PyFloat_FromDouble(0.01);
    if (window_default == NULL)
        return -1;
    PyObject *a[7] = {NULL, Py_None, window_default, Py_True, Py_None, Py_None, Py_False};
    double window;
    int adaptive, stats, rc = -1;
    uint64_t seed;
    if (fc_parse_args("WTinyLFUCache.__init__", args, kwds, names, 5, 1, a) < 0 ||
        (stats = PyObject_IsTrue(a[6])) < 0 ||
        parse_options(a[2], a[3], a[4], &window, &adaptive, &seed) < 0)
        goto done;
    PyObject *seed_obj = a[4] == Py_None ? Py_NewRef(Py_None) : PyNumber_Index(a[4]);
    if (seed_obj == NULL)
        goto done;
    if (fc_configure(c, a[0], a[1], a[5], stats, -1) < 0) {
        Py_DECREF(seed_obj);
        goto done;
    }
    Py_XSETREF(c->wt->seed_obj, seed_obj);
    start(c, window, adaptive, seed);
    rc = 0;
done:
    Py_DECREF(window_default);
    return rc;
}

/* ------------------------------------------------------------------ pickling */

PyObject *
fc_wtlfu_state(CacheObject *c)
{
    fc_wtlfu *w = WT(c);
    PyObject *table;
    if (w->sk.table == NULL) {
        table = Py_NewRef(Py_None);
    }
    else {
        table = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)w->sk.nwords * 8);
        if (table == NULL)
            return NULL;
        unsigned char *p = (unsigned char *)PyBytes_AS_STRING(table);
        for (uint32_t i = 0; i < w->sk.nwords; i++)
            for (int b = 0; b < 8; b++)
                *p++ = (unsigned char)(w->sk.table[i] >> (8 * b));   /* little-endian */
    }
    PyObject *adaptive = w->adaptive == FC_WT_CLIMB ? PyUnicode_FromString("climb")
                                                    : PyBool_FromLong(w->adaptive);
    if (adaptive == NULL) {
        Py_DECREF(table);
        return NULL;
    }
    PyObject *r = Py_BuildValue("{s:d,s:N,s:O,s:K,s:L,s:L,s:K,s:K,s:K,s:d,s:d,s:N,s:I,s:I,s:i}",
        "window", w->window, "adaptive", adaptive,
        "seed", w->seed_obj ? w->seed_obj : Py_None, "hash_seed", (unsigned long long)w->seed,
        "wmax", (long long)w->wmax, "pmax", (long long)w->pmax,
        "rng", (unsigned long long)w->rng, "s_hits", (unsigned long long)w->s_hits,
        "s_reqs", (unsigned long long)w->s_reqs, "prev_rate", w->prev_rate, "step", w->step,
        "sketch", table, "sketch_size", w->sk.size, "sketch_sample", w->sk.sample_size,
        "config", w->config);
    return r;
}

static int
bad(const char *what)
{
    PyErr_Format(PyExc_ValueError, "invalid cache state: %s", what);
    return -1;
}

/* _restore's config["wtinylfu"] (a pickle may be crafted: everything is checked). */
int
fc_wtlfu_restore_config(CacheObject *c, PyObject *st)
{
    if (!PyDict_Check(st))
        return bad("W-TinyLFU state");
    double window;
    int adaptive;
    uint64_t seed;
    PyObject *o[15];
    static const char *keys[] = {"window", "adaptive", "seed", "hash_seed", "wmax", "pmax",
                                 "rng", "s_hits", "s_reqs", "prev_rate", "step", "sketch",
                                 "sketch_size", "sketch_sample", "config"};
    for (int i = 0; i < 15; i++)
        if ((o[i] = PyDict_GetItemString(st, keys[i])) == NULL)
            return bad("W-TinyLFU state");
    if (parse_options(o[0], o[1], o[2], &window, &adaptive, &seed) < 0)
        return -1;
    for (int i = 3; i < 9; i++)
        if (!PyLong_Check(o[i]))
            return bad("W-TinyLFU state");
    if (!PyFloat_Check(o[9]) || !PyFloat_Check(o[10]) || !PyLong_Check(o[12]) ||
        !PyLong_Check(o[13]) || !PyLong_Check(o[14]))
        return bad("W-TinyLFU state");
    uint64_t hseed = PyLong_AsUnsignedLongLong(o[3]);
    long long wmax = PyLong_AsLongLong(o[4]), pmax = PyLong_AsLongLong(o[5]);
    uint64_t rng = PyLong_AsUnsignedLongLong(o[6]), sh = PyLong_AsUnsignedLongLong(o[7]),
             sr = PyLong_AsUnsignedLongLong(o[8]);
    unsigned long size = PyLong_AsUnsignedLong(o[12]), sample = PyLong_AsUnsignedLong(o[13]);
    long cfg = PyLong_AsLong(o[14]);
    if (PyErr_Occurred())
        return -1;
    if (cfg < 0 || cfg >= FC_NMINI || (cfg != 0 && adaptive != FC_WT_MINI))
        return bad("W-TinyLFU configuration");
    double prev = PyFloat_AS_DOUBLE(o[9]), step = PyFloat_AS_DOUBLE(o[10]);
    if (wmax < 0 || pmax < 0 || rng == 0 || sh > sr || !isfinite(prev) || !isfinite(step) ||
        (!c->unbounded && (wmax > c->maxsize || pmax > c->maxsize)))
        return bad("W-TinyLFU state");
    PyObject *seed_obj = o[2] == Py_None ? Py_NewRef(Py_None) : PyNumber_Index(o[2]);
    if (seed_obj == NULL)
        return -1;
    Py_XSETREF(c->wt->seed_obj, seed_obj);
    start(c, window, adaptive, hseed);
    fc_wtlfu *w = WT(c);
    w->wmax = wmax;
    w->pmax = pmax;
    w->rng = rng;
    w->s_hits = sh;
    w->s_reqs = sr;
    w->prev_rate = prev;
    w->step = step;
    w->config = (int)cfg;
    w->filter = FC_MINI_CONFIGS[cfg].filter;
    fc_sketch_free(&w->sk);
    if (o[11] != Py_None) {
        if (!PyBytes_Check(o[11]))
            return bad("W-TinyLFU sketch");
        Py_ssize_t n = PyBytes_GET_SIZE(o[11]) / 8;
        if (PyBytes_GET_SIZE(o[11]) % 8 || n < 8 || (uint64_t)n > SK_MAX || (n & (n - 1)) ||
            sample < 1 || sample > UINT32_MAX || size >= sample)
            return bad("W-TinyLFU sketch");
        if (fc_sketch_init(&w->sk, (uint64_t)n, hseed) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(o[11]);
        for (Py_ssize_t i = 0; i < n; i++) {
            uint64_t v = 0;
            for (int b = 0; b < 8; b++)
                v |= (uint64_t)*p++ << (8 * b);
            w->sk.table[i] = v;
        }
        w->sk.size = (uint32_t)size;
        w->sk.sample_size = (uint32_t)sample;
    }
    return 0;
}

/* A restored entry (appended by fc_entry_link) goes to its segment's tail, with its count:
 * `extra` is fc_wtlfu_segment's byte. */
int
fc_wtlfu_place(CacheObject *c, fc_idx ix, PyObject *extra)
{
    long s = PyLong_Check(extra) ? PyLong_AsLong(extra) : -1;
    if (s == -1 && PyErr_Occurred())
        return -1;
    if (s < 0 || s > 15 || (s & 3) >= FC_WT_NSEG)
        return bad("W-TinyLFU segment");
    seg_move(c, ix, (int)(s & 3));
    WT(c)->seg[ix] = (uint8_t)s;
    return 0;
}

/* Entry ix's segment and count, one byte (pickled). */
int
fc_wtlfu_segment(CacheObject *c, fc_idx ix)
{
    return WT(c)->seg[ix];
}

/* ------------------------------------------------------------------ consistency */

int
fc_wtlfu_check(CacheObject *c, const char **what)
{
    fc_wtlfu *w = WT(c);
    fc_entry *e = c->t.entries;
    if (w == NULL) {
        *what = "W-TinyLFU state missing";
        return -1;
    }
    int64_t len[FC_WT_NSEG] = {0, 0, 0};
    fc_idx first[FC_WT_NSEG] = {FC_NIL, FC_NIL, FC_NIL}, last[FC_WT_NSEG] = {FC_NIL, FC_NIL,
                                                                            FC_NIL};
    int prev = 0;
    FC_FOR_EACH_IN_ORDER(c, ix) {
        int s = SEG(w, ix);
        if (s >= FC_WT_NSEG || s < prev) {
            *what = "W-TinyLFU segments out of order";
            return -1;
        }
        prev = s;
        if (first[s] == FC_NIL)
            first[s] = ix;
        last[s] = ix;
        len[s] += fc_entry_size(c, ix);
    }
    (void)e;
    for (int s = 0; s < FC_WT_NSEG; s++) {
        if (first[s] != w->head[s] || last[s] != w->tail[s]) {
            *what = "W-TinyLFU segment ends";
            return -1;
        }
        if (len[s] != w->len[s]) {
            *what = "W-TinyLFU segment sizes";
            return -1;
        }
    }
    if (w->wmax < 0 || w->pmax < 0 || w->rng == 0 || w->config < 0 || w->config >= FC_NMINI ||
        w->filter != FC_MINI_CONFIGS[w->config].filter ||
        (w->mini.sh != NULL && w->adaptive != FC_WT_MINI)) {
        *what = "W-TinyLFU maxima";
        return -1;
    }
    return 0;
}
