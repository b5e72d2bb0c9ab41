/*
 * bloomghost.h: a ghost queue as two rotating Bloom filters: the keys most recently added are
 * remembered, older ones forgotten, with no per-key storage.
 *
 * S3-FIFO (Yang et al., SOSP 2023) remembers the keys its small queue evicted in a ghost FIFO
 * as long as its main queue, so that a key that comes back goes to main. W-TinyLFU's S3-FIFO
 * mode (FC_ADMIT_S3, mini.h) needs the same memory, but at the cost of W-TinyLFU's own entry,
 * not of an exact FIFO of hashes (24 bytes a position in s3fifo.c). Here a key is added to the
 * current filter; once it holds `cap` keys the other one is emptied and becomes current, so a
 * key is remembered for between cap and 2 x cap later additions. Each filter has 10 bits per
 * key rounded up to a power of two (4 probes: under 1% false positives when full), so a ghost
 * of 0.9 x C keys costs 2.25 to 4.5 bytes per entry of the cache. A false positive only sends
 * a new key to main, and a key's presence is never removed (a Bloom filter cannot): it ages
 * out. The probes are keyed by the owner's seed, as the sketch's counters.
 *
 * One mechanism for the simulator's W-TinyLFU (sim.c) and WTinyLFUCache (wtinylfu.c); the
 * twin's is fastcache/_py/sim.py's Ghost, bit for bit. No Python API (runs without the GIL).
 * An unallocated ghost (bits[0] NULL: not made yet, or out of memory) remembers nothing.
 */
#ifndef FC_BLOOMGHOST_H
#define FC_BLOOMGHOST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

typedef struct {
    uint64_t *bits[2]; /* the two filters (NULL: unallocated) */
    uint64_t mask;     /* bit positions: mask + 1, a power of two >= 64 */
    uint64_t count;    /* keys added to the current filter */
    uint64_t cap;      /* keys per filter */
    uint64_t seed;
    int cur;
} fc_bloomghost;

#define FC_BLOOMGHOST_PROBES 4
#define FC_BLOOMGHOST_BITS_PER_KEY 10

/* A ghost remembering `cap` (>= 1) to 2 x cap keys. 0, or -1 when out of memory (then it
 * stays unallocated). */
static inline int
fc_bloomghost_init(fc_bloomghost *g, uint64_t cap, uint64_t seed)
{
    memset(g, 0, sizeof(*g));
    if (cap < 1)
        cap = 1;
    if (cap > (UINT64_C(1) << 32))
        cap = UINT64_C(1) << 32;
    uint64_t m = 64;
    while (m < FC_BLOOMGHOST_BITS_PER_KEY * cap)
        m <<= 1;
    g->bits[0] = (uint64_t *)calloc(m / 64, sizeof(uint64_t));
    g->bits[1] = g->bits[0] ? (uint64_t *)calloc(m / 64, sizeof(uint64_t)) : NULL;
    if (g->bits[1] == NULL) {
        free(g->bits[0]);
        g->bits[0] = NULL;
        return -1;
    }
    g->mask = m - 1;
    g->cap = cap;
    g->seed = seed ^ UINT64_C(0x5BD1E9955BD1E995);
    return 0;
}

static inline void
fc_bloomghost_free(fc_bloomghost *g)
{
    free(g->bits[0]);
    free(g->bits[1]);
    g->bits[0] = g->bits[1] = NULL;
}

/* The probes of key k: bit (h + i x h2) & mask for i < FC_BLOOMGHOST_PROBES. */
static inline uint64_t
fc_bloomghost_hash(const fc_bloomghost *g, uint64_t k, uint64_t *h2)
{
    uint64_t h = fc_mix64(k ^ g->seed);
    *h2 = (h >> 29) | 1;
    return h;
}

static inline int
fc_bloomghost_contains(const fc_bloomghost *g, uint64_t k)
{
    if (g->bits[0] == NULL)
        return 0;
    uint64_t h2, h = fc_bloomghost_hash(g, k, &h2);
    for (int f = 0; f < 2; f++) {
        int i = 0;
        for (; i < FC_BLOOMGHOST_PROBES; i++) {
            uint64_t b = (h + (uint64_t)i * h2) & g->mask;
            if (!((g->bits[f][b >> 6] >> (b & 63)) & 1))
                break;
        }
        if (i == FC_BLOOMGHOST_PROBES)
            return 1;
    }
    return 0;
}

static inline void
fc_bloomghost_add(fc_bloomghost *g, uint64_t k)
{
    if (g->bits[0] == NULL)
        return;
    if (g->count >= g->cap) {
        g->cur ^= 1;
        memset(g->bits[g->cur], 0, (g->mask + 1) / 8);
        g->count = 0;
    }
    uint64_t h2, h = fc_bloomghost_hash(g, k, &h2);
    for (int i = 0; i < FC_BLOOMGHOST_PROBES; i++) {
        uint64_t b = (h + (uint64_t)i * h2) & g->mask;
        g->bits[g->cur][b >> 6] |= UINT64_C(1) << (b & 63);
    }
    g->count++;
}

#endif /* FC_BLOOMGHOST_H */
