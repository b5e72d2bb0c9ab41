/*
 * lfu.h: the one LFU policy of the cache classes (LFUCache) and the decorators
 * (lfu_cache), O(1) per access, ties to the least recently used.
 *
 * The entries stay on the one eviction list (list.h) that every policy uses, kept in
 * ascending frequency; entries of one frequency form a contiguous group, in the order they
 * reached it, and a bucket {freq, tail, count} describes each group. The victim is the head
 * of the list, as for LRU and FIFO: the least recently promoted entry of the lowest
 * frequency (the order of Shah, Mitra and Matani, "An O(1) algorithm for implementing the
 * LFU cache eviction scheme", 2010, with their list of buckets). A hit moves one entry: it
 * leaves its group and becomes the tail of the next group (frequency + 1), which lies right
 * after its own group or is made there; an entry alone in its group and with no group of
 * frequency + 1 after it moves nowhere, its bucket's frequency goes up.
 *
 * The twin is fastcache/_py/lfu.py (a dict of frequency -> OrderedDict).
 */
#ifndef FC_LFU_H
#define FC_LFU_H

#include "list.h"

typedef struct {
    uint64_t freq;
    fc_idx tail;        /* the group's most recent entry (the group ends here) */
    fc_idx count;       /* entries in the group; the next free bucket when free */
    fc_idx prev, next;  /* the groups' buckets in ascending frequency: a hit finds the group
                           of frequency + 1 here, in the small hot bucket array, rather than
                           through the entry after its group (one cold line less) */
} fc_bucket;

typedef struct {
    fc_bucket *buckets; /* at most one per entry: sized with the entries */
    fc_idx *of;         /* of[ix]: the bucket of entry ix */
    fc_idx free, top;
    fc_idx first;       /* the bucket of the lowest frequency */
} fc_lfu;

static inline void
fc_lfu_init(fc_lfu *f)
{
    f->buckets = NULL;
    f->of = NULL;
    f->free = FC_NIL;
    f->top = 0;
    f->first = FC_NIL;
}

static inline uint64_t
fc_lfu_freq(const fc_lfu *f, fc_idx ix)
{
    return f->buckets[f->of[ix]].freq;
}

/* lfu.c */
int fc_lfu_resize(fc_lfu *f, Py_ssize_t cap);
void fc_lfu_free(fc_lfu *f);
/* A new entry of frequency `freq` (1, or a pickled frequency) joins the list. */
void fc_lfu_enter(fc_lfu *f, fc_entry *e, fc_list *l, fc_idx ix, uint64_t freq);
/* Entry ix leaves its group (call before unlinking it from the list). */
void fc_lfu_leave(fc_lfu *f, fc_entry *e, fc_idx ix);
/* An access: frequency + 1. */
void fc_lfu_touch(fc_lfu *f, fc_entry *e, fc_list *l, fc_idx ix);
/* The consistency check: 0, or -1 with *what naming the broken invariant. */
int fc_lfu_check(const fc_lfu *f, const fc_entry *e, const fc_list *l, const char **what);

#endif /* FC_LFU_H */
