/*
 * s3fifo.h: the state of S3FIFOCache's policy (s3fifo.c) and its hit path.
 *
 * S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP'23), as
 * libCacheSim's S3FIFO.c (the simulator's variant 0, csrc/sim.c): a small FIFO (a fraction
 * of maxsize), a main FIFO, and a ghost FIFO remembering the hashes of keys evicted from
 * the small queue (its sizes adding up to a fraction of maxsize). Each entry has a 2-bit
 * frequency (0..3) that a hit increments. A new key whose hash is in the ghost goes to main,
 * others to small (main too until the first eviction, once small is full). Eviction takes
 * from main while main is over its share or small is empty: the oldest of main goes if its
 * frequency is 0, else it is reinserted with one less; otherwise from small: the oldest of
 * small moves to main if it was hit at least twice, else goes (its hash to the ghost).
 *
 * Both queues live on the cache's one order list: small first, then main, `small_tail`
 * marking the boundary (iteration lists small's entries, then main's, each oldest first).
 * c->marks[ix] holds an entry's frequency and whether it is in main.
 */
#ifndef FC_S3FIFO_H
#define FC_S3FIFO_H

#include "list.h"

#define FC_S3_FREQ   0x03
#define FC_S3_MAIN   0x04   /* in the main queue */
#define FC_S3_PLACED 0x08   /* fc_entry_link's mark only: queue as given (a restored entry) */
#define FC_S3_MOVE_TO_MAIN 2

/* The ghost: a FIFO of key hashes (no key objects) on a table of its own, each with the
 * size of the entry it remembers (at least 1). */
typedef struct {
    fc_table t;               /* keys are Py_None: entries found by hash alone */
    fc_list order;            /* head: the oldest */
    Py_ssize_t *sizes;
    Py_ssize_t used;
} fc_ghost;

typedef struct {
    double small_fraction, ghost_fraction;
    Py_ssize_t scap, mcap, gcap;   /* small's and main's shares, the ghost's capacity */
    fc_idx small_tail;             /* small's newest entry; FC_NIL: small is empty */
    Py_ssize_t s_count, s_size, m_size;
    int has_evicted;
    fc_ghost ghost;
} fc_s3;

/* A hit: the frequency, up to 3. */
static inline void
fc_s3_touch(uint8_t *marks, fc_idx ix)
{
    uint8_t m = marks[ix];
    if ((m & FC_S3_FREQ) != FC_S3_FREQ)
        marks[ix] = (uint8_t)(m + 1);
}

#endif /* FC_S3FIFO_H */
