/*
 * lfu.c: frequency groups on the eviction list (see lfu.h).
 */
#include "lfu.h"

int
fc_lfu_resize(fc_lfu *f, Py_ssize_t cap)
{
    fc_idx *of = PyMem_Realloc(f->of, (size_t)cap * sizeof(fc_idx));
    if (of == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    f->of = of;
    fc_bucket *b = PyMem_Realloc(f->buckets, (size_t)cap * sizeof(fc_bucket));
    if (b == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    f->buckets = b;
    return 0;
}

void
fc_lfu_free(fc_lfu *f)
{
    PyMem_Free(f->of);
    PyMem_Free(f->buckets);
    fc_lfu_init(f);
}

/* A new, empty bucket of `freq`, after bucket `after` in the bucket list (FC_NIL: first). */
static fc_idx
bucket_new(fc_lfu *f, uint64_t freq, fc_idx after)
{
    fc_idx b;
    if (f->free != FC_NIL) {
        b = f->free;
        f->free = f->buckets[b].count;
    }
    else {
        b = f->top++;   /* never more buckets than entries: within the capacity */
    }
    fc_bucket *bk = &f->buckets[b];
    bk->freq = freq;
    bk->tail = FC_NIL;
    bk->count = 0;
    bk->prev = after;
    bk->next = after == FC_NIL ? f->first : f->buckets[after].next;
    if (bk->next != FC_NIL)
        f->buckets[bk->next].prev = b;
    if (after == FC_NIL)
        f->first = b;
    else
        f->buckets[after].next = b;
    return b;
}

static inline void
join(fc_lfu *f, fc_idx b, fc_idx ix)
{
    f->of[ix] = b;
    f->buckets[b].count++;
    f->buckets[b].tail = ix;
}

void
fc_lfu_leave(fc_lfu *f, fc_entry *e, fc_idx ix)
{
    fc_idx b = f->of[ix];
    fc_bucket *bk = &f->buckets[b];
    if (--bk->count == 0) {
        if (bk->prev != FC_NIL)
            f->buckets[bk->prev].next = bk->next;
        else
            f->first = bk->next;
        if (bk->next != FC_NIL)
            f->buckets[bk->next].prev = bk->prev;
        bk->count = f->free;
        f->free = b;
    }
    else if (bk->tail == ix) {
        bk->tail = e[ix].prev;   /* groups are contiguous: prev is in the group */
    }
}

void
fc_lfu_enter(fc_lfu *f, fc_entry *e, fc_list *l, fc_idx ix, uint64_t freq)
{
    /* after the last entry of frequency <= freq: a restore (ascending frequencies) appends
     * at the tail, a new entry (1) joins the head group; group by group otherwise */
    fc_idx after;
    if (l->tail == FC_NIL || fc_lfu_freq(f, l->tail) <= freq) {
        after = l->tail;
    }
    else if (fc_lfu_freq(f, l->head) > freq) {
        after = FC_NIL;
    }
    else {
        after = f->buckets[f->of[l->head]].tail;
        for (fc_idx n = e[after].next; n != FC_NIL && fc_lfu_freq(f, n) <= freq;
             n = e[after].next)
            after = f->buckets[f->of[n]].tail;
    }
    fc_list_insert_after(e, l, ix, after);
    if (after != FC_NIL && fc_lfu_freq(f, after) == freq)
        join(f, f->of[after], ix);
    else
        join(f, bucket_new(f, freq, after == FC_NIL ? FC_NIL : f->of[after]), ix);
}

void
fc_lfu_touch(fc_lfu *f, fc_entry *e, fc_list *l, fc_idx ix)
{
    fc_idx b = f->of[ix];
    fc_bucket *bk = &f->buckets[b];
    uint64_t freq = bk->freq + 1;
    fc_idx target = bk->next;
    if (target != FC_NIL && f->buckets[target].freq != freq)
        target = FC_NIL;
    if (target == FC_NIL && bk->count == 1) {
        bk->freq = freq;   /* alone, nothing to join: the group moves up with it */
        return;
    }
    fc_idx orig_prev = e[ix].prev;
    fc_idx after;
    if (target != FC_NIL) {
        after = f->buckets[target].tail;
    }
    else {
        /* a new group right after what remains of the old one (or where the entry was);
           the old group keeps other entries, so its bucket stays */
        after = bk->tail == ix ? orig_prev : bk->tail;
        target = bucket_new(f, freq, b);
    }
    fc_lfu_leave(f, e, ix);
    if (after != orig_prev) {
        fc_list_unlink(e, l, ix);
        fc_list_insert_after(e, l, ix, after);
    }
    join(f, target, ix);
}

int
fc_lfu_check(const fc_lfu *f, const fc_entry *e, const fc_list *l, const char **what)
{
    uint64_t last = 0;
    fc_idx prev_bucket = FC_NIL;
    for (fc_idx ix = l->head; ix != FC_NIL; ix = e[ix].next) {
        fc_idx b = f->of[ix];
        if (b < 0 || b >= f->top) {
            *what = "LFU bucket out of range";
            return -1;
        }
        uint64_t freq = f->buckets[b].freq;
        if (b != prev_bucket) {
            if (freq <= last && prev_bucket != FC_NIL) {
                *what = "LFU groups out of order";
                return -1;
            }
            if (prev_bucket != FC_NIL && f->buckets[prev_bucket].tail != e[ix].prev) {
                *what = "LFU group tail";
                return -1;
            }
            if (prev_bucket == FC_NIL ? f->first != b : f->buckets[prev_bucket].next != b) {
                *what = "LFU bucket list";
                return -1;
            }
            /* count the group */
            fc_idx n = 0;
            for (fc_idx j = ix; j != FC_NIL && f->of[j] == b; j = e[j].next)
                n++;
            if (n != f->buckets[b].count) {
                *what = "LFU group count";
                return -1;
            }
            last = freq;
            prev_bucket = b;
        }
    }
    if (prev_bucket == FC_NIL ? f->first != FC_NIL : f->buckets[prev_bucket].next != FC_NIL) {
        *what = "LFU bucket list end";
        return -1;
    }
    if (prev_bucket != FC_NIL && f->buckets[prev_bucket].tail != l->tail) {
        *what = "LFU group tail";
        return -1;
    }
    return 0;
}
