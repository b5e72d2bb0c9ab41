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

/* The ghost: a FIFO of key hashes (no key objects), each with the size of the entry it
 * remembers (at least 1), in a ring, and an index of its own from hash to ring position:
 * linear probing over 8-byte slots holding the position and 32 bits of the hash's
 * Fibonacci product (its home slot's bits and a fingerprint), so that probing, insertion
 * and deletion never read the ring, and a lookup reads it only on a fingerprint match. A
 * hash dropped from the middle of the FIFO (a ghost hit, or the hash pushed again) leaves a
 * dead position (FC_GHOST_DEAD, -1: never a Python hash) that the oldest end skips and a
 * rebuild (the ring full) leaves out. The ring holds the hashes only (8 bytes a position):
 * the sizes have a parallel array, made when a size other than 1 is first remembered
 * (getsizeof), until then every size is 1. The ring and index start empty and double (or
 * are compacted) as the ring fills. */
#define FC_GHOST_DEAD ((Py_hash_t)-1)

typedef struct {
    uint32_t fp;              /* the top 32 bits of hash x 2**64/phi */
    int32_t pos;              /* -1: an empty slot */
} fc_ghost_slot;

typedef struct {
    Py_hash_t *ring;          /* rcap positions, a power of two (or none) */
    Py_ssize_t *sizes;        /* rcap sizes, or NULL: every size is 1 */
    Py_ssize_t rcap, head, count;  /* the oldest position; positions in use, dead included */
    fc_ghost_slot *index;     /* 2 x rcap slots */
    int bits;                 /* log2(2 x rcap) */
    Py_ssize_t len, used;     /* live hashes, and their sizes' sum */
} fc_ghost;

typedef struct {
    double small_fraction, ghost_fraction;
    Py_ssize_t scap, mcap, gcap;   /* small's and main's shares, the ghost's capacity */
    fc_idx small_tail;             /* small's newest entry; FC_NIL: small is empty */
    Py_ssize_t s_count, s_size, m_size;
    int has_evicted;
    fc_ghost ghost;
} fc_s3;

/* The ghost index's slot for a hash: its fingerprint (the top 32 bits of hash x 2**64/phi)
 * and its home slot (the fingerprint's top bits). */
static inline uint32_t
fc_ghost_fp(Py_hash_t hash)
{
    return (uint32_t)(((uint64_t)hash * 0x9E3779B97F4A7C15ULL) >> 32);
}

static inline size_t
fc_ghost_home(const fc_ghost *g, uint32_t fp)
{
    return (size_t)(fp >> (32 - g->bits));
}

/* A write of a key not in the cache first looks its hash up in the ghost, then evicts (which
 * pushes a hash to the ghost and drops its oldest): start loading the index slots those
 * steps begin at, the key's own (cache.c, before the table's lookup) and the oldest hash's
 * (s3fifo.c ghost_push), so that their misses overlap the table's and each other's. */
FC_PREFETCH_HELPER
fc_ghost_prefetch(const fc_ghost *g, Py_hash_t hash)
{
    if (g->index != NULL)
        FC_PREFETCH(&g->index[fc_ghost_home(g, fc_ghost_fp(hash))], 1);
}

/* A hit: the frequency, up to 3. */
static inline void
fc_s3_touch(uint8_t *marks, fc_idx ix)
{
    uint8_t m = marks[ix];
    if ((m & FC_S3_FREQ) != FC_S3_FREQ)
        marks[ix] = (uint8_t)(m + 1);
}

#endif /* FC_S3FIFO_H */
