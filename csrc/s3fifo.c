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
 * ghost; the C keeps both queues on one list and the ghost on a table of its own), and the
 * two pickles are not interchangeable.
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

/* Ghost entries are found by hash alone (no key is compared: no code runs). */
static fc_idx
ghost_find(fc_ghost *g, Py_hash_t hash)
{
    fc_table *t = &g->t;
    if (t->index == NULL)
        return FC_NOT_FOUND;
    for (size_t i = fc_home(t, hash);; i = (i + 1) & t->mask) {
        fc_idx ix = t->index[i];
        if (ix == FC_NIL || t->entries[ix].hash == hash)
            return ix;
    }
}

static int
ghost_resize(void *owner, Py_ssize_t cap)
{
    fc_ghost *g = owner;
    Py_ssize_t *sizes = PyMem_Realloc(g->sizes, (size_t)cap * sizeof(Py_ssize_t));
    if (sizes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    g->sizes = sizes;
    return 0;
}

static void
ghost_drop(fc_ghost *g, fc_idx ix)
{
    fc_list_unlink(g->t.entries, &g->order, ix);
    fc_index_remove(&g->t, ix);
    g->used -= g->sizes[ix];
    fc_entry_free(&g->t, ix);
    Py_DECREF(Py_None);
}

/* Remember the hash of a key evicted from small (dropping the oldest to make room). */
static void
ghost_push(CacheObject *c, Py_hash_t hash, Py_ssize_t size)
{
    fc_ghost *g = &c->s3.ghost;
    Py_ssize_t w = size > 0 ? size : 1;
    if (w > c->s3.gcap)
        return;
    fc_idx old = ghost_find(g, hash);
    if (old >= 0)
        ghost_drop(g, old);
    while (g->used > c->s3.gcap - w)
        ghost_drop(g, g->order.head);
    if (!fc_table_has_room(&g->t)) {  /* growing may raise: the exception set is kept */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        int r = fc_table_reserve(&g->t, FC_MAX_ENTRIES, ghost_resize, g);
        if (r < 0)
            PyErr_Clear();  /* nothing may fail here: the ghost forgets (difference 6) */
        PyErr_Restore(et, ev, tb);
        if (r < 0)
            return;
    }
    fc_idx ix = fc_entry_take(&g->t);
    fc_entry *e = &g->t.entries[ix];
    e->hash = hash;
    e->key = Py_NewRef(Py_None);
    e->value = NULL;
    fc_index_put(&g->t, ix);
    g->t.len++;
    fc_table_changed(&g->t);
    fc_list_append(g->t.entries, &g->order, ix);
    g->sizes[ix] = w;
    g->used += w;
}

static void
ghost_init(fc_ghost *g)
{
    fc_table_init(&g->t, 2);
    fc_list_init(&g->order);
    g->sizes = NULL;
    g->used = 0;
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
    fc_ghost *g = &s->ghost;
    Py_ssize_t top;
    fc_entry *entries = fc_table_detach(&g->t, &top);
    PyMem_Free(g->sizes);
    ghost_init(g);
    fc_entries_release(entries, top);
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
    fc_idx ix = ghost_find(&c->s3.ghost, hash);
    if (ix < 0)
        return 0;
    ghost_drop(&c->s3.ghost, ix);
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
    Py_ssize_t n = 0, used = 0;
    for (fc_idx ix = g->order.head; ix != FC_NIL; ix = g->t.entries[ix].next) {
        if (g->t.entries[ix].key != Py_None || g->sizes[ix] < 1 || ++n > g->t.len) {
            *what = "S3-FIFO ghost entries";
            return -1;
        }
        used += g->sizes[ix];
    }
    if (n != g->t.len || used != g->used || used > s->gcap) {
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
    PyObject *ghost = PyList_New(g->t.len);
    Py_ssize_t i = 0;
    for (fc_idx ix = g->order.head; ghost != NULL && ix != FC_NIL;
         ix = g->t.entries[ix].next) {
        PyObject *pair = Py_BuildValue("(nn)", (Py_ssize_t)g->t.entries[ix].hash, g->sizes[ix]);
        if (pair == NULL)
            Py_CLEAR(ghost);
        else
            PyList_SET_ITEM(ghost, i++, pair);
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
            size > c->s3.gcap - c->s3.ghost.used) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError) ||
                PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "invalid cache state: S3-FIFO ghost");
            }
            r = -1;
            break;
        }
        Py_ssize_t before = c->s3.ghost.t.len;
        ghost_push(c, (Py_hash_t)hash, size);
        if (c->s3.ghost.t.len != before + 1) {  /* a duplicate, or no memory */
            PyErr_SetString(PyExc_ValueError, "invalid cache state: S3-FIFO ghost");
            r = -1;
        }
    }
    Py_DECREF(ghost);
    return r;
}
