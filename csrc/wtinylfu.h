/*
 * wtinylfu.h: the W-TinyLFU policy of WTinyLFUCache (wtinylfu.c), the simulator's
 * run_wtlfu (sim.c: wtinylfu, wtinylfu-hc) on the cache classes' one eviction list.
 *
 * The entries stay on the one eviction list (list.h) of every policy, as three contiguous
 * segments in this order: probation, protected, window (each least recently used first), so
 * iteration, snapshots, pickling and the consistency check walk one list as for the other
 * policies. A segment is a {head, tail} range of that list; seg[ix] says where entry ix is.
 * The count-min sketch is sketch.h's, shared with the simulator.
 */
#ifndef FC_WTINYLFU_H
#define FC_WTINYLFU_H

#include "bloomghost.h"
#include "list.h"
#include "mini.h"
#include "sketch.h"

enum { FC_WT_FIXED, FC_WT_MINI, FC_WT_CLIMB }; /* adaptive=False, True, "climb" */
enum { FC_WT_PROBATION, FC_WT_PROTECTED, FC_WT_WINDOW, FC_WT_NSEG };

typedef struct fc_wtlfu {
    fc_sketch sk;                /* sk.table NULL until allocated (see wtinylfu.c) */
    uint8_t *seg;                /* per entry: its segment, and its FC_ADMIT_S3 count << 2
                                  * (sized with the entries) */
    fc_idx head[FC_WT_NSEG], tail[FC_WT_NSEG];
    int64_t len[FC_WT_NSEG];     /* the segments' sizes (sum of the entries' sizes) */
    int64_t wmax, pmax;          /* the window's and the protected segment's maxima */
    double window;               /* the constructor's fraction */
    int adaptive;                /* FC_WT_FIXED, FC_WT_MINI or FC_WT_CLIMB */
    int config;                  /* FC_WT_MINI: the configuration (FC_MINI_CONFIGS) taken */
    int filter;                  /* FC_ADMIT_* (mini.h): the configuration's */
    fc_mini mini;                /* FC_WT_MINI: the shadows (mini.sh NULL until made) */
    fc_bloomghost ghost;         /* FC_ADMIT_S3's (bloomghost.h), made when the mode is first
                                  * taken */
    uint64_t seed;               /* the sketch's hash key */
    PyObject *seed_obj;          /* the constructor's seed (None or an int) */
    uint64_t rng;                /* the admission jitter's xorshift64* state (as sim.c) */
    /* the hill climber (adaptive="climb") */
    uint64_t sample_size, s_hits, s_reqs;
    double prev_rate, step;
} fc_wtlfu;

/* A lookup's first step (cache.c find_live_at): start loading the sketch block that a hit
 * of the key (Python hash h) counts in, so that its miss overlaps the table's. */
FC_PREFETCH_HELPER
fc_wtlfu_prefetch_lookup(const fc_wtlfu *w, Py_hash_t h)
{
    if (w->sk.table != NULL)
        FC_PREFETCH(fc_sketch_block(&w->sk, fc_sketch_hash(&w->sk, (uint64_t)h)), 1);
}

/* A write's first step (cache.c): start loading probation's least recently used entry, the
 * usual victim, whose hash the admission contest reads. */
FC_PREFETCH_HELPER
fc_wtlfu_prefetch_write(const fc_wtlfu *w, const fc_entry *entries)
{
    if (w->head[FC_WT_PROBATION] != FC_NIL)
        FC_PREFETCH(&entries[w->head[FC_WT_PROBATION]], 1);
}

#endif /* FC_WTINYLFU_H */
