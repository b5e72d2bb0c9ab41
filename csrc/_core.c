/*
 * fastcache._core: the compiled cache classes.
 *
 * The pure-Python twin (fastcache/_py/) is the reference; docs/core-spec.md is the contract
 * both implement. How this file differs from the twin:
 *   1. Storage is one open-addressing table per cache (table.h) whose entries carry their own
 *      32-bit list links; the twin uses dicts and OrderedDicts.
 *   2. Expiry is reclaimed through a hierarchical timer wheel (wheel.h); the twin uses a heap.
 *      Both return expired pairs in (deadline, scheduling order).
 *   3. RRCache with the default choice picks a victim with its own PRNG instead of
 *      random.choice(list(keys)).
 *   4. When the timer is time.monotonic or time.time, the clock is read directly (the same
 *      clock and the same double the time module would return).
 *
 * Reentrancy rules followed throughout:
 *   - a key is hashed once per operation;
 *   - Python code (hash, __eq__, getsizeof, timer, ttu, choice, an overridden popitem or
 *     __missing__) runs only before the structure is touched, never in the middle of an update;
 *     a lookup restarts if the table changed while a key's __eq__ ran;
 *   - removed keys and values are parked in a pending list and released (and reported to the
 *     listener) only once the structure is consistent again;
 *   - no internal lock is held while user code runs (the GIL is the lock).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <time.h>

#include "clock.h"
#include "table.h"
#include "wheel.h"

#ifdef FC_DEBUG
#define FC_ASSERT_CONSISTENT(c) assert(cache_check_internal(c) == 0)
#else
#define FC_ASSERT_CONSISTENT(c) ((void)0)
#endif

enum { P_CACHE, P_FIFO, P_LRU, P_LFU, P_RR, P_TTL, P_TLRU };

#define F_PY_EVICT   0x01  /* evict through self.popitem() (overridden, or RR with a custom choice) */
#define F_MISSING    0x02  /* __missing__ overridden */
#define F_SIZEOF     0x04  /* getsizeof overridden in a subclass */

#define TK_PYTHON    0
#define TK_MONOTONIC 1
#define TK_REALTIME  2

typedef struct {
    uint64_t freq;
    fc_idx head, tail;  /* entries of this frequency, head = least recently used */
    fc_idx prev, next;  /* buckets by ascending frequency; free list through next */
} fc_bucket;

typedef struct {
    PyObject_HEAD
    fc_table t;
    int policy;
    unsigned flags;
    fc_idx head, tail;        /* eviction order (not LFU): head goes first */
    fc_idx pinned;            /* the entry being replaced while popitem() makes room */
    Py_ssize_t maxsize;
    int unbounded;
    Py_ssize_t currsize;
    Py_ssize_t *sizes;        /* per entry, only when a getsizeof is in use */
    PyObject *getsizeof;      /* constructor argument, or NULL */
    PyObject *on_evict;
    PyObject *timer;
    PyObject *ttu;
    PyObject *choice;
    PyObject *ttl_obj;
    double ttl;
    int timer_kind;
    /* LFU */
    fc_idx *ebucket;
    fc_bucket *buckets;
    Py_ssize_t bcap, btop;
    fc_idx bfree, bhead, blast;  /* blast: bucket of the last lfu_insert, a search hint */
    /* TTL, TLRU */
    fc_tnode *tnodes;
    fc_wheel *wheel;
    uint64_t seq;
    /* counters */
    int stats;
    unsigned long long hits, misses, evictions, expirations;
    uint64_t rng;
} CacheObject;

/* ------------------------------------------------------------------ module state */

static PyTypeObject CacheType, LRUCacheType, LFUCacheType, FIFOCacheType, RRCacheType,
    TTLCacheType, TLRUCacheType, KeyIterType;
static PyObject *str_evicted, *str_expired, *str_replaced, *str_deleted;
static PyObject *str_missing, *str_popitem, *str_getsizeof;
static PyObject *time_monotonic, *time_time, *random_choice, *CacheStatsType;
static PyObject *base_popitem, *base_missing, *base_getsizeof;

#define IS_TIMED(c) ((c)->policy == P_TTL || (c)->policy == P_TLRU)

static int cache_check_internal(CacheObject *c);

static const char *
type_name(PyTypeObject *tp)
{
    const char *dot = strrchr(tp->tp_name, '.');
    return dot ? dot + 1 : tp->tp_name;
}

static int
check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi)
{
    if (nargs < lo || nargs > hi) {
        if (lo == hi)
            PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd argument%s (%zd given)",
                         name, lo, lo == 1 ? "" : "s", nargs);
        else
            PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd arguments (%zd given)",
                         name, lo, hi, nargs);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ pending removals */

typedef struct {
    PyObject *key, *value;
    PyObject *cause;   /* borrowed interned str, or NULL: do not report */
    double deadline;
    uint64_t seq;
} fc_removed;

typedef struct {
    fc_removed *items;
    Py_ssize_t n, cap;
    fc_removed inline_items[8];
} fc_pending;

static void
pending_init(fc_pending *p)
{
    p->items = p->inline_items;
    p->n = 0;
    p->cap = 8;
}

/* Takes over the references to key and value. */
static void
pending_push(fc_pending *p, PyObject *key, PyObject *value, PyObject *cause,
             double deadline, uint64_t seq)
{
    if (p->n == p->cap) {
        Py_ssize_t cap = p->cap * 2;
        fc_removed *items = PyMem_Malloc((size_t)cap * sizeof(fc_removed));
        if (items == NULL) {
            /* Out of memory in the middle of an update: releasing now is the lesser evil. */
            Py_DECREF(key);
            Py_XDECREF(value);
            return;
        }
        memcpy(items, p->items, (size_t)p->n * sizeof(fc_removed));
        if (p->items != p->inline_items)
            PyMem_Free(p->items);
        p->items = items;
        p->cap = cap;
    }
    fc_removed *r = &p->items[p->n++];
    r->key = key;
    r->value = value;
    r->cause = cause;
    r->deadline = deadline;
    r->seq = seq;
}

/* Report to the listener and release. The structure is consistent by now. Returns -1 with
 * the first listener exception set (the others are reported as unraisable). */
static int
pending_finish(CacheObject *c, fc_pending *p)
{
    int status = 0;
    PyObject *listener = c->on_evict;
    if (listener != NULL && p->n > 0) {
        Py_INCREF(listener);
        for (Py_ssize_t i = 0; i < p->n; i++) {
            fc_removed *r = &p->items[i];
            if (r->cause == NULL)
                continue;
            PyObject *args[3] = {r->key, r->value, r->cause};
            PyObject *res = PyObject_Vectorcall(listener, args, 3, NULL);
            if (res == NULL) {
                if (status == 0)
                    status = -1;
                else
                    PyErr_WriteUnraisable(listener);
            }
            else {
                Py_DECREF(res);
            }
        }
        Py_DECREF(listener);
    }
    PyObject *exc_type = NULL, *exc_value = NULL, *exc_tb = NULL;
    if (status < 0)
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    Py_ssize_t n = p->n;
    fc_removed *items = p->items;
    p->n = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(items[i].key);
        Py_XDECREF(items[i].value);
    }
    if (items != p->inline_items)
        PyMem_Free(items);
    p->items = p->inline_items;
    p->cap = 8;
    if (status < 0)
        PyErr_Restore(exc_type, exc_value, exc_tb);
    return status;
}

/* ------------------------------------------------------------------ clock */

static int
read_time(CacheObject *c, double *out)
{
    if (c->timer_kind != TK_PYTHON) {
        *out = fc_clock_read(c->timer_kind == TK_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME);
        return 0;
    }
    PyObject *r = PyObject_CallNoArgs(c->timer);
    if (r == NULL)
        return -1;
    if (!PyFloat_Check(r) && !PyLong_Check(r)) {
        PyErr_Format(PyExc_TypeError, "timer must return a real number, not %.200s",
                     Py_TYPE(r)->tp_name);
        Py_DECREF(r);
        return -1;
    }
    double t = PyFloat_AsDouble(r);
    Py_DECREF(r);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (isnan(t)) {
        PyErr_SetString(PyExc_ValueError, "timer returned NaN");
        return -1;
    }
    *out = t;
    return 0;
}

/* Whether entry ix is live. With time.monotonic as the timer the coarse clock settles entries
 * far from their deadline (clock.h); only a Python timer (which may run code) must be read
 * before the lookup, and then `now` holds that reading. */
static inline int
entry_live(CacheObject *c, fc_idx ix, double now)
{
    double d = c->tnodes[ix].deadline;
    if (c->timer_kind == TK_PYTHON)
        return now < d;
    if (c->timer_kind == TK_MONOTONIC)
        return fc_monotonic_before(d);
    return fc_clock_read(CLOCK_REALTIME) < d;
}

/* A real number (not bool) > 0, inf allowed. */
static int
parse_ttl(PyObject *obj, double *out, const char *what)
{
    if (PyBool_Check(obj) || (!PyFloat_Check(obj) && !PyLong_Check(obj))) {
        PyErr_Format(PyExc_TypeError, "%s must be a real number, not %.200s", what,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();  /* an int beyond the double range */
        v = Py_SIZE(obj) < 0 ? -INFINITY : INFINITY;
    }
    if (!(v > 0)) {
        PyErr_Format(PyExc_ValueError, "%s must be positive", what);
        return -1;
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ storage growth */

static int
grow(CacheObject *c)
{
    fc_table *t = &c->t;
    Py_ssize_t cap = t->cap + (t->cap >> 1) + 8;
    if (!c->unbounded && c->sizes == NULL && cap > c->maxsize)
        cap = c->maxsize > t->cap ? c->maxsize : t->cap + 1;
    if (cap > FC_MAX_ENTRIES) {
        if (t->cap >= FC_MAX_ENTRIES) {
            PyErr_SetString(PyExc_OverflowError, "cache holds too many entries");
            return -1;
        }
        cap = FC_MAX_ENTRIES;
    }
    fc_entry *entries = PyMem_Realloc(t->entries, (size_t)cap * sizeof(fc_entry));
    if (entries == NULL)
        goto nomem;
    t->entries = entries;
    if (c->sizes != NULL) {
        Py_ssize_t *sizes = PyMem_Realloc(c->sizes, (size_t)cap * sizeof(Py_ssize_t));
        if (sizes == NULL)
            goto nomem;
        c->sizes = sizes;
    }
    if (c->policy == P_LFU) {
        fc_idx *eb = PyMem_Realloc(c->ebucket, (size_t)cap * sizeof(fc_idx));
        if (eb == NULL)
            goto nomem;
        c->ebucket = eb;
        fc_bucket *b = PyMem_Realloc(c->buckets, (size_t)(cap + 1) * sizeof(fc_bucket));
        if (b == NULL)
            goto nomem;
        c->buckets = b;
        c->bcap = cap + 1;
    }
    if (IS_TIMED(c)) {
        fc_tnode *tn = PyMem_Realloc(c->tnodes, (size_t)cap * sizeof(fc_tnode));
        if (tn == NULL)
            goto nomem;
        c->tnodes = tn;
        fc_idx *heap = PyMem_Realloc(c->wheel->heap, (size_t)cap * sizeof(fc_idx));
        if (heap == NULL)
            goto nomem;
        c->wheel->heap = heap;
    }
    if (fc_index_resize(t, cap) < 0)
        return -1;  /* the larger arrays are kept; cap (what the index can hold) is not raised */
    t->cap = cap;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

static fc_idx
entry_alloc(CacheObject *c)
{
    fc_table *t = &c->t;
    if (t->free_head != FC_NIL) {
        fc_idx ix = t->free_head;
        t->free_head = t->entries[ix].next;
        return ix;
    }
    if (t->top == t->cap && grow(c) < 0)
        return FC_ERROR;
    return (fc_idx)t->top++;
}

/* ------------------------------------------------------------------ order lists */

static inline void
list_unlink(CacheObject *c, fc_idx ix)
{
    fc_entry *e = c->t.entries;
    fc_idx p = e[ix].prev, n = e[ix].next;
    if (p != FC_NIL) e[p].next = n; else c->head = n;
    if (n != FC_NIL) e[n].prev = p; else c->tail = p;
}

static inline void
list_append(CacheObject *c, fc_idx ix)
{
    fc_entry *e = c->t.entries;
    e[ix].prev = c->tail;
    e[ix].next = FC_NIL;
    if (c->tail != FC_NIL) e[c->tail].next = ix; else c->head = ix;
    c->tail = ix;
}

static inline void
list_move_to_tail(CacheObject *c, fc_idx ix)
{
    if (c->tail != ix) {
        list_unlink(c, ix);
        list_append(c, ix);
    }
}

/* LFU: frequency buckets (Shah, Mitra and Matani, "An O(1) algorithm for implementing the LFU
 * cache eviction scheme", 2010). Entries of one frequency form a list in the order they
 * reached it, so ties go to the least recently used. */

static fc_idx
bucket_new(CacheObject *c, uint64_t freq, fc_idx after)
{
    fc_idx b;
    if (c->bfree != FC_NIL) {
        b = c->bfree;
        c->bfree = c->buckets[b].next;
    }
    else {
        b = (fc_idx)c->btop++;  /* never exceeds bcap: live buckets <= live entries + 1 */
    }
    fc_bucket *bk = &c->buckets[b];
    bk->freq = freq;
    bk->head = bk->tail = FC_NIL;
    bk->prev = after;
    bk->next = (after == FC_NIL) ? c->bhead : c->buckets[after].next;
    if (bk->next != FC_NIL) c->buckets[bk->next].prev = b;
    if (after == FC_NIL) c->bhead = b; else c->buckets[after].next = b;
    return b;
}

static void
bucket_free(CacheObject *c, fc_idx b)
{
    fc_bucket *bk = &c->buckets[b];
    if (bk->prev != FC_NIL) c->buckets[bk->prev].next = bk->next; else c->bhead = bk->next;
    if (bk->next != FC_NIL) c->buckets[bk->next].prev = bk->prev;
    bk->next = c->bfree;
    c->bfree = b;
}

static void
bucket_append(CacheObject *c, fc_idx b, fc_idx ix)
{
    fc_entry *e = c->t.entries;
    fc_bucket *bk = &c->buckets[b];
    e[ix].prev = bk->tail;
    e[ix].next = FC_NIL;
    if (bk->tail != FC_NIL) e[bk->tail].next = ix; else bk->head = ix;
    bk->tail = ix;
    c->ebucket[ix] = b;
}

/* Unlinks ix from its bucket; frees the bucket if it empties (unless keep). */
static void
bucket_remove(CacheObject *c, fc_idx ix, int keep)
{
    fc_entry *e = c->t.entries;
    fc_idx b = c->ebucket[ix];
    fc_bucket *bk = &c->buckets[b];
    fc_idx p = e[ix].prev, n = e[ix].next;
    if (p != FC_NIL) e[p].next = n; else bk->head = n;
    if (n != FC_NIL) e[n].prev = p; else bk->tail = p;
    if (bk->head == FC_NIL && !keep)
        bucket_free(c, b);
}

static void
lfu_increment(CacheObject *c, fc_idx ix)
{
    fc_idx b = c->ebucket[ix];
    fc_bucket *bk = &c->buckets[b];
    uint64_t f = bk->freq + 1;
    fc_idx nb = bk->next;
    if (bk->head == ix && bk->tail == ix && (nb == FC_NIL || c->buckets[nb].freq != f)) {
        bk->freq = f;  /* alone in its bucket: the bucket moves up with it */
        return;
    }
    if (nb == FC_NIL || c->buckets[nb].freq != f)
        nb = bucket_new(c, f, b);
    bucket_remove(c, ix, 0);
    bucket_append(c, nb, ix);
}

static void
lfu_insert(CacheObject *c, fc_idx ix, uint64_t freq)
{
    /* new entries (freq 1) join the lowest bucket; a restore gives ascending frequencies,
     * so it starts from the bucket it used last */
    fc_idx b = c->bhead, prev = FC_NIL;
    fc_idx h = c->blast;
    if (h != FC_NIL && h < c->btop && c->buckets[h].head != FC_NIL && c->buckets[h].freq <= freq) {
        b = h;
        prev = c->buckets[h].prev;
    }
    while (b != FC_NIL && c->buckets[b].freq < freq) {
        prev = b;
        b = c->buckets[b].next;
    }
    if (b == FC_NIL || c->buckets[b].freq != freq)
        b = bucket_new(c, freq, prev);
    bucket_append(c, b, ix);
    c->blast = b;
}

/* ------------------------------------------------------------------ entries */

static inline Py_ssize_t
entry_size(CacheObject *c, fc_idx ix)
{
    return c->sizes ? c->sizes[ix] : 1;
}

/* Link a new entry (its key/value/hash already set) into the policy's structures. */
static void
entry_link(CacheObject *c, fc_idx ix, Py_ssize_t size, uint64_t freq, double deadline)
{
    fc_index_put(&c->t, ix);
    c->t.len++;
    c->t.version++;
    if (c->sizes) c->sizes[ix] = size;
    c->currsize += size;
    if (c->policy == P_LFU) {
        lfu_insert(c, ix, freq);
    }
    else {
        list_append(c, ix);
    }
    if (IS_TIMED(c)) {
        fc_tnode *n = &c->tnodes[ix];
        n->deadline = deadline;
        n->seq = c->seq++;
        n->bucket = FC_UNSCHEDULED;
        fc_wheel_schedule(c->wheel, c->tnodes, ix);
    }
}

/* Remove entry ix; its key and value go to the pending list (reported with `cause`). */
static void
entry_remove(CacheObject *c, fc_idx ix, fc_pending *p, PyObject *cause)
{
    fc_table *t = &c->t;
    fc_entry *e = &t->entries[ix];
    double deadline = 0;
    uint64_t seq = 0;
    if (c->policy == P_LFU)
        bucket_remove(c, ix, 0);
    else
        list_unlink(c, ix);
    if (IS_TIMED(c)) {
        fc_wheel_unlink(c->wheel, c->tnodes, ix);
        deadline = c->tnodes[ix].deadline;
        seq = c->tnodes[ix].seq;
    }
    fc_index_remove(t, ix);
    c->currsize -= entry_size(c, ix);
    PyObject *key = e->key, *value = e->value;
    e->key = e->value = NULL;
    e->next = t->free_head;
    t->free_head = ix;
    t->len--;
    t->version++;
    pending_push(p, key, value, cause, deadline, seq);
}

static inline uint64_t
rng_next(CacheObject *c)
{
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The entry the policy evicts next, other than `skip`; FC_NIL if none. */
static fc_idx
victim(CacheObject *c, fc_idx skip)
{
    if (c->t.len == 0 || (c->t.len == 1 && skip != FC_NIL))
        return FC_NIL;
    if (c->policy == P_LFU) {
        for (fc_idx b = c->bhead; b != FC_NIL; b = c->buckets[b].next)
            for (fc_idx ix = c->buckets[b].head; ix != FC_NIL; ix = c->t.entries[ix].next)
                if (ix != skip)
                    return ix;
        return FC_NIL;
    }
    if (c->policy == P_RR) {
        fc_table *t = &c->t;
        if (t->len * 4 >= t->top) {
            for (;;) {
                fc_idx ix = (fc_idx)(rng_next(c) % (uint64_t)t->top);
                if (t->entries[ix].key != NULL && ix != skip)
                    return ix;
            }
        }
        /* sparse after many deletions: walk to a random position instead */
        uint64_t k = rng_next(c) % (uint64_t)t->len;
        for (fc_idx ix = c->head; ix != FC_NIL; ix = t->entries[ix].next)
            if (ix != skip && k-- == 0)
                return ix;
        return c->head != skip ? c->head : t->entries[c->head].next;
    }
    return c->head != skip ? c->head : c->t.entries[c->head].next;
}

/* Policy bookkeeping for an access (a hit). */
static inline void
touch(CacheObject *c, fc_idx ix)
{
    switch (c->policy) {
    case P_LRU:
    case P_TTL:
    case P_TLRU:
        list_move_to_tail(c, ix);
        break;
    case P_LFU:
        lfu_increment(c, ix);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ expiry */

typedef struct {
    CacheObject *c;
    fc_pending *p;
} expire_ctx;

static void
expire_one(void *ctx, fc_idx ix)
{
    expire_ctx *x = ctx;
    x->c->tnodes[ix].bucket = FC_UNSCHEDULED;
    entry_remove(x->c, ix, x->p, str_expired);
    if (x->c->stats)
        x->c->expirations++;
}

static int
cmp_removed(const void *a, const void *b)
{
    const fc_removed *x = a, *y = b;
    if (x->deadline < y->deadline) return -1;
    if (x->deadline > y->deadline) return 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Reclaim every entry due by `now`; they join `p` in (deadline, scheduling) order. */
static void
expire_until(CacheObject *c, double now, fc_pending *p)
{
    if (c->t.len == 0)
        return;
    Py_ssize_t first = p->n;
    expire_ctx x = {c, p};
    fc_wheel_advance(c->wheel, c->tnodes, now, expire_one, &x);
    if (p->n - first > 1)
        qsort(p->items + first, (size_t)(p->n - first), sizeof(fc_removed), cmp_removed);
}

static inline int
is_live(CacheObject *c, fc_idx ix, double now)
{
    return now < c->tnodes[ix].deadline;
}

/* ------------------------------------------------------------------ sizes */

static Py_ssize_t
value_size(CacheObject *c, PyObject *value)
{
    PyObject *r;
    if (c->flags & F_SIZEOF)
        r = PyObject_CallMethodOneArg((PyObject *)c, str_getsizeof, value);
    else
        r = PyObject_CallOneArg(c->getsizeof, value);
    if (r == NULL)
        return -1;
    if (!PyLong_Check(r)) {
        PyErr_Format(PyExc_TypeError, "getsizeof must return an int, not %.200s",
                     Py_TYPE(r)->tp_name);
        Py_DECREF(r);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(r, &overflow);
    Py_DECREF(r);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (overflow == 0 && v < 0)) {
        PyErr_SetString(PyExc_ValueError, "value size must be non-negative");
        return -1;
    }
    if (overflow > 0 || v > PY_SSIZE_T_MAX / 2 || (!c->unbounded && v > c->maxsize)) {
        PyErr_SetString(PyExc_ValueError, "value too large");
        return -1;
    }
    return (Py_ssize_t)v;
}

/* ------------------------------------------------------------------ errors */

static void
set_key_error(PyObject *key)
{
    PyObject *tup = PyTuple_Pack(1, key);
    if (tup != NULL) {
        PyErr_SetObject(PyExc_KeyError, tup);
        Py_DECREF(tup);
    }
}

static PyObject *
call_missing(CacheObject *c, PyObject *key)
{
    if (c->flags & F_MISSING)
        return PyObject_CallMethodOneArg((PyObject *)c, str_missing, key);
    set_key_error(key);
    return NULL;
}

/* ------------------------------------------------------------------ the write path */

static PyObject *popitem_impl(CacheObject *c, int report);

/* c[key] = value (key's hash given), with an optional per-item ttl (TTLCache). 0 ok, -1 error. */
static int
cache_set_hashed(CacheObject *c, PyObject *key, Py_hash_t hash, PyObject *value,
                 PyObject *ttl_arg)
{
    Py_ssize_t size = 1;
    if (c->sizes != NULL) {
        size = value_size(c, value);
        if (size < 0)
            return -1;
    }
    else if (!c->unbounded && c->maxsize < 1) {
        PyErr_SetString(PyExc_ValueError, "value too large");
        return -1;
    }
    double now = 0, deadline = INFINITY;
    fc_pending p;
    pending_init(&p);
    if (IS_TIMED(c)) {
        if (read_time(c, &now) < 0)
            return -1;
        if (c->policy == P_TTL) {
            double ttl = c->ttl;
            if (ttl_arg != NULL && ttl_arg != Py_None && parse_ttl(ttl_arg, &ttl, "ttl") < 0)
                return -1;
            deadline = now + ttl;
        }
        else {
            PyObject *now_obj = PyFloat_FromDouble(now);
            if (now_obj == NULL)
                return -1;
            PyObject *args[3] = {key, value, now_obj};
            PyObject *r = PyObject_Vectorcall(c->ttu, args, 3, NULL);
            Py_DECREF(now_obj);
            if (r == NULL)
                return -1;
            if (PyBool_Check(r) || (!PyFloat_Check(r) && !PyLong_Check(r))) {
                PyErr_Format(PyExc_TypeError, "ttu must return a real number, not %.200s",
                             Py_TYPE(r)->tp_name);
                Py_DECREF(r);
                return -1;
            }
            deadline = PyFloat_AsDouble(r);
            Py_DECREF(r);
            if (deadline == -1.0 && PyErr_Occurred())
                return -1;
            if (isnan(deadline)) {
                PyErr_SetString(PyExc_ValueError, "ttu returned NaN");
                return -1;
            }
        }
        fc_wheel_start(c->wheel, now, deadline - now);
        expire_until(c, now, &p);
        if (!(now < deadline)) {
            /* already expired: drop any existing entry and store nothing */
            fc_idx ix = fc_lookup(&c->t, key, hash);
            if (ix == FC_ERROR) {
                pending_finish(c, &p);
                return -1;
            }
            if (ix >= 0)
                entry_remove(c, ix, &p, str_replaced);
            FC_ASSERT_CONSISTENT(c);
            return pending_finish(c, &p);
        }
    }
    if (c->flags & F_PY_EVICT) {
        /* cachetools' protocol: self.popitem() until the value fits */
        for (;;) {
            fc_idx ix = fc_lookup(&c->t, key, hash);
            if (ix == FC_ERROR)
                goto error;
            Py_ssize_t need = ix >= 0 ? size - entry_size(c, ix) : size;
            if (c->unbounded || c->currsize + need <= c->maxsize || c->t.len == 0)
                break;
            Py_ssize_t before = c->currsize, before_len = c->t.len;
            c->pinned = ix >= 0 ? ix : FC_NIL;  /* never evict the key being written */
            PyObject *pair = PyObject_CallMethodNoArgs((PyObject *)c, str_popitem);
            c->pinned = FC_NIL;
            if (pair == NULL)
                goto error;
            if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2) {
                PyObject *k = PyTuple_GET_ITEM(pair, 0), *v = PyTuple_GET_ITEM(pair, 1);
                Py_INCREF(k);
                Py_INCREF(v);
                pending_push(&p, k, v, str_evicted, 0, 0);
                if (c->stats)
                    c->evictions++;
            }
            Py_DECREF(pair);
            if (c->currsize >= before && c->t.len >= before_len) {
                PyErr_Format(PyExc_RuntimeError,
                             "%.200s.popitem() did not remove anything from the cache",
                             type_name(Py_TYPE(c)));
                goto error;
            }
        }
    }
    fc_idx ix = fc_lookup(&c->t, key, hash);
    if (ix == FC_ERROR)
        goto error;
    /* From here on no Python code runs until pending_finish. */
    if (ix >= 0) {
        /* evictions come first (as cachetools' popitem() loop), never of the key written */
        while (!c->unbounded && c->currsize + size - entry_size(c, ix) > c->maxsize) {
            fc_idx v = victim(c, ix);
            if (v == FC_NIL)
                break;
            entry_remove(c, v, &p, str_evicted);
            if (c->stats)
                c->evictions++;
        }
        fc_entry *e = &c->t.entries[ix];
        PyObject *old = e->value;
        Py_INCREF(value);
        e->value = value;
        Py_INCREF(e->key);
        pending_push(&p, e->key, old, str_replaced, 0, 0);
        if (c->sizes) {
            c->currsize += size - c->sizes[ix];
            c->sizes[ix] = size;
        }
        switch (c->policy) {
        case P_LRU:
        case P_FIFO:
            list_move_to_tail(c, ix);
            break;
        case P_LFU:
            lfu_increment(c, ix);
            break;
        case P_TTL:
        case P_TLRU:
            list_move_to_tail(c, ix);
            fc_wheel_unlink(c->wheel, c->tnodes, ix);
            c->tnodes[ix].deadline = deadline;
            c->tnodes[ix].seq = c->seq++;
            fc_wheel_schedule(c->wheel, c->tnodes, ix);
            break;
        default:
            break;
        }
    }
    else {
        while (!c->unbounded && c->currsize + size > c->maxsize) {
            fc_idx v = victim(c, FC_NIL);
            if (v == FC_NIL)
                break;
            entry_remove(c, v, &p, str_evicted);
            if (c->stats)
                c->evictions++;
        }
        fc_idx nix = entry_alloc(c);
        if (nix == FC_ERROR)
            goto error;
        fc_entry *e = &c->t.entries[nix];
        Py_INCREF(key);
        Py_INCREF(value);
        e->hash = hash;
        e->key = key;
        e->value = value;
        entry_link(c, nix, size, 1, deadline);
    }
    FC_ASSERT_CONSISTENT(c);
    return pending_finish(c, &p);
error:
    FC_ASSERT_CONSISTENT(c);
    {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (pending_finish(c, &p) < 0)
            PyErr_WriteUnraisable((PyObject *)c);
        PyErr_Restore(et, ev, tb);
    }
    return -1;
}

static int
cache_set(CacheObject *c, PyObject *key, PyObject *value, PyObject *ttl_arg)
{
    Py_hash_t hash = PyObject_Hash(key);
    return hash == -1 ? -1 : cache_set_hashed(c, key, hash, value, ttl_arg);
}

/* Remove key: 1 removed (live), 0 absent, -1 error. An expired entry counts as absent; `del`
 * removes it all the same (as cachetools), `pop` leaves it to expiry. `out`, if given, receives
 * the value of a live entry (new reference). */
static int
cache_remove(CacheObject *c, PyObject *key, PyObject **out, int remove_expired)
{
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1)
        return -1;
    double now = 0;
    if (IS_TIMED(c) && read_time(c, &now) < 0)
        return -1;
    fc_idx ix = fc_lookup(&c->t, key, hash);
    if (ix == FC_ERROR)
        return -1;
    if (ix == FC_NOT_FOUND)
        return 0;
    int live = !IS_TIMED(c) || is_live(c, ix, now);
    if (!live && !remove_expired)
        return 0;
    fc_pending p;
    pending_init(&p);
    if (out != NULL && live) {
        *out = c->t.entries[ix].value;
        Py_INCREF(*out);
    }
    entry_remove(c, ix, &p, live ? str_deleted : str_expired);
    if (!live && c->stats)
        c->expirations++;
    FC_ASSERT_CONSISTENT(c);
    if (pending_finish(c, &p) < 0) {
        if (out != NULL && live)
            Py_CLEAR(*out);
        return -1;
    }
    return live;
}

/* ------------------------------------------------------------------ mapping protocol */

/* Find the live entry of `key`: its index, FC_NOT_FOUND, or FC_ERROR (exception set). The
 * key's hash goes to *hash (for a write that follows: a key is hashed once per operation);
 * an expired entry found on the way goes to *expired (else FC_NIL). */
static inline fc_idx
find_live_at(CacheObject *c, PyObject *key, Py_hash_t *hash, fc_idx *expired, double *now_out)
{
    *expired = FC_NIL;
    *hash = PyObject_Hash(key);
    if (*hash == -1)
        return FC_ERROR;
    double now = 0;
    if (IS_TIMED(c) && c->timer_kind == TK_PYTHON && read_time(c, &now) < 0)
        return FC_ERROR;
    *now_out = now;
    fc_idx ix = fc_lookup(&c->t, key, *hash);
    if (ix >= 0 && IS_TIMED(c) && !entry_live(c, ix, now)) {
        *expired = ix;
        return FC_NOT_FOUND;
    }
    return ix;
}

static inline fc_idx
find_live(CacheObject *c, PyObject *key, Py_hash_t *hash, fc_idx *expired)
{
    double now;
    return find_live_at(c, key, hash, expired, &now);
}

static PyObject *
cache_subscript(CacheObject *c, PyObject *key)
{
    Py_hash_t hash;
    fc_idx expired, ix = find_live(c, key, &hash, &expired);
    if (ix >= 0) {
        touch(c, ix);
        if (c->stats)
            c->hits++;
        return Py_NewRef(c->t.entries[ix].value);
    }
    if (ix == FC_ERROR)
        return NULL;
    if (expired != FC_NIL)
        list_move_to_tail(c, expired);  /* an expired entry still counts as accessed */
    if (c->stats)
        c->misses++;
    return call_missing(c, key);
}

static int
cache_ass_subscript(CacheObject *c, PyObject *key, PyObject *value)
{
    if (value != NULL)
        return cache_set(c, key, value, NULL);
    int r = cache_remove(c, key, NULL, 1);
    if (r == 0)
        set_key_error(key);
    return r > 0 ? 0 : -1;
}

/* Membership without an access: 1, 0 or -1. */
static int
cache_contains(CacheObject *c, PyObject *key)
{
    Py_hash_t hash;
    fc_idx expired, ix = find_live(c, key, &hash, &expired);
    return ix == FC_ERROR ? -1 : ix >= 0;
}

/* expire(now) and report; 0 or -1. */
static int
expire_now(CacheObject *c)
{
    if (!IS_TIMED(c) || c->t.len == 0)
        return 0;
    double now;
    if (read_time(c, &now) < 0)
        return -1;
    fc_pending p;
    pending_init(&p);
    expire_until(c, now, &p);
    FC_ASSERT_CONSISTENT(c);
    return pending_finish(c, &p);
}

static Py_ssize_t
cache_length(CacheObject *c)
{
    if (expire_now(c) < 0)
        return -1;
    return c->t.len;
}

/* ------------------------------------------------------------------ snapshots */

/* Visit live entries in eviction order: LFU by ascending frequency, others along the list. */
#define FOR_EACH_IN_ORDER(c, ix)                                                          \
    for (fc_idx b_ = (c)->policy == P_LFU ? (c)->bhead : FC_NIL, once_ = 1;               \
         (c)->policy == P_LFU ? b_ != FC_NIL : once_; once_ = 0,                          \
         b_ = (c)->policy == P_LFU ? (c)->buckets[b_].next : FC_NIL)                      \
        for (fc_idx ix = (c)->policy == P_LFU ? (c)->buckets[b_].head : (c)->head;        \
             ix != FC_NIL; ix = (c)->t.entries[ix].next)

/* The keys (or (key, value) pairs) in eviction order, skipping expired entries. */
static PyObject *
snapshot(CacheObject *c, int pairs, fc_idx skip)
{
    double now = 0;
    if (IS_TIMED(c) && read_time(c, &now) < 0)
        return NULL;
    PyObject *keys, *values = NULL;
    Py_ssize_t len, n = 0;
    for (;;) {
        len = c->t.len - (skip != FC_NIL);
        keys = PyList_New(len);
        if (keys != NULL && pairs)
            values = PyList_New(len);
        if (keys == NULL || (pairs && values == NULL)) {
            Py_XDECREF(keys);
            return NULL;
        }
        if (c->t.len - (skip != FC_NIL) == len)
            break;
        /* allocating ran a collection whose __del__ changed the cache: start again */
        Py_DECREF(keys);
        Py_XDECREF(values);
    }
    /* no Python code runs while walking */
    FOR_EACH_IN_ORDER(c, ix) {
        if (ix == skip || (IS_TIMED(c) && !is_live(c, ix, now)))
            continue;
        PyList_SET_ITEM(keys, n, Py_NewRef(c->t.entries[ix].key));
        if (pairs)
            PyList_SET_ITEM(values, n, Py_NewRef(c->t.entries[ix].value));
        n++;
    }
    Py_SET_SIZE(keys, n);  /* the slots past n were never filled (expired entries) */
    if (!pairs)
        return keys;
    Py_SET_SIZE(values, n);
    PyObject *result = PyList_New(n);
    for (Py_ssize_t i = 0; result != NULL && i < n; i++) {
        PyObject *pair = PyTuple_Pack(2, PyList_GET_ITEM(keys, i), PyList_GET_ITEM(values, i));
        if (pair == NULL)
            Py_CLEAR(result);
        else
            PyList_SET_ITEM(result, i, pair);
    }
    Py_DECREF(keys);
    Py_DECREF(values);
    return result;
}

/* ------------------------------------------------------------------ key iterator */

typedef struct {
    PyObject_HEAD
    PyObject *cache;
    PyObject *keys;
    Py_ssize_t pos;
} KeyIterObject;

static PyObject *
cache_iter(CacheObject *c)
{
    PyObject *keys = snapshot(c, 0, FC_NIL);
    if (keys == NULL)
        return NULL;
    KeyIterObject *it = PyObject_GC_New(KeyIterObject, &KeyIterType);
    if (it == NULL) {
        Py_DECREF(keys);
        return NULL;
    }
    Py_INCREF(c);
    it->cache = (PyObject *)c;
    it->keys = keys;
    it->pos = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static PyObject *
keyiter_next(KeyIterObject *it)
{
    while (it->keys != NULL && it->pos < PyList_GET_SIZE(it->keys)) {
        PyObject *k = PyList_GET_ITEM(it->keys, it->pos++);
        Py_INCREF(k);
        int r = cache_contains((CacheObject *)it->cache, k);
        if (r > 0)
            return k;
        Py_DECREF(k);
        if (r < 0)
            return NULL;
    }
    Py_CLEAR(it->keys);
    return NULL;
}

static int
keyiter_traverse(KeyIterObject *it, visitproc visit, void *arg)
{
    Py_VISIT(it->cache);
    Py_VISIT(it->keys);
    return 0;
}

static int
keyiter_clear(KeyIterObject *it)
{
    Py_CLEAR(it->cache);
    Py_CLEAR(it->keys);
    return 0;
}

static void
keyiter_dealloc(KeyIterObject *it)
{
    PyObject_GC_UnTrack(it);
    keyiter_clear(it);
    PyObject_GC_Del(it);
}

static PyObject *
keyiter_length_hint(KeyIterObject *it, PyObject *unused)
{
    Py_ssize_t n = it->keys ? PyList_GET_SIZE(it->keys) - it->pos : 0;
    return PyLong_FromSsize_t(n);
}

static PyMethodDef keyiter_methods[] = {
    {"__length_hint__", (PyCFunction)keyiter_length_hint, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KeyIterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fastcache._core.key_iterator",
    .tp_basicsize = sizeof(KeyIterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)keyiter_dealloc,
    .tp_traverse = (traverseproc)keyiter_traverse,
    .tp_clear = (inquiry)keyiter_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)keyiter_next,
    .tp_methods = keyiter_methods,
};

/* ------------------------------------------------------------------ clearing */

/* Empty the cache; releases every key and value after the structure is reset. */
static void
clear_all(CacheObject *c)
{
    fc_table *t = &c->t;
    fc_entry *entries = t->entries;
    Py_ssize_t top = t->top;
    fc_idx *index = t->index;
    t->entries = NULL;
    t->index = NULL;
    t->cap = t->top = t->len = 0;
    t->free_head = FC_NIL;
    t->mask = 0;
    t->shift = 63;
    t->version++;
    c->head = c->tail = FC_NIL;
    c->currsize = 0;
    PyMem_Free(c->sizes);
    c->sizes = NULL;
    PyMem_Free(c->ebucket);
    c->ebucket = NULL;
    PyMem_Free(c->buckets);
    c->buckets = NULL;
    c->bcap = c->btop = 0;
    c->bfree = c->bhead = c->blast = FC_NIL;
    PyMem_Free(c->tnodes);
    c->tnodes = NULL;
    if (c->wheel != NULL) {
        double tick = c->wheel->tick;
        PyMem_Free(c->wheel->heap);  /* sized with the entry arrays, freed with them */
        c->wheel->heap = NULL;
        fc_wheel_init(c->wheel, tick);
    }
    if (c->getsizeof != NULL || (c->flags & F_SIZEOF)) {
        c->sizes = PyMem_Malloc(sizeof(Py_ssize_t));  /* non-NULL marks sizes in use */
    }
    PyMem_Free(index);
    for (Py_ssize_t i = 0; i < top; i++) {
        if (entries[i].key != NULL) {
            Py_DECREF(entries[i].key);
            Py_DECREF(entries[i].value);
        }
    }
    PyMem_Free(entries);
}

/* ------------------------------------------------------------------ construction */

static PyObject *
cache_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    CacheObject *c = (CacheObject *)type->tp_alloc(type, 0);
    if (c == NULL)
        return NULL;
    c->t.free_head = FC_NIL;
    c->t.shift = 63;
    c->head = c->tail = c->pinned = FC_NIL;
    c->bfree = c->bhead = c->blast = FC_NIL;
    c->unbounded = 1;
    c->ttl = INFINITY;
    c->timer_kind = TK_MONOTONIC;
    if (PyType_IsSubtype(type, &TLRUCacheType)) c->policy = P_TLRU;
    else if (PyType_IsSubtype(type, &TTLCacheType)) c->policy = P_TTL;
    else if (PyType_IsSubtype(type, &LRUCacheType)) c->policy = P_LRU;
    else if (PyType_IsSubtype(type, &LFUCacheType)) c->policy = P_LFU;
    else if (PyType_IsSubtype(type, &FIFOCacheType)) c->policy = P_FIFO;
    else if (PyType_IsSubtype(type, &RRCacheType)) c->policy = P_RR;
    else c->policy = P_CACHE;
    if (IS_TIMED(c)) {
        c->wheel = PyMem_Malloc(sizeof(fc_wheel));
        if (c->wheel == NULL) {
            Py_DECREF(c);
            return PyErr_NoMemory();
        }
        c->wheel->heap = NULL;
        fc_wheel_init(c->wheel, 0);
        Py_INCREF(time_monotonic);
        c->timer = time_monotonic;
    }
    c->rng = (uint64_t)(uintptr_t)c ^ ((uint64_t)time(NULL) << 32) ^ 0x2545F4914F6CDD1DULL;
    /* subclass overrides, found once per instance */
    PyObject *m;
    if ((m = PyObject_GetAttr((PyObject *)type, str_popitem)) == NULL) goto fail;
    if (m != base_popitem) c->flags |= F_PY_EVICT;
    Py_DECREF(m);
    if ((m = PyObject_GetAttr((PyObject *)type, str_missing)) == NULL) goto fail;
    if (m != base_missing) c->flags |= F_MISSING;
    Py_DECREF(m);
    if ((m = PyObject_GetAttr((PyObject *)type, str_getsizeof)) == NULL) goto fail;
    if (m != base_getsizeof) c->flags |= F_SIZEOF;
    Py_DECREF(m);
    if (c->flags & F_SIZEOF) {
        c->sizes = PyMem_Malloc(sizeof(Py_ssize_t));
        if (c->sizes == NULL) {
            Py_DECREF(c);
            return PyErr_NoMemory();
        }
    }
    return (PyObject *)c;
fail:
    Py_DECREF(c);
    return NULL;
}

static int
set_maxsize(CacheObject *c, PyObject *maxsize)
{
    if (PyBool_Check(maxsize) || (!PyLong_Check(maxsize) && !PyFloat_Check(maxsize))) {
        PyErr_Format(PyExc_TypeError, "maxsize must be an int or math.inf, not %.200s",
                     Py_TYPE(maxsize)->tp_name);
        return -1;
    }
    if (PyFloat_Check(maxsize)) {
        double d = PyFloat_AS_DOUBLE(maxsize);
        if (isinf(d) && d > 0) {
            c->unbounded = 1;
            c->maxsize = PY_SSIZE_T_MAX;
            return 0;
        }
        if (!(d >= 0)) {
            PyErr_SetString(PyExc_ValueError, "maxsize must be non-negative");
            return -1;
        }
        PyErr_SetString(PyExc_TypeError, "maxsize must be an int or math.inf");
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(maxsize, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || v < 0) {
        PyErr_SetString(PyExc_ValueError, "maxsize must be non-negative");
        return -1;
    }
    c->unbounded = 0;
    c->maxsize = (overflow > 0 || v > PY_SSIZE_T_MAX / 2) ? PY_SSIZE_T_MAX / 2 : (Py_ssize_t)v;
    return 0;
}

static int
set_callable(PyObject **slot, PyObject *obj, const char *name, int allow_none)
{
    if (obj == Py_None && allow_none) {
        Py_CLEAR(*slot);
        return 0;
    }
    if (!PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be callable, not %.200s", name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_INCREF(obj);
    Py_XSETREF(*slot, obj);
    return 0;
}

static int
configure(CacheObject *c, PyObject *maxsize, PyObject *getsizeof, PyObject *on_evict,
          int stats)
{
    if (c->t.len > 0)
        clear_all(c);
    if (set_maxsize(c, maxsize) < 0)
        return -1;
    if (getsizeof != NULL && set_callable(&c->getsizeof, getsizeof, "getsizeof", 1) < 0)
        return -1;
    if (c->getsizeof != NULL) {
        /* as cachetools: the argument shadows the static method on the instance */
        if (PyObject_GenericSetAttr((PyObject *)c, str_getsizeof, c->getsizeof) < 0)
            PyErr_Clear();  /* no instance __dict__ (the bare compiled type) */
    }
    if (on_evict != NULL && set_callable(&c->on_evict, on_evict, "on_evict", 1) < 0)
        return -1;
    if ((c->getsizeof != NULL || (c->flags & F_SIZEOF)) && c->sizes == NULL) {
        c->sizes = PyMem_Malloc(sizeof(Py_ssize_t));
        if (c->sizes == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    c->stats = stats;
    return 0;
}

static int
set_timer(CacheObject *c, PyObject *timer)
{
    if (set_callable(&c->timer, timer, "timer", 0) < 0)
        return -1;
    c->timer_kind = timer == time_monotonic ? TK_MONOTONIC
                  : timer == time_time ? TK_REALTIME : TK_PYTHON;
    return 0;
}

static int
cache_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", "getsizeof", "on_evict", "stats", NULL};
    PyObject *maxsize, *getsizeof = Py_None, *on_evict = Py_None;
    int stats = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O$Op", kwlist, &maxsize, &getsizeof,
                                     &on_evict, &stats))
        return -1;
    return configure(c, maxsize, getsizeof, on_evict, stats);
}

static int
rr_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", "choice", "getsizeof", "on_evict", "stats", NULL};
    PyObject *maxsize, *choice = random_choice, *getsizeof = Py_None, *on_evict = Py_None;
    int stats = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OO$Op", kwlist, &maxsize, &choice,
                                     &getsizeof, &on_evict, &stats))
        return -1;
    if (set_callable(&c->choice, choice, "choice", 0) < 0)
        return -1;
    if (choice != random_choice)
        c->flags |= F_PY_EVICT;
    return configure(c, maxsize, getsizeof, on_evict, stats);
}

static int
ttl_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", "ttl", "timer", "getsizeof", "on_evict", "stats", NULL};
    PyObject *maxsize, *ttl, *timer = time_monotonic, *getsizeof = Py_None, *on_evict = Py_None;
    int stats = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OO$Op", kwlist, &maxsize, &ttl, &timer,
                                     &getsizeof, &on_evict, &stats))
        return -1;
    double v;
    if (parse_ttl(ttl, &v, "ttl") < 0 || set_timer(c, timer) < 0)
        return -1;
    c->ttl = v;
    Py_INCREF(ttl);
    Py_XSETREF(c->ttl_obj, ttl);
    if (configure(c, maxsize, getsizeof, on_evict, stats) < 0)
        return -1;
    fc_wheel_init(c->wheel, isfinite(v) ? v / 16.0 : 0);
    return 0;
}

static int
tlru_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", "ttu", "timer", "getsizeof", "on_evict", "stats", NULL};
    PyObject *maxsize, *ttu, *timer = time_monotonic, *getsizeof = Py_None, *on_evict = Py_None;
    int stats = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OO$Op", kwlist, &maxsize, &ttu, &timer,
                                     &getsizeof, &on_evict, &stats))
        return -1;
    if (set_callable(&c->ttu, ttu, "ttu", 0) < 0 || set_timer(c, timer) < 0)
        return -1;
    if (configure(c, maxsize, getsizeof, on_evict, stats) < 0)
        return -1;
    fc_wheel_init(c->wheel, 0);
    return 0;
}

/* ------------------------------------------------------------------ GC and deallocation */

static int
cache_traverse(CacheObject *c, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < c->t.top; i++) {
        Py_VISIT(c->t.entries[i].key);
        Py_VISIT(c->t.entries[i].value);
    }
    Py_VISIT(c->getsizeof);
    Py_VISIT(c->on_evict);
    Py_VISIT(c->timer);
    Py_VISIT(c->ttu);
    Py_VISIT(c->choice);
    Py_VISIT(c->ttl_obj);
    return 0;
}

static int
cache_gc_clear(CacheObject *c)
{
    clear_all(c);
    Py_CLEAR(c->getsizeof);
    Py_CLEAR(c->on_evict);
    Py_CLEAR(c->timer);
    Py_CLEAR(c->ttu);
    Py_CLEAR(c->choice);
    Py_CLEAR(c->ttl_obj);
    return 0;
}

static void
cache_dealloc(CacheObject *c)
{
    PyObject_GC_UnTrack(c);
    Py_TRASHCAN_BEGIN(c, cache_dealloc)
    cache_gc_clear(c);
    PyMem_Free(c->sizes);
    c->sizes = NULL;
    PyMem_Free(c->wheel);
    c->wheel = NULL;
    Py_TYPE(c)->tp_free((PyObject *)c);
    Py_TRASHCAN_END
}

/* ------------------------------------------------------------------ methods */

static PyObject *
m_get(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs("get", nargs, 1, 2))
        return NULL;
    Py_hash_t hash;
    fc_idx expired, ix = find_live(c, args[0], &hash, &expired);
    if (ix == FC_ERROR)
        return NULL;
    if (ix < 0) {
        if (expired != FC_NIL)
            list_move_to_tail(c, expired);  /* an expired entry still counts as accessed */
        if (c->stats)
            c->misses++;
        return Py_NewRef(nargs > 1 ? args[1] : Py_None);
    }
    touch(c, ix);
    if (c->stats)
        c->hits++;
    return Py_NewRef(c->t.entries[ix].value);
}

static PyObject *
m_peek(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs("peek", nargs, 1, 2))
        return NULL;
    Py_hash_t hash;
    fc_idx expired, ix = find_live(c, args[0], &hash, &expired);
    if (ix == FC_ERROR)
        return NULL;
    return Py_NewRef(ix >= 0 ? c->t.entries[ix].value : nargs > 1 ? args[1] : Py_None);
}

static PyObject *
m_pop(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs("pop", nargs, 1, 2))
        return NULL;
    PyObject *value = NULL;
    int r = cache_remove(c, args[0], &value, 0);
    if (r < 0)
        return NULL;
    if (r > 0)
        return value;
    if (nargs > 1) {
        Py_INCREF(args[1]);
        return args[1];
    }
    set_key_error(args[0]);
    return NULL;
}

static PyObject *
m_setdefault(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs("setdefault", nargs, 1, 2))
        return NULL;
    PyObject *key = args[0], *deflt = nargs > 1 ? args[1] : Py_None;
    Py_hash_t hash;
    fc_idx expired, ix = find_live(c, key, &hash, &expired);
    if (ix == FC_ERROR)
        return NULL;
    if (ix >= 0) {
        touch(c, ix);
        return Py_NewRef(c->t.entries[ix].value);
    }
    if (cache_set_hashed(c, key, hash, deflt, NULL) < 0)
        return NULL;
    return Py_NewRef(deflt);
}

static PyObject *
m_set(CacheObject *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *names[] = {"key", "value", "ttl"};
    PyObject *vals[3] = {NULL, NULL, NULL};
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "set() takes at most 3 arguments");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        vals[i] = args[i];
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int found = 0;
        for (int j = 0; j < 3; j++) {
            if (PyUnicode_CompareWithASCIIString(name, names[j]) == 0) {
                if (vals[j] != NULL) {
                    PyErr_Format(PyExc_TypeError, "set() got multiple values for '%s'", names[j]);
                    return NULL;
                }
                vals[j] = args[nargs + i];
                found = 1;
            }
        }
        if (!found) {
            PyErr_Format(PyExc_TypeError, "set() got an unexpected keyword argument '%U'", name);
            return NULL;
        }
    }
    if (vals[0] == NULL || vals[1] == NULL) {
        PyErr_SetString(PyExc_TypeError, "set() needs a key and a value");
        return NULL;
    }
    if (vals[2] != NULL && vals[2] != Py_None && c->policy != P_TTL) {
        PyErr_Format(PyExc_TypeError, "%.200s does not take a per-item ttl",
                     Py_TYPE(c)->tp_name);
        return NULL;
    }
    if (cache_set(c, vals[0], vals[1], vals[2]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
popitem_impl(CacheObject *c, int report)
{
    fc_pending p;
    pending_init(&p);
    if (IS_TIMED(c) && c->t.len > 0) {
        double now;
        if (read_time(c, &now) < 0)
            return NULL;
        expire_until(c, now, &p);
    }
    fc_idx ix;
    if (c->t.len > 0 && c->policy == P_RR && c->choice != random_choice) {
        PyObject *keys = snapshot(c, 0, c->pinned);
        if (keys == NULL)
            goto error;
        PyObject *key = PyObject_CallOneArg(c->choice, keys);
        Py_DECREF(keys);
        if (key == NULL)
            goto error;
        Py_hash_t hash = PyObject_Hash(key);
        ix = hash == -1 ? FC_ERROR : fc_lookup(&c->t, key, hash);
        if (ix == FC_NOT_FOUND)
            set_key_error(key);
        Py_DECREF(key);
        if (ix < 0)
            goto error;
    }
    else {
        ix = victim(c, c->pinned);
    }
    if (ix == FC_NIL) {
        if (pending_finish(c, &p) < 0)
            return NULL;
        PyErr_Format(PyExc_KeyError, "%s is empty", type_name(Py_TYPE(c)));
        return NULL;
    }
    PyObject *key = Py_NewRef(c->t.entries[ix].key);
    PyObject *value = Py_NewRef(c->t.entries[ix].value);
    entry_remove(c, ix, &p, report ? str_evicted : NULL);
    FC_ASSERT_CONSISTENT(c);
    PyObject *pair = NULL;
    if (pending_finish(c, &p) == 0)
        pair = PyTuple_Pack(2, key, value);
    Py_DECREF(key);
    Py_DECREF(value);
    return pair;
error:
    {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (pending_finish(c, &p) < 0)
            PyErr_WriteUnraisable((PyObject *)c);
        PyErr_Restore(et, ev, tb);
    }
    return NULL;
}

static PyObject *
m_popitem(CacheObject *c, PyObject *unused)
{
    return popitem_impl(c, 0);
}

static PyObject *
m_clear(CacheObject *c, PyObject *unused)
{
    clear_all(c);
    if (c->sizes == NULL && (c->getsizeof != NULL || (c->flags & F_SIZEOF)))
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *
m_missing(CacheObject *c, PyObject *key)
{
    set_key_error(key);
    return NULL;
}

static PyObject *
m_getsizeof(PyObject *unused, PyObject *value)
{
    return PyLong_FromLong(1);
}

static PyObject *
m_expire(CacheObject *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    /* expire(time=None), as cachetools: positional or keyword */
    PyObject *time_arg[1] = {NULL};
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (!check_nargs("expire", nargs + nkw, 0, 1))
        return NULL;
    if (nargs == 1)
        time_arg[0] = args[0];
    else if (nkw == 1) {
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "time") != 0) {
            PyErr_Format(PyExc_TypeError, "expire() got an unexpected keyword argument '%U'",
                         PyTuple_GET_ITEM(kwnames, 0));
            return NULL;
        }
        time_arg[0] = args[0];
    }
    args = time_arg;
    nargs = time_arg[0] != NULL;
    if (!IS_TIMED(c)) {
        PyErr_Format(PyExc_AttributeError, "%.200s has no expiry", Py_TYPE(c)->tp_name);
        return NULL;
    }
    double now;
    if (nargs == 0 || args[0] == Py_None) {
        if (read_time(c, &now) < 0)
            return NULL;
    }
    else {
        PyObject *t = args[0];
        if (PyBool_Check(t) || (!PyFloat_Check(t) && !PyLong_Check(t))) {
            PyErr_Format(PyExc_TypeError, "time must be a real number, not %.200s",
                         Py_TYPE(t)->tp_name);
            return NULL;
        }
        now = PyFloat_AsDouble(t);
        if (now == -1.0 && PyErr_Occurred())
            return NULL;
    }
    fc_pending p;
    pending_init(&p);
    expire_until(c, now, &p);
    FC_ASSERT_CONSISTENT(c);
    PyObject *list = PyList_New(p.n);
    if (list != NULL) {
        for (Py_ssize_t i = 0; i < p.n; i++) {
            PyObject *pair = PyTuple_Pack(2, p.items[i].key, p.items[i].value);
            if (pair == NULL) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, i, pair);
        }
    }
    if (list == NULL) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        pending_finish(c, &p);
        PyErr_Restore(et, ev, tb);
        return NULL;
    }
    if (pending_finish(c, &p) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

static PyObject *
m_remaining_ttl(CacheObject *c, PyObject *key)
{
    if (!IS_TIMED(c)) {
        PyErr_Format(PyExc_AttributeError, "%.200s has no expiry", Py_TYPE(c)->tp_name);
        return NULL;
    }
    Py_hash_t hash;
    double now;
    fc_idx expired, ix = find_live_at(c, key, &hash, &expired, &now);
    if (ix == FC_ERROR)
        return NULL;
    if (ix < 0) {
        set_key_error(key);
        return NULL;
    }
    if (c->timer_kind != TK_PYTHON)
        read_time(c, &now);  /* a C clock: cannot fail */
    return PyFloat_FromDouble(c->tnodes[ix].deadline - now);
}

static PyObject *
m_stats(CacheObject *c, PyObject *unused)
{
    if (!c->stats) {
        PyErr_SetString(PyExc_RuntimeError, "stats not enabled");
        return NULL;
    }
    return PyObject_CallFunction(CacheStatsType, "KKKK", c->hits, c->misses, c->evictions,
                                 c->expirations);
}

static PyObject *
m_reset_stats(CacheObject *c, PyObject *unused)
{
    c->hits = c->misses = c->evictions = c->expirations = 0;
    Py_RETURN_NONE;
}

static PyObject *
maxsize_obj(CacheObject *c)
{
    if (c->unbounded)
        return PyFloat_FromDouble(INFINITY);
    return PyLong_FromSsize_t(c->maxsize);
}

static PyObject *
cache_repr(CacheObject *c)
{
    if (expire_now(c) < 0)
        return NULL;
    int rc = Py_ReprEnter((PyObject *)c);
    if (rc != 0)
        return rc > 0 ? PyUnicode_FromFormat("%s(...)", type_name(Py_TYPE(c))) : NULL;
    PyObject *result = NULL, *dict = NULL, *items = snapshot(c, 1, FC_NIL), *ms = NULL;
    if (items == NULL)
        goto done;
    dict = PyDict_New();
    if (dict == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1)) < 0)
            goto done;
    }
    ms = maxsize_obj(c);
    if (ms == NULL)
        goto done;
    result = PyUnicode_FromFormat("%s(%R, maxsize=%R, currsize=%zd)", type_name(Py_TYPE(c)),
                                  dict, ms, c->currsize);
done:
    Py_ReprLeave((PyObject *)c);
    Py_XDECREF(items);
    Py_XDECREF(dict);
    Py_XDECREF(ms);
    return result;
}

/* ------------------------------------------------------------------ pickling */

static PyObject *restore_func;  /* _core._restore */

static PyObject *
m_reduce(CacheObject *c, PyObject *unused)
{
    /* Take strong references to everything first (no Python code runs), then build. */
    Py_ssize_t n = c->t.len, k = 0;
    fc_removed *items = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(fc_removed));
    if (items == NULL)
        return PyErr_NoMemory();
    FOR_EACH_IN_ORDER(c, ix) {
        fc_removed *r = &items[k++];
        r->key = Py_NewRef(c->t.entries[ix].key);
        r->value = Py_NewRef(c->t.entries[ix].value);
        r->seq = (uint64_t)entry_size(c, ix);
        r->deadline = c->policy == P_LFU ? (double)c->buckets[c->ebucket[ix]].freq
                    : IS_TIMED(c) ? c->tnodes[ix].deadline : 0.0;
    }
    PyObject *entries = PyList_New(n), *result = NULL;
    for (Py_ssize_t i = 0; entries != NULL && i < n; i++) {
        fc_removed *r = &items[i];
        PyObject *item;
        if (c->policy == P_LFU)
            item = Py_BuildValue("(OOnK)", r->key, r->value, (Py_ssize_t)r->seq,
                                 (unsigned long long)r->deadline);
        else if (IS_TIMED(c))
            item = Py_BuildValue("(OOnd)", r->key, r->value, (Py_ssize_t)r->seq, r->deadline);
        else
            item = Py_BuildValue("(OOnO)", r->key, r->value, (Py_ssize_t)r->seq, Py_None);
        if (item == NULL)
            Py_CLEAR(entries);
        else
            PyList_SET_ITEM(entries, i, item);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(items[i].key);
        Py_DECREF(items[i].value);
    }
    PyMem_Free(items);
    if (entries == NULL)
        return NULL;
    PyObject *ms = maxsize_obj(c), *config = NULL, *dict = NULL;
    if (ms == NULL)
        goto done;
    config = Py_BuildValue(
        "{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:i,s:(KKKK),s:d,s:L,s:i}",
        "maxsize", ms,
        "getsizeof", c->getsizeof ? c->getsizeof : Py_None,
        "on_evict", c->on_evict ? c->on_evict : Py_None,
        "timer", c->timer ? c->timer : Py_None,
        "ttu", c->ttu ? c->ttu : Py_None,
        "choice", c->choice ? c->choice : Py_None,
        "ttl", c->ttl_obj ? c->ttl_obj : Py_None,
        "stats", c->stats,
        "counters", c->hits, c->misses, c->evictions, c->expirations,
        "tick", c->wheel ? c->wheel->tick : 0.0,
        "now", c->wheel ? (long long)c->wheel->now : 0LL,
        "started", c->wheel ? c->wheel->started : 0);
    if (config == NULL)
        goto done;
    dict = PyObject_GenericGetDict((PyObject *)c, NULL);
    if (dict == NULL) {
        PyErr_Clear();
        dict = Py_NewRef(Py_None);
    }
    else if (PyDict_GET_SIZE(dict) == 0) {
        Py_SETREF(dict, Py_NewRef(Py_None));
    }
    result = Py_BuildValue("O(OOO)O", restore_func, (PyObject *)Py_TYPE(c), config, entries,
                           dict);
done:
    Py_XDECREF(ms);
    Py_XDECREF(config);
    Py_XDECREF(dict);
    Py_DECREF(entries);
    return result;
}

static PyObject *
cfg_get(PyObject *config, const char *name)
{
    PyObject *o = PyDict_GetItemString(config, name);  /* borrowed */
    return o != NULL ? o : Py_None;
}

static PyObject *
core_restore(PyObject *module, PyObject *args)
{
    PyTypeObject *type;
    PyObject *config, *entries;
    if (!PyArg_ParseTuple(args, "O!O!O!:_restore", &PyType_Type, &type, &PyDict_Type, &config,
                          &PyList_Type, &entries))
        return NULL;
    if (!PyType_IsSubtype(type, &CacheType)) {
        PyErr_SetString(PyExc_TypeError, "_restore needs a cache type");
        return NULL;
    }
    PyObject *noargs = PyTuple_New(0);
    if (noargs == NULL)
        return NULL;
    CacheObject *c = (CacheObject *)type->tp_new(type, noargs, NULL);
    Py_DECREF(noargs);
    if (c == NULL)
        return NULL;
#define CFG(name) cfg_get(config, name)
    if (configure(c, CFG("maxsize"), CFG("getsizeof"), CFG("on_evict"),
                  PyObject_IsTrue(CFG("stats"))) < 0)
        goto fail;
    if (CFG("choice") != Py_None) {
        if (set_callable(&c->choice, CFG("choice"), "choice", 0) < 0)
            goto fail;
        if (c->choice != random_choice)
            c->flags |= F_PY_EVICT;
    }
    if (CFG("ttu") != Py_None && set_callable(&c->ttu, CFG("ttu"), "ttu", 0) < 0)
        goto fail;
    if (IS_TIMED(c)) {
        if (set_timer(c, CFG("timer")) < 0)
            goto fail;
        if (CFG("ttl") != Py_None) {
            if (parse_ttl(CFG("ttl"), &c->ttl, "ttl") < 0)
                goto fail;
            Py_INCREF(CFG("ttl"));
            Py_XSETREF(c->ttl_obj, CFG("ttl"));
        }
        fc_wheel_init(c->wheel, PyFloat_AsDouble(CFG("tick")));
        c->wheel->now = PyLong_AsLongLong(CFG("now"));
        c->wheel->started = PyObject_IsTrue(CFG("started"));
        if (PyErr_Occurred())
            goto fail;
    }
    if (!PyArg_ParseTuple(CFG("counters"), "KKKK", &c->hits, &c->misses, &c->evictions,
                          &c->expirations))
        goto fail;
#undef CFG
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(entries); i++) {
        PyObject *key, *value, *extra;
        Py_ssize_t size;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(entries, i), "OOnO", &key, &value, &size, &extra))
            goto fail;
        Py_hash_t hash = PyObject_Hash(key);
        if (hash == -1)
            goto fail;
        uint64_t freq = 1;
        double deadline = INFINITY;
        if (c->policy == P_LFU) {
            freq = PyLong_AsUnsignedLongLong(extra);
            if (PyErr_Occurred())
                goto fail;
        }
        else if (IS_TIMED(c)) {
            deadline = PyFloat_AsDouble(extra);
            if (PyErr_Occurred())
                goto fail;
        }
        fc_idx ix = fc_lookup(&c->t, key, hash);
        if (ix == FC_ERROR)
            goto fail;
        if (ix >= 0) {
            PyErr_SetString(PyExc_ValueError, "duplicate key in cache state");
            goto fail;
        }
        ix = entry_alloc(c);
        if (ix == FC_ERROR)
            goto fail;
        fc_entry *e = &c->t.entries[ix];
        e->hash = hash;
        e->key = Py_NewRef(key);
        e->value = Py_NewRef(value);
        entry_link(c, ix, size, freq, deadline);
    }
    FC_ASSERT_CONSISTENT(c);
    return (PyObject *)c;
fail:
    Py_DECREF(c);
    return NULL;
}

/* ------------------------------------------------------------------ consistency check */

static int
check_fail(const char *what)
{
    PyErr_Format(PyExc_AssertionError, "cache inconsistent: %s", what);
    return -1;
}

static int
cache_check_internal(CacheObject *c)
{
    fc_table *t = &c->t;
    Py_ssize_t live = 0, size = 0, in_index = 0;
    for (Py_ssize_t i = 0; i < t->top; i++) {
        if (t->entries[i].key == NULL)
            continue;
        live++;
        size += entry_size(c, (fc_idx)i);
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
    if (c->policy == P_LFU) {
        uint64_t last = 0;
        for (fc_idx b = c->bhead; b != FC_NIL; b = c->buckets[b].next) {
            if (c->buckets[b].freq <= last) return check_fail("LFU buckets out of order");
            last = c->buckets[b].freq;
            if (c->buckets[b].head == FC_NIL) return check_fail("empty LFU bucket");
            fc_idx prev = FC_NIL;
            for (fc_idx ix = c->buckets[b].head; ix != FC_NIL; ix = t->entries[ix].next) {
                if (t->entries[ix].prev != prev || c->ebucket[ix] != b)
                    return check_fail("LFU bucket links");
                prev = ix;
                if (++n > live) return check_fail("LFU cycle");
            }
            if (c->buckets[b].tail != prev) return check_fail("LFU bucket tail");
        }
    }
    else {
        fc_idx prev = FC_NIL;
        for (fc_idx ix = c->head; ix != FC_NIL; ix = t->entries[ix].next) {
            if (t->entries[ix].prev != prev || t->entries[ix].key == NULL)
                return check_fail("order list links");
            prev = ix;
            if (++n > live) return check_fail("order list cycle");
        }
        if (c->tail != prev) return check_fail("order list tail");
    }
    if (n != live) return check_fail("order list length");
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
    }
    return 0;
}

static PyObject *
m_check(CacheObject *c, PyObject *unused)
{
    if (cache_check_internal(c) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ properties */

static PyObject *
g_maxsize(CacheObject *c, void *closure)
{
    return maxsize_obj(c);
}

static PyObject *
g_currsize(CacheObject *c, void *closure)
{
    if (expire_now(c) < 0)
        return NULL;
    return PyLong_FromSsize_t(c->currsize);
}

static PyObject *
g_opt(PyObject *o, const char *name)
{
    if (o == NULL) {
        PyErr_Format(PyExc_AttributeError, "this cache has no %s", name);
        return NULL;
    }
    Py_INCREF(o);
    return o;
}

static PyObject *g_timer(CacheObject *c, void *x) { return IS_TIMED(c) ? g_opt(c->timer, "timer") : g_opt(NULL, "timer"); }
static PyObject *g_ttl(CacheObject *c, void *x) { return g_opt(c->ttl_obj, "ttl"); }
static PyObject *g_ttu(CacheObject *c, void *x) { return g_opt(c->ttu, "ttu"); }
static PyObject *g_choice(CacheObject *c, void *x) { return g_opt(c->choice, "choice"); }

static PyObject *
g_on_evict(CacheObject *c, void *closure)
{
    return Py_NewRef(c->on_evict ? c->on_evict : Py_None);
}

static int
s_on_evict(CacheObject *c, PyObject *v, void *closure)
{
    if (v == NULL) v = Py_None;
    return set_callable(&c->on_evict, v, "on_evict", 1);
}

static PyGetSetDef cache_getset[] = {
    {"maxsize", (getter)g_maxsize, NULL, "The maximum size of the cache.", NULL},
    {"currsize", (getter)g_currsize, NULL, "The current size of the cache.", NULL},
    {"on_evict", (getter)g_on_evict, (setter)s_on_evict,
     "Listener called with (key, value, cause) after an entry leaves the cache.", NULL},
    {NULL},
};

static PyGetSetDef ttl_getset[] = {
    {"ttl", (getter)g_ttl, NULL, "The default time to live of the cache's items.", NULL},
    {"timer", (getter)g_timer, NULL, "The timer function used by the cache.", NULL},
    {NULL},
};

static PyGetSetDef tlru_getset[] = {
    {"ttu", (getter)g_ttu, NULL, "The time-to-use function used by the cache.", NULL},
    {"timer", (getter)g_timer, NULL, "The timer function used by the cache.", NULL},
    {NULL},
};

static PyGetSetDef rr_getset[] = {
    {"choice", (getter)g_choice, NULL, "The choice function used by the cache.", NULL},
    {NULL},
};

static PyMethodDef cache_methods[] = {
    {"get", (PyCFunction)(void (*)(void))m_get, METH_FASTCALL,
     "get(key, default=None): the value (counts as an access), or default."},
    {"peek", (PyCFunction)(void (*)(void))m_peek, METH_FASTCALL,
     "peek(key, default=None): the value without counting an access, or default."},
    {"pop", (PyCFunction)(void (*)(void))m_pop, METH_FASTCALL,
     "pop(key[, default]): remove key and return its value."},
    {"setdefault", (PyCFunction)(void (*)(void))m_setdefault, METH_FASTCALL,
     "setdefault(key, default=None)"},
    {"set", (PyCFunction)(void (*)(void))m_set, METH_FASTCALL | METH_KEYWORDS,
     "set(key, value, ttl=None): store; TTLCache takes a per-item ttl."},
    {"popitem", (PyCFunction)m_popitem, METH_NOARGS,
     "Remove and return the (key, value) pair the policy evicts next."},
    {"clear", (PyCFunction)m_clear, METH_NOARGS, "Remove every entry."},
    {"__missing__", (PyCFunction)m_missing, METH_O, "Called for a missing key; raises KeyError."},
    {"getsizeof", (PyCFunction)m_getsizeof, METH_O | METH_STATIC,
     "Return the size of a cache element's value (1; a getsizeof argument replaces it)."},
    {"expire", (PyCFunction)(void (*)(void))m_expire, METH_FASTCALL | METH_KEYWORDS,
     "expire(time=None): remove expired items, return the expired (key, value) pairs."},
    {"remaining_ttl", (PyCFunction)m_remaining_ttl, METH_O,
     "remaining_ttl(key): time left before key expires; KeyError if absent or expired."},
    {"stats", (PyCFunction)m_stats, METH_NOARGS, "CacheStats(hits, misses, evictions, expirations)."},
    {"reset_stats", (PyCFunction)m_reset_stats, METH_NOARGS, "Zero the counters."},
    {"_check", (PyCFunction)m_check, METH_NOARGS, "Verify internal invariants (tests)."},
    {"__reduce__", (PyCFunction)m_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods cache_as_mapping = {
    (lenfunc)cache_length,
    (binaryfunc)cache_subscript,
    (objobjargproc)cache_ass_subscript,
};

static PySequenceMethods cache_as_sequence = {
    .sq_contains = (objobjproc)cache_contains,
};

#define CACHE_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC)

static PyTypeObject CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fastcache._core.Cache",
    .tp_doc = "Cache(maxsize, getsizeof=None, *, on_evict=None, stats=False)",
    .tp_basicsize = sizeof(CacheObject),
    .tp_flags = CACHE_FLAGS,
    .tp_new = cache_new,
    .tp_init = (initproc)cache_init,
    .tp_dealloc = (destructor)cache_dealloc,
    .tp_traverse = (traverseproc)cache_traverse,
    .tp_clear = (inquiry)cache_gc_clear,
    .tp_repr = (reprfunc)cache_repr,
    .tp_as_mapping = &cache_as_mapping,
    .tp_as_sequence = &cache_as_sequence,
    .tp_iter = (getiterfunc)cache_iter,
    .tp_methods = cache_methods,
    .tp_getset = cache_getset,
    .tp_hash = PyObject_HashNotImplemented,
};

#define SUBTYPE(var, name, doc, init, getset)            \
    static PyTypeObject var = {                          \
        PyVarObject_HEAD_INIT(NULL, 0)                   \
        .tp_name = "fastcache._core." name,              \
        .tp_doc = doc,                                   \
        .tp_basicsize = sizeof(CacheObject),             \
        .tp_flags = CACHE_FLAGS,                         \
        .tp_base = &CacheType,                           \
        .tp_traverse = (traverseproc)cache_traverse,     \
        .tp_clear = (inquiry)cache_gc_clear,             \
        .tp_init = (initproc)init,                       \
        .tp_getset = getset,                             \
    };

SUBTYPE(LRUCacheType, "LRUCache", "LRUCache(maxsize, getsizeof=None, *, on_evict=None, stats=False)", cache_init, NULL)
SUBTYPE(LFUCacheType, "LFUCache", "LFUCache(maxsize, getsizeof=None, *, on_evict=None, stats=False)", cache_init, NULL)
SUBTYPE(FIFOCacheType, "FIFOCache", "FIFOCache(maxsize, getsizeof=None, *, on_evict=None, stats=False)", cache_init, NULL)
SUBTYPE(RRCacheType, "RRCache", "RRCache(maxsize, choice=random.choice, getsizeof=None, *, on_evict=None, stats=False)", rr_init, rr_getset)
SUBTYPE(TTLCacheType, "TTLCache", "TTLCache(maxsize, ttl, timer=time.monotonic, getsizeof=None, *, on_evict=None, stats=False)", ttl_init, ttl_getset)
SUBTYPE(TLRUCacheType, "TLRUCache", "TLRUCache(maxsize, ttu, timer=time.monotonic, getsizeof=None, *, on_evict=None, stats=False)", tlru_init, tlru_getset)

/* ------------------------------------------------------------------ module */

static PyMethodDef core_functions[] = {
    {"_restore", core_restore, METH_VARARGS, "Rebuild a pickled cache."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "fastcache._core",
    "Compiled cache classes (see docs/core-spec.md).", -1, core_functions,
};

int fc_sim_add(PyObject *module); /* csrc/sim.c */

static PyObject *
import_attr(const char *module, const char *name)
{
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL)
        return NULL;
    PyObject *a = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return a;
}

PyMODINIT_FUNC
PyInit__core(void)
{
    PyObject *m = PyModule_Create(&core_module);
    if (m == NULL)
        return NULL;
#define INTERN(var, s) if ((var = PyUnicode_InternFromString(s)) == NULL) goto fail
    INTERN(str_evicted, "evicted");
    INTERN(str_expired, "expired");
    INTERN(str_replaced, "replaced");
    INTERN(str_deleted, "deleted");
    INTERN(str_missing, "__missing__");
    INTERN(str_popitem, "popitem");
    INTERN(str_getsizeof, "getsizeof");
#undef INTERN
    if ((time_monotonic = import_attr("time", "monotonic")) == NULL) goto fail;
    if ((time_time = import_attr("time", "time")) == NULL) goto fail;
    if ((random_choice = import_attr("random", "choice")) == NULL) goto fail;
    if ((CacheStatsType = import_attr("fastcache._types", "CacheStats")) == NULL) goto fail;
    if ((restore_func = PyObject_GetAttrString(m, "_restore")) == NULL) goto fail;
    if (PyType_Ready(&KeyIterType) < 0 || PyType_Ready(&CacheType) < 0) goto fail;
    PyTypeObject *subs[] = {&LRUCacheType, &LFUCacheType, &FIFOCacheType, &RRCacheType,
                            &TTLCacheType, &TLRUCacheType};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (PyType_Ready(subs[i]) < 0) goto fail;
    if ((base_popitem = PyObject_GetAttr((PyObject *)&CacheType, str_popitem)) == NULL) goto fail;
    if ((base_missing = PyObject_GetAttr((PyObject *)&CacheType, str_missing)) == NULL) goto fail;
    if ((base_getsizeof = PyObject_GetAttr((PyObject *)&CacheType, str_getsizeof)) == NULL) goto fail;
    PyTypeObject *all[] = {&CacheType, &LRUCacheType, &LFUCacheType, &FIFOCacheType,
                           &RRCacheType, &TTLCacheType, &TLRUCacheType};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        Py_INCREF(all[i]);
        if (PyModule_AddObject(m, type_name(all[i]), (PyObject *)all[i]) < 0) goto fail;
    }
    if (PyModule_AddObjectRef(m, "EVICTED", str_evicted) < 0 ||
        PyModule_AddObjectRef(m, "EXPIRED", str_expired) < 0 ||
        PyModule_AddObjectRef(m, "REPLACED", str_replaced) < 0 ||
        PyModule_AddObjectRef(m, "DELETED", str_deleted) < 0 ||
        PyModule_AddObjectRef(m, "CacheStats", CacheStatsType) < 0)
        goto fail;
    if (fc_sim_add(m) < 0) goto fail; /* the trace simulator (csrc/sim.c) */
    fc_clock_init();
#ifdef FC_DEBUG
    if (PyModule_AddIntConstant(m, "DEBUG", 1) < 0) goto fail;
#else
    if (PyModule_AddIntConstant(m, "DEBUG", 0) < 0) goto fail;
#endif
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
