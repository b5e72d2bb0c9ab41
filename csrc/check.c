/*
 * check.c: the whole-structure consistency check of a cache: _check() (tests), and after
 * every operation in the FC_DEBUG build (FASTCACHE_DEBUG=1 python setup.py build_ext).
 * The twin's counterpart is Cache._check() in fastcache/_py/caches.py.
 */
#include "core.h"

static int
check_fail(const char *what)
{
    PyErr_Format(PyExc_AssertionError, "cache inconsistent: %s", what);
    return -1;
}

int
fc_cache_check(CacheObject *c)
{
    fc_table *t = &c->t;
    Py_ssize_t live = 0, size = 0, in_index = 0;
    if (t->top > t->cap || t->len > t->top)
        return check_fail("table counts");
    if (c->sized && t->cap > 0 && c->sizes == NULL)
        return check_fail("sizes missing");
    for (Py_ssize_t i = 0; i < t->top; i++) {
        if (t->entries[i].key == NULL)
            continue;
        live++;
        if (fc_entry_size(c, (fc_idx)i) < 0)
            return check_fail("negative size");
        size += fc_entry_size(c, (fc_idx)i);
        /* reachable from its home slot without crossing an empty slot */
        size_t s = fc_home(t, t->entries[i].hash);
        while (t->index[s] != (fc_idx)i) {
            if (t->index[s] == FC_NIL)
                return check_fail("entry not reachable from its home slot");
            s = (s + 1) & t->mask;
        }
    }
    if (live != t->len) return check_fail("len does not match live entries");
    if (size != c->currsize) return check_fail("currsize does not match sizes");
    if (!c->unbounded && c->currsize > c->maxsize) return check_fail("currsize > maxsize");
    if (t->index != NULL)
        for (size_t s = 0; s <= t->mask; s++)
            if (t->index[s] != FC_NIL) {
                if (t->index[s] < 0 || t->index[s] >= t->top || t->entries[t->index[s]].key == NULL)
                    return check_fail("index points at a free entry");
                in_index++;
            }
    if (in_index != live) return check_fail("index count does not match");
    Py_ssize_t n = 0;
    fc_idx prev = FC_NIL;
    for (fc_idx ix = c->order.head; ix != FC_NIL; ix = t->entries[ix].next) {
        if (ix < 0 || ix >= t->top || t->entries[ix].prev != prev || t->entries[ix].key == NULL)
            return check_fail("order list links");
        prev = ix;
        if (++n > live) return check_fail("order list cycle");
    }
    if (c->order.tail != prev) return check_fail("order list tail");
    if (n != live) return check_fail("order list length");
    if (c->policy == P_LFU) {
        const char *what;
        if (fc_lfu_check(&c->lfu, t->entries, &c->order, &what) < 0)
            return check_fail(what);
    }
    if (HAS_MARKS(c) && live > 0 && c->marks == NULL)
        return check_fail("marks missing");
    if (c->policy == P_SIEVE || c->policy == P_S3FIFO) {
        const char *what;
        if ((c->policy == P_SIEVE ? fc_sieve_check(c, &what) : fc_s3_check(c, &what)) < 0)
            return check_fail(what);
    }
    if (c->policy == P_WTLFU) {
        const char *what;
        if (fc_wtlfu_check(c, &what) < 0)
            return check_fail(what);
    }
    if (IS_TIMED(c)) {
        Py_ssize_t scheduled = 0, finite = 0;
        for (int b = 0; b < FC_WHEEL_LEVELS * FC_WHEEL_SIZE; b++) {
            fc_idx prev = FC_NIL;
            for (fc_idx ix = c->wheel->head[b]; ix != FC_NIL; ix = c->tnodes[ix].next) {
                if (c->tnodes[ix].bucket != b || c->tnodes[ix].prev != prev ||
                    t->entries[ix].key == NULL)
                    return check_fail("wheel links");
                prev = ix;
                if (++scheduled > live) return check_fail("wheel cycle");
            }
        }
        for (Py_ssize_t i = 0; i < c->wheel->hlen; i++) {
            fc_idx ix = c->wheel->heap[i];
            if (c->tnodes[ix].bucket != FC_IN_HEAP || c->tnodes[ix].prev != i ||
                t->entries[ix].key == NULL)
                return check_fail("wheel heap links");
            if (i > 0 && fc_before(c->tnodes, ix, c->wheel->heap[(i - 1) / 2]))
                return check_fail("wheel heap order");
            scheduled++;
        }
        for (Py_ssize_t i = 0; i < t->top; i++)
            if (t->entries[i].key != NULL && isfinite(c->tnodes[i].deadline))
                finite++;
        if (scheduled != finite) return check_fail("wheel misses an entry");
        if (live > 0 && finite > 0 && !c->wheel->started)
            return check_fail("entries scheduled on a wheel not started");
    }
    return 0;
}

PyObject *
fc_cache_check_method(CacheObject *c, PyObject *unused)
{
    if (fc_cache_check(c) < 0)
        return NULL;
    Py_RETURN_NONE;
}
