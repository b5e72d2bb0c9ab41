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

/* Halve every counter (the periodic aging step; out of line: once in sample_size). */
#if defined(__GNUC__)
__attribute__((noinline, cold, unused))
#endif
static void
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

/* The key's block of eight words (one cache line) and its four counters in it: counter i
 * (0..3) is in word 2i or 2i + 1 of the block (bit 8i of the hash's upper half chooses), at
 * nibble (bits 8i+1..8i+4); FC_SKETCH_WORD gives the word's offset in the block, FC_SKETCH_SHIFT
 * the counter's bit offset in its word. Fully unrolled by the callers (no loop, no index
 * arithmetic beyond these shifts and masks): the hit path of WTinyLFUCache runs this. */
#define FC_SKETCH_WORD(c, i) ((((c) >> ((i) << 3)) & 1) + ((uint32_t)(i) << 1))
#define FC_SKETCH_SHIFT(c, i) ((((c) >> ((i) << 3)) & 30) << 1)

static inline uint64_t *
fc_sketch_block(const fc_sketch *s, uint64_t h)
{
    return s->table + (((uint32_t)h & s->block_mask) << 3);
}

static inline int
fc_sketch_counter(const uint64_t *b, uint32_t c, int i)
{
    return (int)((b[FC_SKETCH_WORD(c, i)] >> FC_SKETCH_SHIFT(c, i)) & 15);
}

/* The estimated frequency (0..15) of the key whose hash is h: its lowest counter. */
static inline int
fc_sketch_estimate(const fc_sketch *s, uint64_t h)
{
    const uint64_t *b = fc_sketch_block(s, h);
    uint32_t c = (uint32_t)(h >> 32);
    int m0 = fc_sketch_counter(b, c, 0), m1 = fc_sketch_counter(b, c, 1);
    int m2 = fc_sketch_counter(b, c, 2), m3 = fc_sketch_counter(b, c, 3);
    m0 = m0 < m1 ? m0 : m1;
    m2 = m2 < m3 ? m2 : m3;
    return m0 < m2 ? m0 : m2;
}

/* Add one to counter i unless it is saturated (15); 1 if it was added to. */
static inline int
fc_sketch_add(uint64_t *b, uint32_t c, int i)
{
    uint64_t *w = b + FC_SKETCH_WORD(c, i);
    uint32_t sh = FC_SKETCH_SHIFT(c, i);
    if (((*w >> sh) & 15) == 15)
        return 0;
    *w += UINT64_C(1) << sh;
    return 1;
}

/* Count one occurrence of the key whose hash is h; halves the sketch every sample_size. */
static inline void
fc_sketch_increment(fc_sketch *s, uint64_t h)
{
    uint64_t *b = fc_sketch_block(s, h);
    uint32_t c = (uint32_t)(h >> 32);
    int added = fc_sketch_add(b, c, 0) | fc_sketch_add(b, c, 1) | fc_sketch_add(b, c, 2) |
                fc_sketch_add(b, c, 3);
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
