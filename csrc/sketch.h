/* sketch.h: a count-min sketch of 4-bit counters with periodic halving.
 *
 * The design of Caffeine's FrequencySketch: a table of 64-bit words, each holding sixteen
 * 4-bit counters; a key's four counters live in one 64-byte block of eight words (one cache
 * line), one counter in each pair of words; the estimate is the minimum of the four. After
 * `sample_size` increments (10 x the cache's capacity) every counter is halved, so the sketch
 * forgets old popularity ("aging"). The block and counter indexes come from a 64-bit hash of
 * the key mixed with a per-sketch seed: with a random seed an attacker cannot choose keys that
 * collide (hash flooding), which is what makes the sketch usable with untrusted keys.
 *
 * No Python objects: shared by the W-TinyLFU admission filter and a hot-key detector. The
 * callers hash their key once with fc_sketch_hash() and pass the hash to increment/estimate.
 * The pure-Python twin (fastcache/_py/sim.py, class Sketch) computes the same numbers.
 */
#ifndef FC_SKETCH_H
#define FC_SKETCH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A 64-bit finaliser (splitmix64's): a bijection that spreads every input bit. */
static inline uint64_t
fc_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

typedef struct {
    uint64_t *table;      /* nwords 64-bit words, nwords a power of two >= 8 */
    uint64_t seed;        /* mixed into every hash */
    uint32_t block_mask;  /* (nwords / 8) - 1 */
    uint32_t size;        /* increments since the last halving */
    uint32_t sample_size; /* halve after this many increments */
    uint32_t nwords;
} fc_sketch;

#define FC_SKETCH_RESET_MASK UINT64_C(0x7777777777777777)
#define FC_SKETCH_ONE_MASK UINT64_C(0x1111111111111111)

/* Size the sketch for a cache of `capacity` entries (one word per entry, rounded up to a
 * power of two, at least one block). Returns 0, or -1 when out of memory. */
static inline int
fc_sketch_init(fc_sketch *s, uint64_t capacity, uint64_t seed)
{
    uint64_t max = capacity < (UINT64_C(1) << 30) ? capacity : (UINT64_C(1) << 30);
    uint32_t n = 8;
    while (n < max)
        n <<= 1;
    s->table = (uint64_t *)calloc(n, sizeof(uint64_t));
    if (s->table == NULL)
        return -1;
    s->nwords = n;
    s->block_mask = (n >> 3) - 1;
    s->seed = seed;
    s->size = 0;
    s->sample_size = capacity == 0 ? 10 : (uint32_t)(10 * (max < 1 ? 1 : max));
    return 0;
}

static inline void
fc_sketch_free(fc_sketch *s)
{
    free(s->table);
    s->table = NULL;
}

/* The hash a caller passes to increment/estimate. */
static inline uint64_t
fc_sketch_hash(const fc_sketch *s, uint64_t key)
{
    return fc_mix64(key ^ s->seed);
}

/* Halve every counter (the periodic aging step). */
static inline void
fc_sketch_reset(fc_sketch *s)
{
    uint32_t odd = 0;
    for (uint32_t i = 0; i < s->nwords; i++) {
        odd += (uint32_t)__builtin_popcountll(s->table[i] & FC_SKETCH_ONE_MASK);
        s->table[i] = (s->table[i] >> 1) & FC_SKETCH_RESET_MASK;
    }
    s->size = (s->size - (odd >> 2)) >> 1;
}

/* Forget everything. */
static inline void
fc_sketch_clear(fc_sketch *s)
{
    memset(s->table, 0, (size_t)s->nwords * sizeof(uint64_t));
    s->size = 0;
}

/* The word and the counter (0..15) in it of the key's i-th counter (i in 0..3). */
#define FC_SKETCH_SLOT(s, h, i, word, nib)                                             \
    do {                                                                               \
        uint32_t _b = ((uint32_t)(h) & (s)->block_mask) << 3;                          \
        uint32_t _c = (uint32_t)((h) >> 32) >> ((i) << 3);                             \
        (nib) = (_c >> 1) & 15;                                                        \
        (word) = _b + (_c & 1) + ((uint32_t)(i) << 1);                                 \
    } while (0)

/* The estimated frequency (0..15) of the key whose hash is h. */
static inline int
fc_sketch_estimate(const fc_sketch *s, uint64_t h)
{
    int m = 15;
    for (int i = 0; i < 4; i++) {
        uint32_t w, nib;
        FC_SKETCH_SLOT(s, h, i, w, nib);
        int c = (int)((s->table[w] >> (nib << 2)) & 15);
        if (c < m)
            m = c;
    }
    return m;
}

/* Count one occurrence of the key whose hash is h; halves the sketch every sample_size. */
static inline void
fc_sketch_increment(fc_sketch *s, uint64_t h)
{
    int added = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t w, nib;
        FC_SKETCH_SLOT(s, h, i, w, nib);
        uint64_t mask = UINT64_C(15) << (nib << 2);
        if ((s->table[w] & mask) != mask) {
            s->table[w] += UINT64_C(1) << (nib << 2);
            added = 1;
        }
    }
    if (added && ++s->size == s->sample_size)
        fc_sketch_reset(s);
}

/* W-TinyLFU's other pieces shared by the simulator (sim.c) and WTinyLFUCache (wtinylfu.c). */

/* xorshift64*: the admission jitter's stream (the twins, sim.py, draw the same numbers). */
static inline uint64_t
fc_xorshift64s(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* The hill climber's decision at the end of a sample (Caffeine: BoundedLocalCache.
 * determineAdjustment / climb): from the sample's hit rate, the window's adjustment (its sign:
 * grow or shrink); *prev_rate and *step move on. The step keeps its direction while the hit
 * rate improves, reverses when it worsens, decays by `decay`, and restarts at step_pct x
 * capacity when the rate jumps by `restart`. */
static inline double
fc_climb_amount(double rate, double *prev_rate, double *step, double step_pct, double restart,
                double decay, double capacity)
{
    double change = rate - *prev_rate;
    double amount = change >= 0 ? *step : -*step;
    *step = (change >= 0 ? change : -change) >= restart
                ? step_pct * capacity * (amount >= 0 ? 1 : -1)
                : decay * amount;
    *prev_rate = rate;
    return amount;
}

/* The climber's move of the window's boundary by adj (Caffeine: BoundedLocalCache.
 * increaseWindow / decreaseWindow), around the caller's moving of entries. fc_window_begin
 * moves the maxima (the window never above wcap nor below 1, main's protected share pays for
 * a larger window) and returns the quota: > 0, that much of main (probation's least recently
 * used first, then protected's) goes to the window; < 0, that much of the window goes to
 * probation. The caller moves at most 1000 entries, counting the quota towards 0, then
 * fc_window_end gives back to the maxima what it did not move. */
static inline int64_t
fc_window_begin(int64_t adj, int64_t *pmax, int64_t *wmax, int64_t wcap)
{
    int64_t quota;
    if (adj > 0) {
        quota = adj < *pmax ? adj : *pmax;
        if (quota > wcap - *wmax)
            quota = wcap - *wmax > 0 ? wcap - *wmax : 0;
    }
    else if (adj < 0 && *wmax > 1)
        quota = -(-adj < *wmax - 1 ? -adj : *wmax - 1);
    else
        return 0;
    *pmax -= quota;
    *wmax += quota;
    return quota;
}

static inline void
fc_window_end(int64_t left, int64_t *pmax, int64_t *wmax)
{
    *pmax += left;
    *wmax -= left;
}

#endif /* FC_SKETCH_H */
