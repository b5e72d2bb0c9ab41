/* sim.c: a trace simulator over uint64 keys.
 *
 * One pass over a trace per (policy, capacity): every request is a read; a miss inserts the
 * key (capacity in objects). Where the trace gives object sizes, the bytes of the requests
 * that hit and missed are summed too (byte miss ratio; capacity stays in objects).
 *
 * Policies (the literature's parameters by default; `params` overrides them):
 *   lru, lfu (in-cache counts, ties to the least recently used), fifo, clock (one
 *   reference bit), arc (Megiddo & Modha), sieve (NSDI'24), s3fifo (SOSP'23, as
 *   libCacheSim's S3FIFO.c: small FIFO 10%, main FIFO with 2-bit frequencies, ghost FIFO
 *   of 90% of the capacity, move to main at frequency >= 2), wtinylfu (Caffeine's
 *   simulator: 1% window LRU, segmented main 80% protected, count-min sketch admission,
 *   sample 10 x capacity), wtinylfu-hc (the same with Caffeine's hill climber on the
 *   window size), wtinylfu-mini (the same configured by miniature simulations, mini.h,
 *   run_mini), auto (the adaptive default: wtinylfu-mini).
 *
 * Every policy runs on one node pool (32-bit links, sentinels first) and one open-addressing
 * table uint64 key -> node index (linear probing, backward-shift deletion). The replay
 * releases the GIL. The pure-Python twin is fastcache/_py/sim.py: same algorithms, same
 * hash, same pseudo-random stream, so both give identical counts.
 *
 * Entry points: fc_sim_add(module) adds `sim_run` and `SIM_POLICIES` to a module;
 * fc_mini_init/step/free (mini.h) run the miniature simulations for WTinyLFUCache too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bloomghost.h"
#include "mini.h"
#include "sketch.h"
#include "table.h"

#define NIL UINT32_MAX

typedef struct {
    uint64_t key;
    uint32_t prev, next;
    uint32_t freq; /* lfu: bucket; s3fifo: 0..3 */
    uint8_t q;     /* the list the node is on */
    uint8_t bit;   /* clock/sieve: visited */
} Node;

typedef struct {
    uint64_t key;
    uint32_t idx; /* NIL: empty */
} Slot;

typedef struct {
    Slot *s;
    uint64_t mask;
    int shift;
} Tab;

/* ------------------------------------------------------------------ table */

static int
tab_init(Tab *t, uint64_t entries)
{
    uint64_t n = 16;
    int bits = 4;
    while (n < 2 * entries + 2) {
        n <<= 1;
        bits++;
    }
    t->s = (Slot *)malloc(n * sizeof(Slot));
    if (t->s == NULL)
        return -1;
    for (uint64_t i = 0; i < n; i++)
        t->s[i].idx = NIL;
    t->mask = n - 1;
    t->shift = 64 - bits;
    return 0;
}

static inline uint64_t
tab_home(const Tab *t, uint64_t key)
{
    return (key * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift;
}

static inline uint32_t
tab_get(const Tab *t, uint64_t key)
{
    uint64_t i = tab_home(t, key);
    for (;;) {
        const Slot *s = &t->s[i];
        if (s->idx == NIL)
            return NIL;
        if (s->key == key)
            return s->idx;
        i = (i + 1) & t->mask;
    }
}

/* key must be absent */
static inline void
tab_put(Tab *t, uint64_t key, uint32_t idx)
{
    uint64_t i = tab_home(t, key);
    while (t->s[i].idx != NIL)
        i = (i + 1) & t->mask;
    t->s[i].key = key;
    t->s[i].idx = idx;
}

/* key must be present */
static inline void
tab_del(Tab *t, uint64_t key)
{
    uint64_t i = tab_home(t, key);
    while (t->s[i].key != key || t->s[i].idx == NIL)
        i = (i + 1) & t->mask;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->s[j].idx == NIL)
            break;
        if (!fc_probe_stays((size_t)i, (size_t)j, (size_t)tab_home(t, t->s[j].key))) {
            t->s[i] = t->s[j];
            i = j;
        }
    }
    t->s[i].idx = NIL;
}

/* ------------------------------------------------------------------ lists */

static inline void
l_init(Node *n, uint32_t h)
{
    n[h].prev = n[h].next = h;
}

static inline void
l_unlink(Node *n, uint32_t i)
{
    n[n[i].prev].next = n[i].next;
    n[n[i].next].prev = n[i].prev;
}

/* append at the tail (newest / most recently used) of the list whose sentinel is h */
static inline void
l_push(Node *n, uint32_t h, uint32_t i)
{
    uint32_t t = n[h].prev;
    n[i].prev = t;
    n[i].next = h;
    n[t].next = i;
    n[h].prev = i;
}

/* insert i right after node a */
static inline void
l_after(Node *n, uint32_t a, uint32_t i)
{
    uint32_t b = n[a].next;
    n[i].prev = a;
    n[i].next = b;
    n[a].next = i;
    n[b].prev = i;
}

#define L_FIRST(n, h) ((n)[h].next)
#define L_MOVE(n, h, i) (l_unlink(n, i), l_push(n, h, i))

/* ------------------------------------------------------------------ a run */

typedef struct {
    /* input */
    const uint64_t *keys;
    const uint64_t *sizes; /* or NULL */
    size_t n;
    uint64_t cap;
    uint64_t seed;
    /* parameters (negative: the policy's default) */
    double window, protect, small, ghost, step, restart, decay, max_window, sample, variant;
    double floor, hysteresis;
    int threshold, climb;
    /* output */
    uint64_t hits, misses, bytes_hit, bytes_missed;
    uint64_t window_final; /* wtinylfu: the window's maximum at the end */
    /* work */
    Node *nd;
    Tab t;
    uint32_t used, free_head;
} Run;

#define HIT(R, i) do { (R)->hits++; if ((R)->sizes) (R)->bytes_hit += (R)->sizes[i]; } while (0)
#define MISS(R, i) do { (R)->misses++; if ((R)->sizes) (R)->bytes_missed += (R)->sizes[i]; } while (0)

static int
run_alloc(Run *R, uint64_t sentinels, uint64_t nodes)
{
    if (sentinels + nodes >= NIL)
        return -1;
    R->nd = (Node *)malloc((size_t)(sentinels + nodes + 1) * sizeof(Node));
    if (R->nd == NULL)
        return -1;
    if (tab_init(&R->t, nodes) < 0) {
        free(R->nd);
        R->nd = NULL;
        return -1;
    }
    for (uint32_t h = 0; h < sentinels; h++)
        l_init(R->nd, h);
    R->used = (uint32_t)sentinels;
    R->free_head = NIL;
    return 0;
}

static void
run_release(Run *R)
{
    free(R->nd);
    free(R->t.s);
    R->nd = NULL;
    R->t.s = NULL;
}

static inline uint32_t
node_new(Run *R, uint64_t key)
{
    uint32_t x = R->free_head;
    if (x != NIL)
        R->free_head = R->nd[x].next;
    else
        x = R->used++;
    R->nd[x].key = key;
    R->nd[x].freq = 0;
    R->nd[x].bit = 0;
    tab_put(&R->t, key, x);
    return x;
}

/* unlink x, forget its key, recycle it */
static inline void
node_drop(Run *R, uint32_t x)
{
    l_unlink(R->nd, x);
    tab_del(&R->t, R->nd[x].key);
    R->nd[x].next = R->free_head;
    R->free_head = x;
}

/* ------------------------------------------------------------------ lru, fifo, clock */

/* kind: 0 lru, 1 fifo, 2 clock */
static int
run_simple(Run *R, int kind)
{
    const uint64_t C = R->cap;
    if (run_alloc(R, 1, C) < 0)
        return -1;
    Node *n = R->nd;
    uint64_t count = 0;
    for (size_t i = 0; i < R->n; i++) {
        uint64_t k = R->keys[i];
        uint32_t x = tab_get(&R->t, k);
        if (x != NIL) {
            HIT(R, i);
            if (kind == 0)
                L_MOVE(n, 0, x);
            else if (kind == 2)
                n[x].bit = 1;
            continue;
        }
        MISS(R, i);
        if (count == C) {
            uint32_t v = L_FIRST(n, 0);
            if (kind == 2) {
                while (n[v].bit) {
                    n[v].bit = 0;
                    L_MOVE(n, 0, v);
                    v = L_FIRST(n, 0);
                }
            }
            node_drop(R, v);
        }
        else
            count++;
        x = node_new(R, k);
        l_push(n, 0, x);
    }
    run_release(R);
    return 0;
}

/* ------------------------------------------------------------------ sieve */

static int
run_sieve(Run *R)
{
    const uint64_t C = R->cap;
    if (run_alloc(R, 1, C) < 0)
        return -1;
    Node *n = R->nd;
    uint64_t count = 0;
    uint32_t hand = NIL;
    for (size_t i = 0; i < R->n; i++) {
        uint64_t k = R->keys[i];
        uint32_t x = tab_get(&R->t, k);
        if (x != NIL) {
            HIT(R, i);
            n[x].bit = 1;
            continue;
        }
        MISS(R, i);
        if (count == C) {
            /* the hand moves from the oldest towards the newest, wrapping */
            uint32_t v = hand != NIL ? hand : L_FIRST(n, 0);
            while (n[v].bit) {
                n[v].bit = 0;
                v = n[v].next;
                if (v == 0)
                    v = L_FIRST(n, 0);
            }
            hand = n[v].next;
            if (hand == 0)
                hand = NIL;
            node_drop(R, v);
        }
        else
            count++;
        x = node_new(R, k);
        l_push(n, 0, x);
    }
    run_release(R);
    return 0;
}

/* ------------------------------------------------------------------ lfu */

/* Frequency buckets in increasing count order on a list whose sentinel is bucket 0; bucket b
 * keeps its entries (least recently used first) on the node list whose sentinel is node b.
 * Node indexes 0..C+1 are the buckets' sentinels. */
typedef struct {
    uint64_t count;
    uint32_t prev, next;
} Bucket;

static int
run_lfu(Run *R)
{
    const uint64_t C = R->cap;
    if (run_alloc(R, C + 2, C) < 0)
        return -1;
    Bucket *B = (Bucket *)malloc((size_t)(C + 2) * sizeof(Bucket));
    if (B == NULL) {
        run_release(R);
        return -1;
    }
    Node *n = R->nd;
    B[0].prev = B[0].next = 0;
    B[0].count = 0;
    uint32_t bfree = NIL; /* free buckets through .next */
    for (uint32_t b = (uint32_t)C + 1; b >= 1; b--) {
        B[b].next = bfree;
        bfree = b;
    }
    uint64_t count = 0;
#define B_NEW(after, cnt, out)                                                             \
    do {                                                                                   \
        out = bfree;                                                                       \
        bfree = B[out].next;                                                               \
        B[out].count = (cnt);                                                              \
        B[out].prev = (after);                                                             \
        B[out].next = B[after].next;                                                       \
        B[B[after].next].prev = out;                                                       \
        B[after].next = out;                                                               \
        l_init(n, out);                                                                    \
    } while (0)
#define B_DROP_IF_EMPTY(b)                                                                 \
    do {                                                                                   \
        if (n[b].next == (b)) {                                                            \
            B[B[b].prev].next = B[b].next;                                                 \
            B[B[b].next].prev = B[b].prev;                                                 \
            B[b].next = bfree;                                                             \
            bfree = (b);                                                                   \
        }                                                                                  \
    } while (0)
    for (size_t i = 0; i < R->n; i++) {
        uint64_t k = R->keys[i];
        uint32_t x = tab_get(&R->t, k);
        if (x != NIL) {
            HIT(R, i);
            uint32_t b = n[x].freq, nb = B[b].next;
            if (nb == 0 || B[nb].count != B[b].count + 1)
                B_NEW(b, B[b].count + 1, nb);
            L_MOVE(n, nb, x);
            n[x].freq = nb;
            B_DROP_IF_EMPTY(b);
            continue;
        }
        MISS(R, i);
        if (count == C) {
            uint32_t b = B[0].next;
            node_drop(R, L_FIRST(n, b));
            B_DROP_IF_EMPTY(b);
        }
        else
            count++;
        uint32_t b1 = B[0].next;
        if (b1 == 0 || B[b1].count != 1)
            B_NEW(0, 1, b1);
        x = node_new(R, k);
        l_push(n, b1, x);
        n[x].freq = b1;
    }
#undef B_NEW
#undef B_DROP_IF_EMPTY
    free(B);
    run_release(R);
    return 0;
}

/* ------------------------------------------------------------------ arc */

enum { T1, T2, B1, B2 };

static int
run_arc(Run *R)
{
    const uint64_t C = R->cap;
    if (run_alloc(R, 4, 2 * C) < 0)
        return -1;
    Node *n = R->nd;
    uint64_t len[4] = {0, 0, 0, 0};
    uint64_t p = 0;
    /* REPLACE: move T1's or T2's LRU entry to its ghost list */
#define ARC_REPLACE(in_b2)                                                                 \
    do {                                                                                   \
        if (len[T1] >= 1 && (((in_b2) && len[T1] == p) || len[T1] > p)) {                  \
            uint32_t v = L_FIRST(n, T1);                                                   \
            L_MOVE(n, B1, v);                                                              \
            n[v].q = B1;                                                                   \
            len[T1]--;                                                                     \
            len[B1]++;                                                                     \
        }                                                                                  \
        else {                                                                             \
            uint32_t v = L_FIRST(n, T2);                                                   \
            L_MOVE(n, B2, v);                                                              \
            n[v].q = B2;                                                                   \
            len[T2]--;                                                                     \
            len[B2]++;                                                                     \
        }                                                                                  \
    } while (0)
    for (size_t i = 0; i < R->n; i++) {
        uint64_t k = R->keys[i];
        uint32_t x = tab_get(&R->t, k);
        if (x != NIL && (n[x].q == T1 || n[x].q == T2)) {
            HIT(R, i);
            len[n[x].q]--;
            L_MOVE(n, T2, x);
            n[x].q = T2;
            len[T2]++;
            continue;
        }
        MISS(R, i);
        if (x != NIL && n[x].q == B1) {
            uint64_t d = len[B1] >= len[B2] ? 1 : len[B2] / len[B1];
            p = p + d < C ? p + d : C;
            ARC_REPLACE(0);
            len[B1]--;
            L_MOVE(n, T2, x);
            n[x].q = T2;
            len[T2]++;
            continue;
        }
        if (x != NIL && n[x].q == B2) {
            uint64_t d = len[B2] >= len[B1] ? 1 : len[B1] / len[B2];
            p = p > d ? p - d : 0;
            ARC_REPLACE(1);
            len[B2]--;
            L_MOVE(n, T2, x);
            n[x].q = T2;
            len[T2]++;
            continue;
        }
        if (len[T1] + len[B1] == C) {
            if (len[T1] < C) {
                node_drop(R, L_FIRST(n, B1));
                len[B1]--;
                ARC_REPLACE(0);
            }
            else {
                node_drop(R, L_FIRST(n, T1));
                len[T1]--;
            }
        }
        else {
            uint64_t total = len[T1] + len[T2] + len[B1] + len[B2];
            if (total >= C) {
                if (total == 2 * C) {
                    node_drop(R, L_FIRST(n, B2));
                    len[B2]--;
                }
                ARC_REPLACE(0);
            }
        }
        x = node_new(R, k);
        l_push(n, T1, x);
        n[x].q = T1;
        len[T1]++;
    }
#undef ARC_REPLACE
    run_release(R);
    return 0;
}

/* ------------------------------------------------------------------ s3-fifo */

enum { QS, QM, QG };

typedef struct {
    Run *R;
    uint64_t len[3], scap, mcap, gcap;
    uint32_t thr;
    int variant;
} S3;

/* main FIFO with 2-bit frequencies: reinsert what was used (one less), evict the first not */
static void
s3_evict_main(S3 *S)
{
    Node *n = S->R->nd;
    while (S->len[QM] > 0) {
        uint32_t v = L_FIRST(n, QM);
        if (n[v].freq >= 1) {
            n[v].freq--;
            L_MOVE(n, QM, v);
        }
        else {
            node_drop(S->R, v);
            S->len[QM]--;
            return;
        }
    }
}

/* small FIFO: move what was used >= thr times to main, evict the first other one to ghost */
static void
s3_evict_small(S3 *S)
{
    Run *R = S->R;
    Node *n = R->nd;
    while (S->len[QS] > 0) {
        uint32_t v = L_FIRST(n, QS);
        S->len[QS]--;
        if (n[v].freq >= S->thr) {
            L_MOVE(n, QM, v);
            n[v].q = QM;
            n[v].freq = 0;
            S->len[QM]++;
            if (S->variant == 1 && S->len[QM] > S->mcap)
                s3_evict_main(S);
            continue;
        }
        if (S->gcap > 0) {
            if (S->len[QG] >= S->gcap) {
                node_drop(R, L_FIRST(n, QG));
                S->len[QG]--;
            }
            L_MOVE(n, QG, v);
            n[v].q = QG;
            S->len[QG]++;
        }
        else
            node_drop(R, v);
        return;
    }
}

/* variant 1 (the default): Caffeine's simulator S3FifoPolicy, whose figures the reference
 * tables give: evict from small while small is at or over its share or main is empty; an
 * entry moved to a full main evicts from main at once; the ghost is looked up after evicting.
 * variant 0: libCacheSim's S3FIFO.c: evict from main while main is over its share or small
 * is empty; until the first eviction, inserts beyond a full small queue go to main. */
static int
run_s3fifo(Run *R)
{
    const uint64_t C = R->cap;
    double small = R->small >= 0 ? R->small : 0.10;
    double ghost = R->ghost >= 0 ? R->ghost : 0.90;
    S3 S;
    memset(&S, 0, sizeof(S));
    S.R = R;
    S.variant = R->variant >= 0 ? (int)R->variant : 1;
    S.thr = R->threshold >= 0 ? (uint32_t)R->threshold : 2;
    S.scap = (uint64_t)((double)C * small);
    if (S.scap == 0 && C >= 2 && small > 0)
        S.scap = 1;
    S.mcap = C - S.scap;
    S.gcap = (uint64_t)((double)C * ghost);
    if (run_alloc(R, 3, C + S.gcap + 1) < 0)
        return -1;
    Node *n = R->nd;
    int has_evicted = 0;
    for (size_t i = 0; i < R->n; i++) {
        uint64_t k = R->keys[i];
        uint32_t x = tab_get(&R->t, k);
        if (x != NIL && n[x].q != QG) {
            HIT(R, i);
            if (n[x].freq < 3)
                n[x].freq++;
            continue;
        }
        MISS(R, i);
        int ghost_hit = x != NIL;
        if (ghost_hit && S.variant == 0) {
            l_unlink(n, x);
            n[x].q = QM; /* parked: on no list until inserted below */
            S.len[QG]--;
        }
        while (S.len[QS] + S.len[QM] >= C) {
            has_evicted = 1;
            int from_main = S.variant == 1
                                ? S.len[QM] > 0 && !(S.len[QS] >= S.scap && S.len[QS] > 0)
                                           : (S.len[QM] > S.mcap || S.len[QS] == 0);
            if (from_main)
                s3_evict_main(&S);
            else
                s3_evict_small(&S);
        }
        if (S.variant == 1 && ghost_hit) {
            /* Caffeine looks the ghost up after evicting, which may have dropped it */
            x = tab_get(&R->t, k);
            ghost_hit = x != NIL;
            if (ghost_hit) {
                l_unlink(n, x);
                S.len[QG]--;
            }
        }
        if (!ghost_hit)
            x = node_new(R, k);
        n[x].freq = 0;
        if (ghost_hit || S.scap == 0 ||
            (S.variant == 0 && !has_evicted && S.len[QS] >= S.scap)) {
            l_push(n, QM, x);
            n[x].q = QM;
            S.len[QM]++;
        }
        else {
            l_push(n, QS, x);
            n[x].q = QS;
            S.len[QS]++;
        }
    }
    run_release(R);
    return 0;
}

/* ------------------------------------------------------------------ w-tinylfu */

enum { QW, QP, QR }; /* window, probation, protected */

/* One W-TinyLFU cache as Caffeine's simulator (WindowTinyLfuPolicy) on a Run's node pool and
 * table: an LRU window, a segmented main (probation, protected), a count-min sketch that
 * decides whether the window's overflow (the candidate) replaces main's victim. `filter`
 * FC_ADMIT_ALL turns the admission filter off (every candidate enters; the sketch still
 * counts); FC_ADMIT_S3 runs S3-FIFO's rules on the same segments (mini.h; wt_s3_miss). */
typedef struct {
    Run *R;
    fc_sketch sk;
    uint64_t C, len[3];
    int64_t wmax, pmax;
    uint64_t rng, seed;
    int filter;
    int counts;  /* 0: a shadow that reads the first shadow's sketch (fc_mini_init) */
    fc_bloomghost gh; /* FC_ADMIT_S3's, made when the mode is first taken */
} WT;

static int
wt_init(WT *W, Run *R, uint64_t C, double wfrac, double pfrac, uint64_t seed)
{
    memset(W, 0, sizeof(*W));
    W->R = R;
    W->C = C;
    if (fc_sketch_init(&W->sk, C, seed) < 0)
        return -1;
    if (run_alloc(R, 3, C + 1) < 0) {
        fc_sketch_free(&W->sk);
        return -1;
    }
    uint64_t main_max = (uint64_t)((double)C * (1.0 - wfrac));
    W->wmax = (int64_t)(C - main_max);
    W->pmax = (int64_t)((double)main_max * pfrac);
    W->rng = seed ^ UINT64_C(0x9E3779B97F4A7C15);
    if (W->rng == 0)
        W->rng = 1;
    W->seed = seed;
    W->filter = FC_ADMIT_SKETCH;
    W->counts = 1;
    return 0;
}

/* FC_ADMIT_S3's ghost, for 0.9 x C keys (as WTinyLFUCache's): 0, or -1 when out of memory
 * (it stays unallocated, remembering nothing). */
static int
wt_ghost_make(WT *W)
{
    return fc_bloomghost_init(&W->gh, fc_s3_ghost_cap(W->C), W->seed);
}

/* FC_ADMIT_S3's ghost remembers key k; it is made by its first key. */
static void
wt_ghost_add(WT *W, uint64_t k)
{
    if (W->gh.bits[0] == NULL)
        (void)wt_ghost_make(W);
    fc_bloomghost_add(&W->gh, k);
}

static void
wt_free(WT *W)
{
    fc_bloomghost_free(&W->gh);
    fc_sketch_free(&W->sk);
    run_release(W->R);
}

/* move the first (least recently used) entry of segment src to the end of dst */
static inline void
wt_shift(WT *W, int src, int dst)
{
    Node *n = W->R->nd;
    uint32_t v = L_FIRST(n, (uint32_t)src);
    L_MOVE(n, (uint32_t)dst, v);
    n[v].q = (uint8_t)dst;
    W->len[src]--;
    W->len[dst]++;
}

/* FC_ADMIT_S3: evict one entry (the cache is full and not empty). The small queue (the
 * window) gives it while it is at or over its share or main is empty: its first entry moves
 * to main's tail if it was hit twice (its count starts again), otherwise it is the victim and
 * the ghost remembers it; else main gives it: its first entry is the victim if its count is 0,
 * otherwise it is counted down and moved to main's tail. Main is probation, then protected
 * (empty in this mode: its configuration has no protected share). */
static void
wt_s3_evict(WT *W)
{
    Node *n = W->R->nd;
    for (;;) {
        uint32_t q;
        if (((int64_t)W->len[QW] >= W->wmax && W->len[QW] > 0) ||
            W->len[QP] + W->len[QR] == 0) {
            uint32_t v = L_FIRST(n, QW);
            if (n[v].freq >= FC_S3_MOVE_FREQ) {
                wt_shift(W, QW, QP);
                n[v].freq = 0;
                continue;
            }
            wt_ghost_add(W, n[v].key);
            q = QW;
        }
        else {
            q = W->len[QP] ? QP : QR;
            uint32_t v = L_FIRST(n, q);
            if (n[v].freq > 0) {
                n[v].freq--;
                L_MOVE(n, q, v);
                continue;
            }
        }
        W->len[q]--;
        node_drop(W->R, L_FIRST(n, q));
        return;
    }
}

/* FC_ADMIT_S3: a miss for key k. As WTinyLFUCache, room is made before the key is stored:
 * then it goes to main's tail if the ghost remembers it, otherwise to the small queue's
 * (whose overflow, before the cache is first full, moves to probation as in the other modes). */
static int
wt_s3_miss(WT *W, uint64_t k)
{
    Node *n = W->R->nd;
    if (W->C == 0)
        return 0;
    while (W->len[QW] + W->len[QP] + W->len[QR] >= W->C)
        wt_s3_evict(W);
    uint32_t x = node_new(W->R, k);
    uint32_t q = fc_bloomghost_contains(&W->gh, k) ? QP : QW;
    l_push(n, q, x);
    n[x].q = (uint8_t)q;
    W->len[q]++;
    if ((int64_t)W->len[QW] > W->wmax)
        wt_shift(W, QW, QP);
    return 0;
}

/* One request for key k: returns 1 on a hit; a miss inserts k. */
static inline int
wt_access(WT *W, uint64_t k)
{
    Node *n = W->R->nd;
    if (W->counts)
        fc_sketch_increment(&W->sk, fc_sketch_hash(&W->sk, k));
    uint32_t x = tab_get(&W->R->t, k);
    if (x != NIL && W->filter == FC_ADMIT_S3) {
        if (n[x].freq < FC_S3_MAX_FREQ)
            n[x].freq++;
        return 1;
    }
    if (x == NIL && W->filter == FC_ADMIT_S3)
        return wt_s3_miss(W, k);
    if (x != NIL) {
        if (n[x].q == QP) {
            L_MOVE(n, QR, x);
            n[x].q = QR;
            W->len[QP]--;
            W->len[QR]++;
            if ((int64_t)W->len[QR] > W->pmax)
                wt_shift(W, QR, QP);
        }
        else
            L_MOVE(n, n[x].q, x);
        return 1;
    }
    x = node_new(W->R, k);
    l_push(n, QW, x);
    n[x].q = QW;
    W->len[QW]++;
    uint32_t cand = NIL;
    if ((int64_t)W->len[QW] > W->wmax) {
        cand = L_FIRST(n, QW);
        wt_shift(W, QW, QP);
    }
    if (W->len[QW] + W->len[QP] + W->len[QR] > W->C) {
        uint32_t q = W->len[QP] ? QP : W->len[QR] ? QR : QW;
        uint32_t v = L_FIRST(n, q), ev = v;
        if (cand != NIL && v != cand && W->filter == FC_ADMIT_SKETCH) {
            int fc = fc_sketch_estimate(&W->sk, fc_sketch_hash(&W->sk, n[cand].key));
            int fv = fc_sketch_estimate(&W->sk, fc_sketch_hash(&W->sk, n[v].key));
            int admit = fc > fv || (fc >= 6 && (fc_xorshift64s(&W->rng) & 127) == 0);
            ev = admit ? v : cand;
        }
        W->len[n[ev].q]--;
        node_drop(W->R, ev);
    }
    return 0;
}

/* Move the window's boundary by adj entries (Caffeine's BoundedLocalCache: grow takes main's
 * least recently used entries into the window, shrink gives the window's to probation; at most
 * 1000 moves, a window of at least 1, never above wcap). */
static void
wt_move_window(WT *W, int64_t adj, int64_t wcap)
{
    int64_t quota = fc_window_begin(adj, &W->pmax, &W->wmax, wcap);
    if (adj > 0) {
        while ((int64_t)W->len[QR] > W->pmax)
            wt_shift(W, QR, QP);
        for (int t = 0; t < 1000 && quota > 0; t++) {
            int q = W->len[QP] ? QP : W->len[QR] ? QR : -1;
            if (q < 0)
                break;
            wt_shift(W, q, QW);
            quota--;
        }
    }
    else {
        for (int t = 0; t < 1000 && quota < 0 && W->len[QW]; t++) {
            wt_shift(W, QW, QP);
            quota++;
        }
    }
    fc_window_end(quota, &W->pmax, &W->wmax);
}

/* Window TinyLFU, and with R->climb the hill climber of Caffeine's BoundedLocalCache on the
 * window's size: every `sample` x C requests compare the hit rate with the previous sample's,
 * keep moving the window's boundary the same way while it improves, reverse when it gets
 * worse; the step decays, and restarts big when the hit rate jumps by `restart`. `max_window`
 * caps the window. */
static int
run_wtlfu(Run *R)
{
    const uint64_t C = R->cap;
    double wfrac = R->window >= 0 ? R->window : 0.01;
    double pfrac = R->protect >= 0 ? R->protect : 0.80;
    double step_pct = R->step >= 0 ? R->step : 0.0625;
    double restart = R->restart >= 0 ? R->restart : 0.05;
    double decay = R->decay >= 0 ? R->decay : 0.98;
    double maxw = R->max_window >= 0 ? R->max_window : 1.0;
    double sample_mult = R->sample > 0 ? R->sample : 10.0;
    WT W;
    if (wt_init(&W, R, C, wfrac, pfrac, R->seed) < 0)
        return -1;
    int64_t wcap = (int64_t)((double)C * maxw); /* the climber's ceiling */
    if (wcap < 1)
        wcap = 1;
    uint64_t sample_size = (uint64_t)(sample_mult * (double)(C ? C : 1));
    uint64_t s_hits = 0, s_reqs = 0;
    double prev_rate = 0.0, step = -step_pct * (double)C;
    for (size_t i = 0; i < R->n; i++) {
        if (wt_access(&W, R->keys[i])) {
            HIT(R, i);
            s_hits++;
        }
        else
            MISS(R, i);
        if (!R->climb || ++s_reqs < sample_size)
            continue;
        /* the hill climber (Caffeine: BoundedLocalCache.determineAdjustment / climb) */
        double amount = fc_climb_amount((double)s_hits / (double)s_reqs, &prev_rate, &step,
                                        step_pct, restart, decay, (double)C);
        s_hits = s_reqs = 0;
        wt_move_window(&W, (int64_t)amount, wcap);
    }
    R->window_final = (uint64_t)W.wmax;
    wt_free(&W);
    return 0;
}

/* ------------------------------------------------------------------ miniature simulations */

/* W-TinyLFU that picks its configuration by miniature simulation (mini.h: the mechanism,
 * shared with WTinyLFUCache(adaptive=True)). Cost: FC_NMINI shadows of at most `floor`
 * entries whatever C (FC_NMINI x C entries when C <= floor), one hash per request and
 * FC_NMINI shadow requests per sampled request. Measured with bench/auto_cells.py: all 21 of
 * its cells within 0.5 points of the best online policy and its 12 holdout cells (the hill
 * climber: 16 of 21). The first three configurations alone met 19 of 21 and 11 of 12: they
 * missed a Zipf whose hot set moves, where the sketch takes about 40 x C requests to forget
 * the old hot set and S3-FIFO and ARC recover faster; the fourth runs S3-FIFO's rules. */
const fc_mini_config FC_MINI_CONFIGS[FC_NMINI] = {
    /* Caffeine's default: frequency-biased (Zipf, loops, block I/O) */
    {0.01, 0.80, FC_ADMIT_SKETCH},
    /* recency-biased: a large window (web traffic) */
    {0.20, 0.50, FC_ADMIT_SKETCH},
    /* no filter: SLRU, for hot sets that move faster than the sketch ages */
    {0.01, 0.50, FC_ADMIT_ALL},
    /* S3-FIFO's rules: a hot set that moves, where S3-FIFO and ARC recover fastest */
    {0.10, 0.00, FC_ADMIT_S3},
};

struct fc_shadows {
    WT M[FC_NMINI];
    Run S[FC_NMINI];
};

int
fc_mini_init(fc_mini *m, uint64_t C, uint64_t seed, double floor_, double period_mult,
             double decay, double hyst)
{
    memset(m, 0, sizeof(*m));
    if (floor_ < 1)
        floor_ = FC_MINI_FLOOR;
    double rate = (double)C <= floor_ ? 1.0 : floor_ / (double)C;
    m->salt = seed ^ UINT64_C(0x5851F42D4C957F2D);
    m->thr = (uint64_t)(rate * 16777216.0);
    uint64_t cs = (uint64_t)((double)C * rate + 0.5);
    if (cs < 1)
        cs = 1;
    m->period = (uint64_t)((period_mult > 0 ? period_mult : 1.0) * (double)cs);
    if (m->period < 1)
        m->period = 1;
    m->decay = decay >= 0 ? decay : 0.9;
    m->hyst = hyst >= 0 ? hyst : 0.02;
    fc_shadows *sh = (fc_shadows *)calloc(1, sizeof(fc_shadows));
    if (sh == NULL)
        return -1;
    for (size_t j = 0; j < FC_NMINI; j++) {
        if (wt_init(&sh->M[j], &sh->S[j], cs, FC_MINI_CONFIGS[j].window,
                    FC_MINI_CONFIGS[j].protect, seed) < 0) {
            while (j-- > 0)
                wt_free(&sh->M[j]);
            free(sh);
            return -1;
        }
        sh->M[j].filter = FC_MINI_CONFIGS[j].filter;
        if (sh->M[j].filter == FC_ADMIT_S3 &&  /* made now: no allocation in fc_mini_step */
            wt_ghost_make(&sh->M[j]) < 0) {
            for (size_t i = 0; i <= j; i++)
                wt_free(&sh->M[i]);
            free(sh);
            return -1;
        }
    }
    /* The shadows see the same keys with the same seed and capacity, so their sketches would
     * hold the same counts: the first one counts, the others read its table (its halving
     * included). fc_mini_step runs the first one's request first, so each shadow's admission
     * reads the counts its own copy would have held. */
    for (size_t j = 1; j < FC_NMINI; j++) {
        fc_sketch_free(&sh->M[j].sk);
        sh->M[j].sk = sh->M[0].sk;
        sh->M[j].counts = 0;
    }
    m->sh = sh;
    return 0;
}

void
fc_mini_free(fc_mini *m)
{
    if (m->sh == NULL)
        return;
    for (size_t j = 0; j < FC_NMINI; j++) {
        if (!m->sh->M[j].counts)
            m->sh->M[j].sk.table = NULL;  /* the first shadow's, freed with it */
        wt_free(&m->sh->M[j]);
    }
    free(m->sh);
    m->sh = NULL;
}

int
fc_mini_step(fc_mini *m, uint64_t k, int cur)
{
    for (size_t j = 0; j < FC_NMINI; j++)
        m->score[j] += 1 - wt_access(&m->sh->M[j], k);
    if (++m->s_reqs < m->period)
        return cur;
    m->s_reqs = 0;
    int best = cur;
    for (int j = 0; j < FC_NMINI; j++)
        if (m->score[j] < m->score[best])
            best = j;
    if (best != cur && m->score[best] < m->score[cur] * (1.0 - m->hyst))
        cur = best;
    for (size_t j = 0; j < FC_NMINI; j++)
        m->score[j] *= m->decay;
    return cur;
}

static void
wt_mover(void *W, int64_t adj)
{
    wt_move_window(W, adj, (int64_t)((WT *)W)->C);
}

static void
wt_configure(WT *W, int cfg)
{
    W->pmax = fc_mini_resize(W, wt_mover, &W->pmax, &W->wmax, (int64_t)W->C, cfg);
    while ((int64_t)W->len[QR] > W->pmax)
        wt_shift(W, QR, QP);
    W->filter = FC_MINI_CONFIGS[cfg].filter;
}

static int
run_mini(Run *R)
{
    WT W;
    fc_mini m;
    if (fc_mini_init(&m, R->cap, R->seed, R->floor, R->sample, R->decay, R->hysteresis) < 0)
        return -1;
    if (wt_init(&W, R, R->cap, FC_MINI_CONFIGS[0].window, FC_MINI_CONFIGS[0].protect,
                R->seed) < 0) {
        fc_mini_free(&m);
        return -1;
    }
    int cur = 0;
    for (size_t i = 0; i < R->n; i++) {
        uint64_t k = R->keys[i];
        if (wt_access(&W, k))
            HIT(R, i);
        else
            MISS(R, i);
        if (!fc_mini_sampled(&m, k))
            continue;
        int next = fc_mini_step(&m, k, cur);
        if (next != cur)
            wt_configure(&W, cur = next);
    }
    R->window_final = (uint64_t)W.wmax;
    fc_mini_free(&m);
    wt_free(&W);
    return 0;
}

/* ------------------------------------------------------------------ dispatch */

typedef struct {
    const char *name;
    int (*fn)(Run *);
} Policy;

static int run_lru(Run *R) { return run_simple(R, 0); }
static int run_fifo(Run *R) { return run_simple(R, 1); }
static int run_clock(Run *R) { return run_simple(R, 2); }

static int
run_wtlfu_hc(Run *R)
{
    R->climb = 1;
    return run_wtlfu(R);
}

static const Policy POLICIES[] = {
    {"lru", run_lru},       {"lfu", run_lfu},         {"fifo", run_fifo},
    {"clock", run_clock},   {"arc", run_arc},         {"sieve", run_sieve},
    {"s3fifo", run_s3fifo}, {"wtinylfu", run_wtlfu}, {"wtinylfu-hc", run_wtlfu_hc},
    {"wtinylfu-mini", run_mini},
    /* the adaptive default: its own name so that a better design can replace it. Until the
     * miniature simulations, Caffeine's hill climber (wtinylfu-hc: within 0.5 points of the
     * best online policy on 16 of the 21 cells of bench/auto_cells.py; run_mini on 19). */
    {"auto", run_mini},
};
#define NPOLICIES (sizeof(POLICIES) / sizeof(POLICIES[0]))

/* An 8-byte integer buffer (numpy uint64/int64, array('Q'), memoryview). */
static int
get_u64_buffer(PyObject *obj, Py_buffer *view, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    int ok = view->itemsize == 8 && f[1] == '\0' &&
             (*f == 'Q' || *f == 'q' || *f == 'L' || *f == 'l' || *f == 'K' || *f == 'k');
    if (!ok || view->ndim > 1) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a 1-D contiguous buffer of 8-byte integers (numpy uint64), "
                     "not format %s, itemsize %zd, ndim %d",
                     what, view->format ? view->format : "B", view->itemsize, view->ndim);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static double
param(PyObject *params, const char *name, double dflt, int *err)
{
    if (params == NULL || params == Py_None)
        return dflt;
    PyObject *v = PyDict_GetItemString(params, name);
    if (v == NULL)
        return dflt;
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) {
        *err = 1;
        return dflt;
    }
    if (!(d >= 0.0) || d > 1e9) {
        PyErr_Format(PyExc_ValueError, "parameter %s must be a number >= 0, not %R", name, v);
        *err = 1;
    }
    return d;
}

static const char *PARAM_NAMES[] = {"window", "protected", "small", "ghost", "threshold",
                                    "step", "restart", "decay", "max_window", "sample",
                                    "variant", "floor", "hysteresis", NULL};

PyDoc_STRVAR(sim_run_doc,
"sim_run(policy, keys, capacity, sizes=None, seed=0, params=None)\n--\n\n"
"Replay `keys` (a buffer of uint64) through `policy` with room for `capacity` objects;\n"
"every request is a read, a miss inserts. Returns (hits, misses, bytes_hit, bytes_missed,\n"
"window) where the byte counts sum `sizes` (a uint64 buffer as long as keys; 0 without)\n"
"and window is W-TinyLFU's final window size (0 for the others). `params` (a dict) overrides\n"
"a policy's parameters: window, protected, small, ghost, threshold, step, restart, decay,\n"
"max_window, sample, variant, floor, hysteresis. Releases the GIL while it runs.");

static PyObject *
sim_run(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"policy", "keys", "capacity", "sizes", "seed", "params", NULL};
    const char *policy;
    PyObject *keys, *sizes = Py_None, *params = Py_None;
    long long capacity;
    unsigned long long seed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOL|OKO:sim_run", kwlist, &policy, &keys,
                                     &capacity, &sizes, &seed, &params))
        return NULL;
    const Policy *P = NULL;
    for (size_t i = 0; i < NPOLICIES; i++)
        if (strcmp(POLICIES[i].name, policy) == 0)
            P = &POLICIES[i];
    if (P == NULL)
        return PyErr_Format(PyExc_ValueError, "unknown policy %R", PyTuple_GET_ITEM(args, 0));
    if (capacity < 0 || capacity >= (long long)(NIL / 4))
        return PyErr_Format(PyExc_ValueError, "capacity must be in 0..%u, not %lld",
                            (unsigned)(NIL / 4 - 1), capacity);
    if (params != Py_None) {
        if (!PyDict_Check(params))
            return PyErr_Format(PyExc_TypeError, "params must be a dict, not %.100s",
                                Py_TYPE(params)->tp_name);
        PyObject *name, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(params, &pos, &name, &v)) {
            int known = 0;
            for (const char **p = PARAM_NAMES; *p; p++)
                if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, *p) == 0)
                    known = 1;
            if (!known)
                return PyErr_Format(PyExc_ValueError, "unknown parameter %R", name);
        }
    }
    Run R;
    memset(&R, 0, sizeof(R));
    int err = 0;
    R.window = param(params, "window", -1, &err);
    R.protect = param(params, "protected", -1, &err);
    R.small = param(params, "small", -1, &err);
    R.ghost = param(params, "ghost", -1, &err);
    R.threshold = (int)param(params, "threshold", -1, &err);
    R.step = param(params, "step", -1, &err);
    R.restart = param(params, "restart", -1, &err);
    R.decay = param(params, "decay", -1, &err);
    R.max_window = param(params, "max_window", -1, &err);
    R.sample = param(params, "sample", -1, &err);
    R.variant = param(params, "variant", -1, &err);
    R.floor = param(params, "floor", -1, &err);
    R.hysteresis = param(params, "hysteresis", -1, &err);
    if (err)
        return NULL;
    if (R.window > 1 || R.protect > 1 || R.small > 1 || R.max_window > 1 || R.hysteresis > 1)
        return PyErr_Format(PyExc_ValueError, "fractions must be in [0, 1]");
    Py_buffer kv, sv;
    if (get_u64_buffer(keys, &kv, "keys") < 0)
        return NULL;
    int have_sizes = sizes != Py_None;
    if (have_sizes) {
        if (get_u64_buffer(sizes, &sv, "sizes") < 0) {
            PyBuffer_Release(&kv);
            return NULL;
        }
        if (sv.len != kv.len) {
            PyBuffer_Release(&kv);
            PyBuffer_Release(&sv);
            return PyErr_Format(PyExc_ValueError, "sizes has %zd items, keys %zd",
                                sv.len / 8, kv.len / 8);
        }
        R.sizes = (const uint64_t *)sv.buf;
    }
    R.keys = (const uint64_t *)kv.buf;
    R.n = (size_t)(kv.len / 8);
    R.cap = (uint64_t)capacity;
    R.seed = seed;
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    if (R.cap == 0) {
        R.misses = R.n;
        if (R.sizes)
            for (size_t i = 0; i < R.n; i++)
                R.bytes_missed += R.sizes[i];
    }
    else
        rc = P->fn(&R);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&kv);
    if (have_sizes)
        PyBuffer_Release(&sv);
    if (rc < 0)
        return PyErr_NoMemory();
    return Py_BuildValue("KKKKK", (unsigned long long)R.hits, (unsigned long long)R.misses,
                         (unsigned long long)R.bytes_hit, (unsigned long long)R.bytes_missed,
                         (unsigned long long)R.window_final);
}

static PyMethodDef sim_methods[] = {
    {"sim_run", (PyCFunction)(void (*)(void))sim_run, METH_VARARGS | METH_KEYWORDS,
     sim_run_doc},
    {NULL, NULL, 0, NULL},
};

int
fc_sim_add(PyObject *module)
{
    if (PyModule_AddFunctions(module, sim_methods) < 0)
        return -1;
    PyObject *names = PyTuple_New((Py_ssize_t)NPOLICIES);
    if (names == NULL)
        return -1;
    for (size_t i = 0; i < NPOLICIES; i++) {
        PyObject *s = PyUnicode_FromString(POLICIES[i].name);
        if (s == NULL) {
            Py_DECREF(names);
            return -1;
        }
        PyTuple_SET_ITEM(names, (Py_ssize_t)i, s);
    }
    if (PyModule_AddObject(module, "SIM_POLICIES", names) < 0) {
        Py_DECREF(names);
        return -1;
    }
    return 0;
}
