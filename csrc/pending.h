/*
 * pending.h: the deferred-release list. Keys and values leaving a structure are parked here
 * and released (and reported to a listener) only once the structure is consistent again
 * and the operation complete, so that a __del__ or a listener calling back into the cache
 * finds it whole. Eight removals fit inline; more grow the list. Out of memory while
 * growing, in the middle of an update, the pair is released at once (the lesser evil: a
 * leak would be permanent), never lost.
 */
#ifndef FC_PENDING_H
#define FC_PENDING_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject *key, *value;
    PyObject *cause;   /* borrowed interned str, or NULL: do not report */
    double deadline;   /* expired entries are reported in (deadline, seq) order */
    uint64_t seq;
} fc_removed;

typedef struct {
    fc_removed *items;
    Py_ssize_t n, cap;
    fc_removed inline_items[8];
} fc_pending;

static inline void
fc_pending_init(fc_pending *p)
{
    p->items = p->inline_items;
    p->n = 0;
    p->cap = 8;
}

/* pending.c */
/* Doubles the list's room: 0, or -1 (out of memory, no exception set). */
int fc_pending_grow(fc_pending *p);

/* Takes over the references to key and value (either may be NULL). */
static inline void
fc_pending_push(fc_pending *p, PyObject *key, PyObject *value, PyObject *cause,
                double deadline, uint64_t seq)
{
    if (p->n == p->cap && fc_pending_grow(p) < 0) {
        /* Out of memory in the middle of an update: releasing now is the lesser evil. */
        Py_XDECREF(key);
        Py_XDECREF(value);
        return;
    }
    fc_removed *r = &p->items[p->n++];
    r->key = key;
    r->value = value;
    r->cause = cause;
    r->deadline = deadline;
    r->seq = seq;
}
/* Report each pair with a cause to `listener` (if not NULL) as listener(key, value, cause),
 * then release everything. Returns -1 with the first listener exception set (the others
 * are reported as unraisable), else 0. An exception already set when it is called is kept
 * aside meanwhile and restored (a finalizer must not see or eat it). */
int fc_pending_finish(fc_pending *p, PyObject *listener);
/* Sort the entries from `first` on by (deadline, seq). */
void fc_pending_sort(fc_pending *p, Py_ssize_t first);

#endif /* FC_PENDING_H */
