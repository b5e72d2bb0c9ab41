/*
 * s3fifo.c: S3FIFOCache's policy (s3fifo.h has the design). cache.c calls in from its
 * policy switches: fc_entry_link (fc_s3_enter), fc_entry_remove (fc_s3_leave), victim()
 * (fc_s3_victim), touch() (s3fifo.h's fc_s3_touch), a new key's write (fc_s3_admit: the
 * ghost is consulted before anything is evicted), a present key's new size (fc_s3_resized).
 *
 * The algorithm is csrc/sim.c's run_s3fifo with variant 0 (libCacheSim's S3FIFO.c) step
 * for step: a replay of a trace through an S3FIFOCache (unit sizes, `c[k]` on a hit,
 * `c[k] = k` on a miss) hits exactly as often as fastcache.simulate's "s3fifo" with
 * params={"variant": 0} at the same capacity (tests/core/test_sim_agreement.py). The
 * simulator's default variant (1, Caffeine's) evicts from small first and looks the ghost
 * up after evicting. How the mapping differs from the simulator:
 *   1. The ghost holds hashes, not keys: a key whose hash equals a remembered one's is
 *      admitted to main. (Python ints below 2**61 - 1 hash to themselves: none for the
 *      traces' keys.)
 *   2. With getsizeof the queues' shares and the ghost count size units (a ghost entry
 *      counts at least 1), as libCacheSim's bytes; the simulator counts entries.
 *   3. c[k] = v over a present key counts as a hit (frequency + 1).
 *   4. The entry being written (pinned, or `skip` while making room for its larger value)
 *      is never evicted: in small it goes to small's tail, in main to main's tail, its
 *      frequency left as it is.
 *   5. With a popitem() override the write's evictions go through it before the new key
 *      consults the ghost, which they may have dropped it from (the simulator consults it
 *      first, as the unoverridden write does).
 *   6. A ghost that cannot grow (MemoryError while evicting, where nothing may fail)
 *      forgets the hash instead.
 *   7. clear() and __init__ forget the ghost and start again as a new cache.
 *   8. A pickle keeps the ghost's hashes: a str key's hash differs in another process
 *      (PYTHONHASHSEED), so there the ghost remembers nothing useful of str keys.
 * The twin is fastcache/_py/s3fifo.py: the same algorithm and order (difference 6 aside);
 * it differs in storage only (two OrderedDicts and an OrderedDict of hash -> size for the
 * ghost; the C keeps both queues on one list and the ghost in a ring with an index of its
 * own, s3fifo.h), and the two pickles are not interchangeable.
 */
#include "core.h"

/* ------------------------------------------------------------------ configuration */

static int
parse_fraction(PyObject *o, const char *name, double *out)
{
    if (PyBool_Check(o) || !(PyFloat_Check(o) || PyLong_Check(o))) {
        PyErr_Format(PyExc_TypeError, "%s must be a float, not %.200s", name,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred())
        return -1;
    if (!(d > 0.0 && d < 1.0)) {
        PyErr_Format(PyExc_ValueError, "%s must be between 0 and 1 (exclusive), not %R", name,
                     o);
        return -1;
    }
    *out = d;
    return 0;
}

/* The queues' shares and the ghost's capacity, as the simulator computes them. */
static void
set_caps(CacheObject *c)
{
    fc_s3 *s = &c->s3;
    Py_ssize_t maxsize = c->unbounded ? PY_SSIZE_T_MAX : c->maxsize;
    s->scap = (Py_ssize_t)((double)maxsize * s->small_fraction);
    if (s->scap == 0 && maxsize >= 2)
        s->scap = 1;
    s->mcap = maxsize - s->scap;
    s->gcap = (Py_ssize_t)((double)maxsize * s->ghost_fraction);
}

int
fc_s3_set_fractions(CacheObject *c, PyObject *small, PyObject *ghost)
{
    double sf = 0.1, gf = 0.9;
    if ((small != NULL && small != Py_None && parse_fraction(small, "small_fraction", &sf) < 0) ||
        (ghost != NULL && ghost != Py_None && parse_fraction(ghost, "ghost_fraction", &gf) < 0))
        return -1;
    c->s3.small_fraction = sf;
    c->s3.ghost_fraction = gf;
    set_caps(c);
    return 0;
}

int
fc_s3_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static const char *const names[] = {"maxsize", "getsizeof", "small_fraction",
                                        "ghost_fraction", "on_evict", "stats", NULL};
    PyObject *a[6] = {NULL, Py_None, NULL, NULL, Py_None, Py_False};
    double unused;
    if (fc_parse_args("S3FIFOCache.__init__", args, kwds, names, 4, 1, a) < 0)
        return -1;
    /* every argument checked before anything changes */
    if ((a[2] != NULL && parse_fraction(a[2], "small_fraction", &unused) < 0) ||
        (a[3] != NULL && parse_fraction(a[3], "ghost_fraction", &unused) < 0))
        return -1;
    int stats = PyObject_IsTrue(a[5]);
    if (stats < 0 || fc_configure(c, a[0], a[1], a[4], stats, -1) < 0)
        return -1;
    return fc_s3_set_fractions(c, a[2], a[3]);
}

static PyObject *
g_small_fraction(CacheObject *c, void *closure)
{
    return PyFloat_FromDouble(c->s3.small_fraction);
}

static PyObject *
g_ghost_fraction(CacheObject *c, void *closure)
{
    return PyFloat_FromDouble(c->s3.ghost_fraction);
}

PyGetSetDef fc_s3_getset[] = {
    {"small_fraction", (getter)g_small_fraction, NULL,
     "The small queue's share of maxsize.", NULL},
    {"ghost_fraction", (getter)g_ghost_fraction, NULL,
     "The ghost queue's capacity, as a fraction of maxsize.", NULL},
    {NULL},
};

/* ------------------------------------------------------------------ the ghost */

#define GHOST_MASK(g) ((size_t)(2 * (g)->rcap - 1))

/* The index slot of `hash`, or -1. Ghost entries are found by hash alone (no key is
 * compared: no code runs). */
static Py_ssize_t
ghost_find(const fc_ghost *g, Py_hash_t hash)
{
    if (g->index == NULL)
        return -1;
    uint32_t fp = fc_ghost_fp(hash);
    for (size_t i = fc_ghost_home(g, fp);; i = (i + 1) & GHOST_MASK(g)) {
        fc_ghost_slot sl = g->index[i];
        if (sl.pos < 0)
            return -1;
        if (sl.fp == fp && g->ring[sl.pos] == hash)
            return (Py_ssize_t)i;
    }
}

/* The index slot that holds ring position p (live). */
static size_t
ghost_slot_of(const fc_ghost *g, Py_ssize_t p)
{
    size_t i = fc_ghost_home(g, fc_ghost_fp(g->ring[p]));
    while (g->index[i].pos != p)
        i = (i + 1) & GHOST_MASK(g);
    return i;
}

/* The size remembered at ring position p (live). */
static inline Py_ssize_t
ghost_size(const fc_ghost *g, Py_ssize_t p)
{
    return g->sizes != NULL ? g->sizes[p] : 1;
}

static void
index_put(fc_ghost *g, uint32_t fp, Py_ssize_t pos)
{
    size_t i = fc_ghost_home(g, fp);
    while (g->index[i].pos >= 0)
        i = (i + 1) & GHOST_MASK(g);
    g->index[i].fp = fp;
    g->index[i].pos = (int32_t)pos;
}

/* Drop the hash in index slot i (its ring position becomes dead), shifting later members of
 * its probe run back (table.h's fc_probe_stays, as fc_index_remove). */
static void
ghost_drop(fc_ghost *g, size_t i)
{
    Py_ssize_t p = g->index[i].pos;
    g->used -= ghost_size(g, p);
    g->ring[p] = FC_GHOST_DEAD;
    g->len--;
    size_t mask = GHOST_MASK(g);
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (g->index[j].pos < 0)
            break;
        if (fc_probe_stays(i, j, fc_ghost_home(g, g->index[j].fp)))
            continue;
        g->index[i] = g->index[j];
        i = j;
    }
    g->index[i].pos = -1;
}

/* The ring and index at capacity rcap (a power of two), holding the live hashes in order
 * from position 0; -1 (nothing changed) if there is no memory. */
static int
ghost_rebuild(fc_ghost *g, Py_ssize_t rcap)
{
    if (rcap > FC_MAX_ENTRIES)
        return -1;
    Py_hash_t *ring = PyMem_Malloc((size_t)rcap * sizeof(Py_hash_t));
    Py_ssize_t *sizes = g->sizes != NULL ? PyMem_Malloc((size_t)rcap * sizeof(Py_ssize_t))
                                         : NULL;
    fc_ghost_slot *index = PyMem_Malloc((size_t)(2 * rcap) * sizeof(fc_ghost_slot));
    if (ring == NULL || index == NULL || (g->sizes != NULL && sizes == NULL)) {
        PyMem_Free(ring);
        PyMem_Free(sizes);
        PyMem_Free(index);
        return -1;
    }
    Py_hash_t *old = g->ring;
    Py_ssize_t *old_sizes = g->sizes;
    Py_ssize_t old_mask = g->rcap - 1, old_head = g->head, old_count = g->count;
    PyMem_Free(g->index);
    g->ring = ring;
    g->sizes = sizes;
    g->index = index;
    g->rcap = rcap;
    g->bits = 0;
    while (((Py_ssize_t)1 << g->bits) < 2 * rcap)
        g->bits++;
    for (Py_ssize_t i = 0; i < 2 * rcap; i++)
        index[i].pos = -1;
    g->head = g->count = 0;
    for (Py_ssize_t n = 0; n < old_count; n++) {
        Py_ssize_t p = (old_head + n) & old_mask;
        if (old[p] == FC_GHOST_DEAD)
            continue;
        ring[g->count] = old[p];
        if (sizes != NULL)
            sizes[g->count] = old_sizes[p];
        index_put(g, fc_ghost_fp(old[p]), g->count);
        g->count++;
    }
    PyMem_Free(old);
    PyMem_Free(old_sizes);
    return 0;
}

/* The sizes array, when a size other than 1 is first remembered: 1 for every position until
 * then. -1 (nothing changed) if there is no memory. */
static int
ghost_add_sizes(fc_ghost *g)
{
    Py_ssize_t *sizes = PyMem_Malloc((size_t)(g->rcap ? g->rcap : 1) * sizeof(Py_ssize_t));
    if (sizes == NULL)
        return -1;
    for (Py_ssize_t p = 0; p < g->rcap; p++)
        sizes[p] = 1;
    g->sizes = sizes;
    return 0;
}

/* The ring's first capacity: room for as many hashes as the ghost can hold (each counts at
 * least 1 of gcap) or as the cache holds entries, whichever is fewer (a popitem() from a
 * cache far from full does not make a ghost for maxsize). Made once at that size, the ring
 * and index of a full cache do not grow through every power of two, whose freed arrays the
 * allocator keeps (about 11 bytes per entry of RSS at 1,000,000 entries, bench/memory.py
 * --churn). */
static Py_ssize_t
first_rcap(CacheObject *c)
{
    Py_ssize_t want = c->t.len + 1 < c->s3.gcap ? c->t.len + 1 : c->s3.gcap, rcap = 8;
    while (rcap <= want && 2 * rcap <= FC_MAX_ENTRIES)
        rcap <<= 1;
    return rcap;
}

/* Remember the hash of a key evicted from small (dropping the oldest to make room). */
static void
ghost_push(CacheObject *c, Py_hash_t hash, Py_ssize_t size)
{
    fc_ghost *g = &c->s3.ghost;
    Py_ssize_t w = size > 0 ? size : 1;
    if (w > c->s3.gcap)
        return;
    fc_ghost_prefetch(g, hash);
    if (g->count > 0)
        fc_ghost_prefetch(g, g->ring[g->head]);
    Py_ssize_t i = ghost_find(g, hash);
    if (i >= 0)
        ghost_drop(g, (size_t)i);
    while (g->used > c->s3.gcap - w) {  /* the oldest live hashes leave */
        Py_ssize_t p = g->head;
        g->head = (p + 1) & (g->rcap - 1);
        g->count--;
        if (g->ring[p] != FC_GHOST_DEAD)
            ghost_drop(g, ghost_slot_of(g, p));
    }
    if (g->count == g->rcap &&
        ghost_rebuild(g, g->rcap == 0 ? first_rcap(c) : 2 * g->len >= g->rcap ? 2 * g->rcap
                                                                               : g->rcap) < 0)
        return;  /* nothing may fail here: the ghost forgets (difference 6) */
    if (w != 1 && g->sizes == NULL && ghost_add_sizes(g) < 0)
        return;  /* difference 6 */
    Py_ssize_t p = (g->head + g->count) & (g->rcap - 1);
    g->ring[p] = hash;
    if (g->sizes != NULL)
        g->sizes[p] = w;
    g->count++;
    index_put(g, fc_ghost_fp(hash), p);
    g->len++;
    g->used += w;
}

static void
ghost_init(fc_ghost *g)
{
    memset(g, 0, sizeof(*g));
}

void
fc_s3_ghost_move(fc_ghost *to, fc_ghost *from)
{
    *to = *from;
    ghost_init(from);
}

/* Empty the queues and the ghost (detach_all: the entries are released by the caller;
 * the ghost's keys are None, whose release runs no code). */
void
fc_s3_reset(CacheObject *c)
{
    fc_s3 *s = &c->s3;
    PyMem_Free(s->ghost.ring);
    PyMem_Free(s->ghost.sizes);
    PyMem_Free(s->ghost.index);
    ghost_init(&s->ghost);
    s->small_tail = FC_NIL;
    s->s_count = s->s_size = s->m_size = 0;
    s->has_evicted = 0;
    if (s->small_fraction == 0) {  /* a new object (tp_new) */
        s->small_fraction = 0.1;
        s->ghost_fraction = 0.9;
    }
    set_caps(c);
}

/* A new key's write, before anything is evicted for it: FC_S3_MAIN if its hash was in the
 * ghost (and leaves it), else 0: the mark fc_entry_link gets. */
uint64_t
fc_s3_admit(CacheObject *c, Py_hash_t hash)
{
    Py_ssize_t i = ghost_find(&c->s3.ghost, hash);
    if (i < 0)
        return 0;
    ghost_drop(&c->s3.ghost, (size_t)i);
    return FC_S3_MAIN;
}

/* ------------------------------------------------------------------ the queues */

static inline int
in_main(CacheObject *c, fc_idx ix)
{
    return (c->marks[ix] & FC_S3_MAIN) != 0;
}

void
fc_s3_enter(CacheObject *c, fc_idx ix, uint64_t mark, Py_ssize_t size)
{
    fc_s3 *s = &c->s3;
    int main = (mark & FC_S3_MAIN) != 0;
    if (!(mark & FC_S3_PLACED))
        main = main || s->scap == 0 || (!s->has_evicted && s->s_size >= s->scap);
    c->marks[ix] = (uint8_t)((mark & FC_S3_FREQ) | (main ? FC_S3_MAIN : 0));
    if (main) {
        fc_list_append(c->t.entries, &c->order, ix);
        s->m_size += size;
    }
    else {
        fc_list_insert_after(c->t.entries, &c->order, ix, s->small_tail);
        s->small_tail = ix;
        s->s_count++;
        s->s_size += size;
    }
}

/* Before entry ix leaves the order list. */
void
fc_s3_leave(CacheObject *c, fc_idx ix)
{
    fc_s3 *s = &c->s3;
    Py_ssize_t size = fc_entry_size(c, ix);
    if (in_main(c, ix)) {
        s->m_size -= size;
    }
    else {
        if (s->small_tail == ix)
            s->small_tail = c->t.entries[ix].prev;  /* small is the list's prefix */
        s->s_count--;
        s->s_size -= size;
    }
}

/* A present entry's size changed by delta (c[k] = v with a getsizeof). */
void
fc_s3_resized(CacheObject *c, fc_idx ix, Py_ssize_t delta)
{
    if (in_main(c, ix))
        c->s3.m_size += delta;
    else
        c->s3.s_size += delta;
}

static inline fc_idx
main_first(CacheObject *c)
{
    fc_idx st = c->s3.small_tail;
    return st == FC_NIL ? c->order.head : c->t.entries[st].next;
}

/* Main's victim: its oldest entry of frequency 0, the others reinserted with one less;
 * FC_NIL if main holds nothing but `skip`. */
static fc_idx
evict_main(CacheObject *c, fc_idx skip)
{
    Py_ssize_t m_count = c->t.len - c->s3.s_count;
    if (m_count == 0 || (m_count == 1 && skip != FC_NIL && in_main(c, skip)))
        return FC_NIL;
    for (;;) {
        fc_idx v = main_first(c);
        if (v != skip) {
            if ((c->marks[v] & FC_S3_FREQ) == 0)
                return v;
            c->marks[v]--;
        }
        fc_list_move_to_tail(c->t.entries, &c->order, v);  /* main's newest end */
    }
}

/* Small's victim: its oldest entry hit fewer than twice, remembered by the ghost; those
 * hit more move to main on the way. FC_NIL if small runs out of entries other than `skip`. */
static fc_idx
evict_small(CacheObject *c, fc_idx skip)
{
    fc_s3 *s = &c->s3;
    fc_entry *e = c->t.entries;
    while (s->s_count > 0) {
        if (s->s_count == 1 && skip != FC_NIL && !in_main(c, skip))
            return FC_NIL;
        fc_idx v = c->order.head;
        if (v == skip) {  /* to small's newest end (v is not small's only entry) */
            fc_list_unlink(e, &c->order, v);
            fc_list_insert_after(e, &c->order, v, s->small_tail);
            s->small_tail = v;
            continue;
        }
        if ((c->marks[v] & FC_S3_FREQ) >= FC_S3_MOVE_TO_MAIN) {
            /* to main's newest end */
            Py_ssize_t size = fc_entry_size(c, v);
            if (s->small_tail == v)
                s->small_tail = FC_NIL;  /* it was small's only entry */
            fc_list_move_to_tail(e, &c->order, v);
            c->marks[v] = FC_S3_MAIN;
            s->s_count--;
            s->s_size -= size;
            s->m_size += size;
            continue;
        }
        ghost_push(c, e[v].hash, fc_entry_size(c, v));
        return v;
    }
    return FC_NIL;
}

/* The entry to evict, never `skip` (there is another: victim() checked); the caller
 * removes it. As the simulator's loop: from main while main is over its share or small is
 * empty, else from small. */
fc_idx
fc_s3_victim(CacheObject *c, fc_idx skip)
{
    fc_s3 *s = &c->s3;
    s->has_evicted = 1;
    fc_idx v = FC_NIL;
    if (s->m_size > s->mcap || s->s_count == 0)
        v = evict_main(c, skip);
    if (v == FC_NIL)
        v = evict_small(c, skip);
    if (v == FC_NIL)
        v = evict_main(c, skip);
    return v;
}

/* ------------------------------------------------------------------ check and pickle */

int
fc_s3_check(CacheObject *c, const char **what)
{
    fc_s3 *s = &c->s3;
    Py_ssize_t s_count = 0, s_size = 0, m_size = 0;
    fc_idx last_small = FC_NIL;
    int seen_main = 0;
    FC_FOR_EACH_IN_ORDER(c, ix) {
        uint8_t m = c->marks[ix];
        if (m & ~(FC_S3_FREQ | FC_S3_MAIN)) {
            *what = "S3-FIFO marks";
            return -1;
        }
        if (m & FC_S3_MAIN) {
            seen_main = 1;
            m_size += fc_entry_size(c, ix);
        }
        else {
            if (seen_main) {
                *what = "S3-FIFO small entry after main ones";
                return -1;
            }
            last_small = ix;
            s_count++;
            s_size += fc_entry_size(c, ix);
        }
    }
    if (last_small != s->small_tail) {
        *what = "S3-FIFO small_tail";
        return -1;
    }
    if (s_count != s->s_count || s_size != s->s_size || m_size != s->m_size) {
        *what = "S3-FIFO queue sizes";
        return -1;
    }
    fc_ghost *g = &s->ghost;
    Py_ssize_t n = 0, used = 0, slots = 0;
    for (Py_ssize_t k = 0; k < g->count; k++) {
        Py_ssize_t p = (g->head + k) & (g->rcap - 1);
        if (g->ring[p] == FC_GHOST_DEAD)
            continue;
        Py_ssize_t i = ghost_find(g, g->ring[p]);
        if (ghost_size(g, p) < 1 || i < 0 || g->index[i].pos != p) {
            *what = "S3-FIFO ghost entries";
            return -1;
        }
        n++;
        used += ghost_size(g, p);
    }
    for (Py_ssize_t i = 0; g->index != NULL && i < 2 * g->rcap; i++) {
        Py_ssize_t p = g->index[i].pos;
        if (p < 0)
            continue;
        slots++;
        if (p >= g->rcap || ((p - g->head) & (g->rcap - 1)) >= g->count ||
            g->ring[p] == FC_GHOST_DEAD || fc_ghost_fp(g->ring[p]) != g->index[i].fp) {
            *what = "S3-FIFO ghost index";
            return -1;
        }
    }
    if (n != g->len || slots != g->len || used != g->used || used > s->gcap ||
        g->count > g->rcap) {
        *what = "S3-FIFO ghost size";
        return -1;
    }
    return 0;
}

/* The policy's pickled configuration: the fractions, whether it evicted yet, the ghost. */
PyObject *
fc_s3_config(CacheObject *c)
{
    fc_ghost *g = &c->s3.ghost;
    PyObject *ghost = PyList_New(g->len);
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; ghost != NULL && k < g->count; k++) {
        Py_ssize_t p = (g->head + k) & (g->rcap - 1);
        if (g->ring[p] == FC_GHOST_DEAD)
            continue;
        PyObject *pair = Py_BuildValue("(nn)", (Py_ssize_t)g->ring[p], ghost_size(g, p));
        if (pair == NULL)
            Py_CLEAR(ghost);
        else
            PyList_SET_ITEM(ghost, n++, pair);
    }
    if (ghost == NULL)
        return NULL;
    PyObject *r = Py_BuildValue("{s:d,s:d,s:O,s:N}", "small_fraction", c->s3.small_fraction,
                                "ghost_fraction", c->s3.ghost_fraction, "has_evicted",
                                c->s3.has_evicted ? Py_True : Py_False, "ghost", ghost);
    return r;
}

int
fc_s3_restore_config(CacheObject *c, PyObject *config)
{
    PyObject *ghost = PyDict_GetItemString(config, "ghost");
    PyObject *has_evicted = PyDict_GetItemString(config, "has_evicted");
    if (fc_s3_set_fractions(c, PyDict_GetItemString(config, "small_fraction"),
                            PyDict_GetItemString(config, "ghost_fraction")) < 0)
        return -1;
    int he = has_evicted != NULL ? PyObject_IsTrue(has_evicted) : 0;
    if (he < 0)
        return -1;
    c->s3.has_evicted = he;
    if (ghost == NULL || ghost == Py_None)
        return 0;
    if (!PyList_Check(ghost)) {
        PyErr_SetString(PyExc_ValueError, "invalid cache state: S3-FIFO ghost");
        return -1;
    }
    Py_INCREF(ghost);
    int r = 0;
    for (Py_ssize_t i = 0; r == 0 && i < PyList_GET_SIZE(ghost); i++) {
        PyObject *pair = PyList_GET_ITEM(ghost, i);
        Py_ssize_t hash, size;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyArg_ParseTuple(pair, "nn", &hash, &size) || size < 1 ||
            (Py_hash_t)hash == FC_GHOST_DEAD ||
            size > c->s3.gcap - c->s3.ghost.used) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError) ||
                PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "invalid cache state: S3-FIFO ghost");
            }
            r = -1;
            break;
        }
        Py_ssize_t before = c->s3.ghost.len;
        ghost_push(c, (Py_hash_t)hash, size);
        if (c->s3.ghost.len != before + 1) {  /* a duplicate, or no memory */
            PyErr_SetString(PyExc_ValueError, "invalid cache state: S3-FIFO ghost");
            r = -1;
        }
    }
    Py_DECREF(ghost);
    return r;
}
