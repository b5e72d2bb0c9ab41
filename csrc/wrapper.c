/*
 * wrapper.c: the compiled call wrappers of fastcache's memoizing decorators (module
 * fastcache._core, which also holds the cache classes: core.h lists its files). The pure-Python twin, fastcache/_py/wrapper.py, is the
 * reference; fastcache/decorators.py chooses between them and does everything that is not
 * on the hot path (argument checks, update_wrapper, cache_parameters).
 *
 *   _lru_cache_wrapper(user_function, maxsize, typed, cache_info_type, *,
 *                      policy="lru", ttl=None, timer=None, single_flight=False)
 *       lru_cache/cache (functools' signature and behaviour), lfu/fifo/ttl_cache.
 *   _cached_wrapper(user_function, cache, key, make_info, *, lock=None,
 *                   single_flight=False, fast_hashkey=False, owner=None)
 *       cached()/cachedmethod() over any mapping (the same type's machinery: vectorcall,
 *       binding, pickling by name, GC, weakrefs, single flight); `owner`: per instance,
 *       the mapping is cache(owner), asked once per call as cachetools does.
 *
 * How it differs from the Python twin (behaviour is the same):
 *  1. Calls use vectorcall: no argument tuple is built on a hit. The key of a call is never
 *     built on a hit either: the arguments are hashed in place (the same xxHash combination
 *     as tuple.__hash__ over the flat key args + [mark, name, value]... + [types]) and
 *     compared element by element with the stored key. A key object is made on a miss only.
 *  2. A single positional argument of exact type int or str (typed=False) is stored as its
 *     own key: a hit allocates nothing. It hashes as the 1-tuple but only ever equals another
 *     such key, so f(3), f(3.0) and f(True) are three entries, as functools' _make_key.
 *  3. Storage: the open-addressing table of the cache classes (table.h) rather than a dict
 *     of link objects, because a dict cannot be probed without a key object (point 1):
 *     fc_lookup_with() compares stored keys with the arguments in place. Entries are a
 *     dense array of {hash, key, value, 32-bit prev/next} (32 bytes; TTL and LFU add a
 *     parallel 24-byte record); the index is a power-of-two array of entry numbers (12-24
 *     bytes per entry),
 *     linear probing, Fibonacci-hashed home slot, load <= 1/3 (the cache classes: 1/2),
 *     deletion by backward shift (no tombstones, so constant churn never degrades).
 *     ~50 bytes per entry in all, where functools' dict of link objects takes ~150.
 *     LFU: the cache classes' frequency groups on the eviction list (lfu.h).
 *     TTL: LRU order plus a write-order list; with one ttl per wrapper, write order is
 *     deadline order, so expiry pops exactly the expired entries from its head.
 *  4. time.monotonic as the TTL timer is read with clock_gettime directly, and a hit far
 *     from its deadline is decided with CLOCK_MONOTONIC_COARSE (see alive()).
 *  5. A miss does not probe the table a second time after the call when nothing was
 *     inserted or removed meanwhile (the version did not change).
 *
 * Reentrancy rules:
 *  - Each argument is hashed once per call (a miss reuses the hash for the insert).
 *  - Comparing keys may run __eq__, which may change this table. Every structural change
 *    bumps `version`; a lookup that sees it change during a comparison starts again
 *    (RuntimeError after FC_MAX_RESTARTS). Entry pointers are never kept across Python
 *    code; only entry numbers, and only while the version is unchanged.
 *  - User objects (evicted or expired keys and values) are decref'd only after the
 *    structure is consistent and the operation is complete (struct deferred).
 *  - Exceptions are never cached; an error from __hash__/__eq__ propagates.
 *  - Recursion: Py_EnterRecursiveCall around the user call, plus a check of the remaining
 *    C stack (Linux), so a deep memoised recursion raises RecursionError, never crashes.
 *  - Single flight: threads missing the same key wait for the one computing it (on a
 *    threading.Event made only when a second thread arrives); the owner thread re-entering
 *    for its own key does not wait.
 */
#include "core.h"
#include <structmember.h>
#include <string.h>
#if defined(__linux__)
#include <pthread.h>
#endif

#define STACK_MARGIN (256 * 1024)

enum { POLICY_LRU = 0, POLICY_FIFO = 1, POLICY_LFU = 2, POLICY_TTL = 3 };

/* the same constants as Objects/tupleobject.c */
#if SIZEOF_PY_UHASH_T > 4
#define XXPRIME_1 ((Py_uhash_t)11400714785074694791ULL)
#define XXPRIME_2 ((Py_uhash_t)14029467366897019727ULL)
#define XXPRIME_5 ((Py_uhash_t)2870177450012600261ULL)
#define XXROTATE(x) ((x << 31) | (x >> 33))
#else
#define XXPRIME_1 ((Py_uhash_t)2654435761UL)
#define XXPRIME_2 ((Py_uhash_t)2246822519UL)
#define XXPRIME_5 ((Py_uhash_t)374761393UL)
#define XXROTATE(x) ((x << 13) | (x >> 19))
#endif

/* The table (table.h): entries of 32 bytes {hash, key, value, prev, next}, where `key` is
   the argument itself (an exact int or str: "single") or the flat key tuple (an exact
   tuple), and prev/next link the policy list (head is evicted first). TTL adds an extra_t
   (16 bytes) per entry, LFU its group (lfu.h, 4 bytes). */
typedef struct {
    double deadline;     /* TTL */
    fc_idx wprev, wnext; /* TTL: write order */
} extra_t;

FC_LIST_OPS(wlist, extra_t, wprev, wnext)

#define IS_SINGLE(key) (!PyTuple_CheckExact(key))

/* One in-flight computation (single flight). */
typedef struct flight {
    struct flight *next;
    Py_hash_t hash;
    PyObject *key;      /* strong */
    void *owner;        /* thread token (its thread-state dict), compared only */
    int single;         /* key is the single argument itself */
    PyObject *event;    /* threading.Event, made when a second thread waits; strong */
} flight_t;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    fc_state *st;           /* its module's state (core.h), set once by tp_new */
    PyObject *func;
    PyObject *cache_info_type;
    PyObject *maxsize_obj;
    PyObject *timer;
    PyObject *dict;
    PyObject *weakreflist;
    Py_ssize_t maxsize;     /* bounded: evict beyond this */
    int bounded, typed, policy, fast_monotonic, single_flight;
    double ttl;
    Py_ssize_t hits, misses;
    /* table */
    fc_table t;             /* `version` is also bumped when a flight ends */
    extra_t *extra;         /* TTL: parallel to t.entries */
    fc_lfu lfu;             /* LFU */
    fc_list order;          /* the policy list: head is evicted first */
    fc_list worder;         /* TTL: write order (through extra) */
    flight_t *flights;
    /* mapping mode (cached(cache, key, lock)): the table above stays empty */
    PyObject *cache, *key, *lock;
    PyObject *owner;        /* cachedmethod: the instance; then `cache` is cache(owner) */
    PyObject *cache_attr;   /* ... or, when cache is `lambda self: self.<name>`, that name */
    int fast_hashkey;
} wrapper_t;


/* ---------------------------------------------------------------------------------- */
/* the key of a call, never materialised on a hit */

typedef struct {
    PyObject *const *args;   /* positional args then keyword values (vectorcall layout) */
    PyObject *kwnames;
    Py_ssize_t nargs, nkw, len;
    PyObject *single;        /* the argument that is its own key, or NULL */
    PyObject *mark;          /* separates args from keyword items (the module's kwd_mark) */
} vkey_t;

static inline PyObject *
vk_item(const vkey_t *vk, Py_ssize_t i)
{
    Py_ssize_t n = vk->nargs, k = vk->nkw;
    if (i < n) {
        return vk->args[i];
    }
    i -= n;
    if (k) {
        if (i == 0) {
            return vk->mark;
        }
        i -= 1;
        if (i < 2 * k) {
            return (i & 1) ? vk->args[n + i / 2] : PyTuple_GET_ITEM(vk->kwnames, i / 2);
        }
        i -= 2 * k;
    }
    return (PyObject *)Py_TYPE(vk->args[i]);   /* typed: types of args, then of kw values */
}

static Py_hash_t
vk_hash(const vkey_t *vk)
{
    Py_uhash_t acc = XXPRIME_5;
    for (Py_ssize_t i = 0; i < vk->len; i++) {
        Py_uhash_t lane = (Py_uhash_t)PyObject_Hash(vk_item(vk, i));
        if (lane == (Py_uhash_t)-1) {
            return -1;
        }
        acc += lane * XXPRIME_2;
        acc = XXROTATE(acc);
        acc *= XXPRIME_1;
    }
    acc += (Py_uhash_t)vk->len ^ (XXPRIME_5 ^ 3527539UL);
    if (acc == (Py_uhash_t)-1) {
        return 1546275796;
    }
    return (Py_hash_t)acc;
}

/* 1 equal, 0 not, -1 error. May run Python code. */
static int
vk_equal(const vkey_t *vk, PyObject *stored, int stored_single)
{
    /* an argument that is its own key (exact int/str) never equals a tuple key, as in
       functools: f(1) and f(1.0) or f(True) are distinct entries */
    if (stored_single != (vk->single != NULL)) {
        return 0;
    }
    Py_ssize_t slen = stored_single ? 1 : PyTuple_GET_SIZE(stored);
    if (slen != vk->len) {
        return 0;
    }
    /* stored == probe, in this order, as a dict of functools' keys compares them */
    if (stored_single) {
        return PyObject_RichCompareBool(stored, vk_item(vk, 0), Py_EQ);
    }
    for (Py_ssize_t i = 0; i < slen; i++) {
        PyObject *a = vk_item(vk, i), *b = PyTuple_GET_ITEM(stored, i);
        if (a == b) {
            continue;
        }
        int r = PyObject_RichCompareBool(b, a, Py_EQ);
        if (r <= 0) {
            return r;
        }
    }
    return 1;
}

static PyObject *
vk_materialise(const vkey_t *vk)
{
    if (vk->single) {
        Py_INCREF(vk->single);
        return vk->single;
    }
    PyObject *t = PyTuple_New(vk->len);
    if (t == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < vk->len; i++) {
        PyObject *o = vk_item(vk, i);
        Py_INCREF(o);
        PyTuple_SET_ITEM(t, i, o);
    }
    return t;
}

/* ---------------------------------------------------------------------------------- */
/* the table */

static int
vk_eq(const void *vk, PyObject *stored)
{
    return vk_equal(vk, stored, IS_SINGLE(stored));
}

/* The entry of the call's key: its index, FC_NOT_FOUND, or FC_ERROR (exception set). */
static fc_idx
lookup(wrapper_t *w, const vkey_t *vk, Py_hash_t h)
{
    return fc_lookup_with(&w->t, h, vk->single, vk_eq, vk);
}

/* The arrays parallel to the entries (table.h's fc_resize_fn). */
static int
wrapper_resize(void *owner, Py_ssize_t cap)
{
    wrapper_t *w = owner;
    if (w->policy == POLICY_TTL) {
        extra_t *extra = PyMem_Realloc(w->extra, (size_t)cap * sizeof(extra_t));
        if (extra == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        w->extra = extra;
    }
    if (w->policy == POLICY_LFU) {
        return fc_lfu_resize(&w->lfu, cap);
    }
    return 0;
}

/* Room for one more entry (table.c's one growth mechanism). */
static int
reserve(wrapper_t *w)
{
    return fc_table_reserve(&w->t, w->bounded ? w->maxsize : FC_MAX_ENTRIES, wrapper_resize, w);
}

/* Remove entry ix entirely; its key and value go to `d` (released once the call is
   complete, never reported). */
static void
remove_entry(wrapper_t *w, fc_idx ix, fc_pending *d)
{
    fc_index_remove(&w->t, ix);
    if (w->bounded || w->policy == POLICY_TTL) {
        if (w->policy == POLICY_LFU) {
            fc_lfu_leave(&w->lfu, w->t.entries, ix);
        }
        fc_list_unlink(w->t.entries, &w->order, ix);
        if (w->policy == POLICY_TTL) {
            wlist_unlink(w->extra, &w->worder, ix);
        }
    }
    fc_entry *e = &w->t.entries[ix];
    PyObject *key = e->key, *value = e->value;
    fc_entry_free(&w->t, ix);
    fc_pending_push(d, key, value, NULL, 0, 0);
}

/* A new entry for a key known to be absent. Steals key; borrows value. */
static int
insert_new(wrapper_t *w, Py_hash_t h, PyObject *key, PyObject *value, double now,
           fc_pending *d)
{
    if (w->bounded && w->t.len >= w->maxsize && w->order.head != FC_NIL) {
        remove_entry(w, w->order.head, d);
    }
    if (reserve(w) < 0) {
        Py_DECREF(key);
        return -1;
    }
    fc_idx ix = fc_entry_take(&w->t);
    fc_entry *e = &w->t.entries[ix];
    e->hash = h;
    e->key = key;
    Py_INCREF(value);
    e->value = value;
    if (w->policy == POLICY_TTL) {
        w->extra[ix].deadline = now + w->ttl;
    }
    if (w->bounded || w->policy == POLICY_TTL) {
        if (w->policy == POLICY_LFU) {
            fc_lfu_enter(&w->lfu, w->t.entries, &w->order, ix, 1);
        }
        else {
            fc_list_append(w->t.entries, &w->order, ix);
        }
        if (w->policy == POLICY_TTL) {
            wlist_append(w->extra, &w->worder, ix);
        }
    }
    fc_index_put(&w->t, ix);
    w->t.len++;
    fc_table_changed(&w->t);
    return 0;
}

static void
expire(wrapper_t *w, double now, fc_pending *d)
{
    while (w->worder.head != FC_NIL && !(now < w->extra[w->worder.head].deadline)) {
        remove_entry(w, w->worder.head, d);
    }
}

/* An empty table (no allocation until the first insert). */
static void
init_table(wrapper_t *w)
{
    fc_table_init(&w->t, 3);   /* load <= 1/3: see the notes at the top, point 3 */
    w->extra = NULL;
    fc_lfu_init(&w->lfu);
    fc_list_init(&w->order);
    fc_list_init(&w->worder);
}

/* Detach everything (the table is empty and consistent afterwards), then release. */
static void
clear_table(wrapper_t *w)
{
    Py_ssize_t top;
    fc_entry *entries = fc_table_detach(&w->t, &top);
    fc_lfu_free(&w->lfu);
    PyMem_Free(w->extra);
    init_table(w);
    fc_entries_release(entries, top);
}

/* ---------------------------------------------------------------------------------- */
/* time (clock.h), recursion */

/* TTL entry ix alive at `now` (the user's timer), or at time.monotonic() */
static inline int
alive(wrapper_t *w, fc_idx ix, double now)
{
    double deadline = w->extra[ix].deadline;
    if (!w->fast_monotonic) {
        return now < deadline;
    }
    return fc_monotonic_before(deadline);
}

static int
get_now(wrapper_t *w, double *now)
{
    if (w->policy != POLICY_TTL) {
        *now = 0.0;
        return 0;
    }
    if (w->fast_monotonic) {
        *now = fc_clock_monotonic();
        return 0;
    }
    return fc_call_timer(w->timer, now);
}

#if defined(__linux__)
#if defined(__GNUC__)
static __thread uintptr_t stack_floor __attribute__((tls_model("initial-exec")));
#else
static _Thread_local uintptr_t stack_floor;
#endif

static int
stack_exhausted(void)
{
    char here;
    if (stack_floor == 0) {
        pthread_attr_t attr;
        void *addr;
        size_t size;
        stack_floor = 1;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
                /* keep STACK_MARGIN (a quarter of a small stack) for what runs below us */
                size_t margin = size / 4 < STACK_MARGIN ? size / 4 : STACK_MARGIN;
                stack_floor = (uintptr_t)addr + margin;
            }
            pthread_attr_destroy(&attr);
        }
    }
    return (uintptr_t)&here < stack_floor;
}
#else
static int stack_exhausted(void) { return 0; }
#endif

static PyObject *
call_user(wrapper_t *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (stack_exhausted()) {
        PyErr_SetString(PyExc_RecursionError,
                        "maximum recursion depth exceeded (C stack) in a cached function");
        return NULL;
    }
    if (Py_EnterRecursiveCall(" in a cached function")) {
        return NULL;
    }
    PyObject *r = PyObject_Vectorcall(w->func, args, nargsf, kwnames);
    Py_LeaveRecursiveCall();
    return r;
}

/* ---------------------------------------------------------------------------------- */
/* single flight */

/* The flight computing the key: the call's key `vk` (wrapper mode) or the key object
   `key` (mapping mode). NULL: none, or an error (*err set). */
static flight_t *
flight_find(wrapper_t *w, const vkey_t *vk, PyObject *key, Py_hash_t h, int *err)
{
    PyObject *same = vk != NULL ? vk->single : key;
    int restarts = 0;
restart:
    for (flight_t *f = w->flights; f != NULL; f = f->next) {
        if (f->hash != h) {
            continue;
        }
        if (same != NULL && f->key == same) {
            return f;
        }
        PyObject *stored = f->key;
        Py_INCREF(stored);
        /* flight_end bumps the version: f is only used if unchanged; as in table.h, only
           changes made by the comparison itself count towards the restart bound */
        uint64_t version = w->t.version, own = w->t.own_changes;
        void *outer = fc_compare_begin(&w->t);
        int r = vk != NULL ? vk_equal(vk, stored, f->single)
                           : PyObject_RichCompareBool(stored, key, Py_EQ);
        fc_compare_end(&w->t, outer);
        Py_DECREF(stored);
        if (r < 0) {
            *err = 1;
            return NULL;
        }
        if (w->t.version != version) {
            if (own != w->t.own_changes && fc_restart(&restarts) < 0) {
                *err = 1;
                return NULL;
            }
            goto restart;
        }
        if (r) {
            return f;
        }
    }
    return NULL;
}

static void
flight_end(wrapper_t *w, flight_t *mine)
{
    flight_t **p = &w->flights;
    while (*p != mine) {
        p = &(*p)->next;
    }
    *p = mine->next;
    fc_table_changed(&w->t);
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    if (mine->event != NULL) {
        PyObject *r = PyObject_CallMethod(mine->event, "set", NULL);
        if (r == NULL) {
            PyErr_WriteUnraisable(mine->event);
        }
        Py_XDECREF(r);
    }
    Py_XDECREF(mine->event);
    Py_DECREF(mine->key);
    PyMem_Free(mine);
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

/* Register this thread as computing `key` (a new reference is taken). NULL: error. */
static flight_t *
flight_start(wrapper_t *w, PyObject *key, Py_hash_t h, int single, void *me)
{
    flight_t *mine = PyMem_Malloc(sizeof(flight_t));
    if (mine == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_INCREF(key);
    mine->key = key;
    mine->hash = h;
    mine->single = single;
    mine->owner = me;
    mine->event = NULL;
    mine->next = w->flights;
    w->flights = mine;
    return mine;
}

/* Wait until flight f ends (another thread computes our key). 0: look again; -1: error. */
static int
flight_wait(wrapper_t *w, flight_t *f)
{
    if (f->event == NULL) {
        PyObject *ev = PyObject_CallNoArgs(w->st->event_type);
        if (ev == NULL) {
            return -1;
        }
        /* making it ran Python code: f may have ended meanwhile */
        flight_t *g;
        for (g = w->flights; g != NULL && g != f; g = g->next) {
        }
        if (g == NULL) {
            Py_DECREF(ev);
            return 0;
        }
        if (f->event == NULL) {
            f->event = ev;
        }
        else {
            Py_DECREF(ev);
        }
    }
    PyObject *ev = f->event;
    Py_INCREF(ev);
    PyObject *r = PyObject_CallMethod(ev, "wait", NULL);
    Py_DECREF(ev);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* the call */

static PyObject *
hit_value(wrapper_t *w, fc_idx ix)
{
    if (w->bounded) {
        if (w->policy == POLICY_LFU) {
            fc_lfu_touch(&w->lfu, w->t.entries, &w->order, ix);
        }
        else if (w->policy != POLICY_FIFO) {
            fc_list_move_to_tail(w->t.entries, &w->order, ix);
        }
    }
    w->hits++;
    PyObject *v = w->t.entries[ix].value;
    Py_INCREF(v);
    return v;
}

static PyObject *
wrapper_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    wrapper_t *w = (wrapper_t *)self;
    vkey_t vk;
    double now;
    Py_hash_t h;
    fc_idx ix;

    if (!w->bounded || w->maxsize > 0) {
        vk.args = args;
        vk.nargs = PyVectorcall_NARGS(nargsf);
        vk.kwnames = kwnames;
        vk.mark = w->st->kwd_mark;
        vk.nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
        vk.single = NULL;
        if (vk.nkw == 0 && vk.nargs == 1 && !w->typed) {
            PyObject *a = args[0];
            if (PyLong_CheckExact(a) || PyUnicode_CheckExact(a)) {
                vk.single = a;
            }
        }
        vk.len = vk.nargs + (vk.nkw ? 1 + 2 * vk.nkw : 0) + (w->typed ? vk.nargs + vk.nkw : 0);
    }
    else {
        w->misses++;
        return call_user(w, args, nargsf, kwnames);
    }
    if (vk.single) {
        Py_uhash_t lane = (Py_uhash_t)PyObject_Hash(vk.single);
        Py_uhash_t acc = XXPRIME_5 + lane * XXPRIME_2;
        acc = XXROTATE(acc);
        acc *= XXPRIME_1;
        acc += (Py_uhash_t)1 ^ (XXPRIME_5 ^ 3527539UL);
        h = (acc == (Py_uhash_t)-1) ? 1546275796 : (Py_hash_t)acc;
    }
    else {
        h = vk_hash(&vk);
        if (h == -1) {
            return NULL;
        }
    }

    flight_t *mine = NULL;
    uint64_t absent_since;   /* the version at which the key was seen absent */
    for (;;) {
        /* the user's timer runs before the lookup (it is Python code); time.monotonic is
           read only on a hit, and then mostly the coarse clock (alive()) */
        now = 0.0;
        if (!w->fast_monotonic && get_now(w, &now) < 0) {
            return NULL;
        }
        ix = lookup(w, &vk, h);
        absent_since = w->t.version;
        if (ix == FC_ERROR) {
            return NULL;
        }
        if (ix >= 0 && (w->policy != POLICY_TTL || alive(w, ix, now))) {
            return hit_value(w, ix);
        }
        if (!w->single_flight) {
            break;
        }
        int err = 0;
        flight_t *f = flight_find(w, &vk, NULL, h, &err);
        if (err) {
            return NULL;
        }
        void *me = (void *)PyThreadState_GetDict();
        if (f == NULL) {
            PyObject *key = vk_materialise(&vk);
            if (key == NULL) {
                return NULL;
            }
            mine = flight_start(w, key, h, vk.single != NULL, me);
            Py_DECREF(key);
            if (mine == NULL) {
                return NULL;
            }
            break;
        }
        if (f->owner == me) {
            break;    /* recursion into a key this thread is computing: do not wait */
        }
        if (flight_wait(w, f) < 0) {
            return NULL;
        }
    }

    w->misses++;
    PyObject *result = call_user(w, args, nargsf, kwnames);
    if (result == NULL) {
        if (mine) {
            flight_end(w, mine);
        }
        return NULL;
    }

    fc_pending d;
    fc_pending_init(&d);
    int failed = 0;
    if (get_now(w, &now) < 0) {
        failed = 1;
    }
    else {
        if (w->policy == POLICY_TTL) {
            expire(w, now, &d);
        }
        /* Everything that allocates Python objects (and so may run the collector, and
           finalizers calling us again) happens before the last lookup: from it to the
           insert no Python code runs, so "absent" stays true. */
        PyObject *key = vk_materialise(&vk);
        if (key == NULL) {
            Py_XDECREF(key);
            failed = 1;
        }
        else {
            /* nothing was inserted or removed since we saw the key absent: it still is
               (the usual case; the user function ran no reentrant call) */
            ix = (w->t.version == absent_since) ? FC_NOT_FOUND : lookup(w, &vk, h);
            if (ix == FC_ERROR) {
                failed = 1;
            }
            else if (ix >= 0 && w->policy == POLICY_TTL && !(now < w->extra[ix].deadline)) {
                remove_entry(w, ix, &d);   /* expired, not reclaimed (timer went back) */
                ix = FC_NOT_FOUND;
            }
            if (!failed && ix == FC_NOT_FOUND) {
                /* absent: nobody stored it meanwhile (recursion, another thread) */
                if (insert_new(w, h, key, result, now, &d) < 0) {
                    failed = 1;
                }
            }
            else {
                Py_DECREF(key);
            }
        }
    }
    if (mine) {
        flight_end(w, mine);
    }
    fc_pending_finish(&d, NULL);
    if (failed) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

/* ---------------------------------------------------------------------------------- */
/* mapping mode: cachetools' cached(cache, key, lock) over any mapping */

static int
lock_enter(wrapper_t *w)
{
    if (w->lock == NULL) {
        return 0;
    }
    PyObject *r = PyObject_CallMethodNoArgs(w->lock, w->st->str_enter);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* Leaves the lock; a pending exception survives (an error from __exit__ replaces it). */
static int
lock_exit(wrapper_t *w)
{
    if (w->lock == NULL) {
        return 0;
    }
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *r = PyObject_CallMethodObjArgs(w->lock, w->st->str_exit, Py_None, Py_None, Py_None,
                                             NULL);
    if (r == NULL) {
        Py_XDECREF(exc_type);
        Py_XDECREF(exc_value);
        Py_XDECREF(exc_tb);
        return -1;
    }
    Py_DECREF(r);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    return 0;
}

static PyObject *
mapping_key(wrapper_t *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (w->fast_hashkey && (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0)) {
        /* hashkey(*args) is the argument tuple itself */
        PyObject *t = PyTuple_New(nargs);
        if (t == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < nargs; i++) {
            Py_INCREF(args[i]);
            PyTuple_SET_ITEM(t, i, args[i]);
        }
        return t;
    }
    return PyObject_Vectorcall(w->key, args, nargsf, kwnames);
}

/* The mapping: `cache`, or cache(owner) for a cachedmethod (asked once per call). */
static PyObject *
current_cache(wrapper_t *w)
{
    if (w->cache_attr != NULL) {
        return PyObject_GetAttr(w->owner, w->cache_attr);
    }
    if (w->owner != NULL) {
        return PyObject_CallOneArg(w->cache, w->owner);
    }
    Py_INCREF(w->cache);
    return w->cache;
}

/* cache[key] as a new reference; NULL without an exception when absent (KeyError). */
static PyObject *
mapping_get(PyObject *cache, PyObject *key)
{
    PyObject *v;
    if (PyDict_CheckExact(cache)) {
        v = PyDict_GetItemWithError(cache, key);
        Py_XINCREF(v);
        return v;
    }
    v = PyObject_GetItem(cache, key);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
    }
    return v;
}

static PyObject *
mapping_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    wrapper_t *w = (wrapper_t *)self;
    PyObject *cache = current_cache(w);
    if (cache == NULL) {
        return NULL;
    }
    PyObject *key = mapping_key(w, args, nargsf, kwnames);
    if (key == NULL) {
        Py_DECREF(cache);
        return NULL;
    }
    flight_t *mine = NULL;
    Py_hash_t h = -1;
    for (;;) {
        if (lock_enter(w) < 0) {
            goto error;
        }
        PyObject *v = mapping_get(cache, key);
        if (v != NULL) {
            w->hits++;
        }
        else if (!PyErr_Occurred() && !w->single_flight) {
            w->misses++;
        }
        if (lock_exit(w) < 0) {
            Py_XDECREF(v);
            goto error;
        }
        if (v != NULL) {
            Py_DECREF(key);
            Py_DECREF(cache);
            return v;
        }
        if (PyErr_Occurred()) {
            goto error;
        }
        if (!w->single_flight) {
            break;
        }
        if (h == -1 && (h = PyObject_Hash(key)) == -1) {
            goto error;
        }
        int err = 0;
        flight_t *f = flight_find(w, NULL, key, h, &err);
        if (err) {
            goto error;
        }
        void *me = (void *)PyThreadState_GetDict();
        if (f == NULL || f->owner == me) {   /* ours, or recursion into our own key */
            if (f == NULL && (mine = flight_start(w, key, h, 0, me)) == NULL) {
                goto error;
            }
            w->misses++;
            break;
        }
        if (flight_wait(w, f) < 0) {
            goto error;
        }
    }

    PyObject *result = call_user(w, args, nargsf, kwnames);
    if (result != NULL) {
        if (w->lock != NULL) {
            /* as cachetools: prefer a value another thread stored meanwhile */
            if (lock_enter(w) < 0) {
                Py_CLEAR(result);
            }
            else {
                PyObject *r = PyObject_CallMethodObjArgs(cache, w->st->str_setdefault, key,
                                                         result, NULL);
                if (r == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
                    PyErr_Clear();   /* value too large */
                    Py_INCREF(result);
                    r = result;
                }
                Py_DECREF(result);
                result = r;
                if (lock_exit(w) < 0) {
                    Py_CLEAR(result);
                }
            }
        }
        else {
            int r = PyDict_CheckExact(cache) ? PyDict_SetItem(cache, key, result)
                                              : PyObject_SetItem(cache, key, result);
            if (r < 0) {
                if (PyErr_ExceptionMatches(PyExc_ValueError)) {
                    PyErr_Clear();   /* value too large */
                }
                else {
                    Py_CLEAR(result);
                }
            }
        }
    }
    if (mine) {
        flight_end(w, mine);
    }
    Py_DECREF(key);
    Py_DECREF(cache);
    return result;

error:
    Py_DECREF(key);
    Py_DECREF(cache);
    return NULL;
}

/* ---------------------------------------------------------------------------------- */
/* the type */

static PyObject *
wrapper_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"user_function", "maxsize", "typed", "cache_info_type",
                             "policy", "ttl", "timer", "single_flight", NULL};
    PyObject *func, *maxsize_obj, *cache_info_type, *ttl_obj = Py_None, *timer = Py_None;
    int typed, single_flight = 0;
    const char *policy = "lru";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOpO|$sOOp:_lru_cache_wrapper", kwlist,
                                     &func, &maxsize_obj, &typed, &cache_info_type,
                                     &policy, &ttl_obj, &timer, &single_flight)) {
        return NULL;
    }
    if (!PyCallable_Check(func)) {
        PyErr_SetString(PyExc_TypeError, "the first argument must be callable");
        return NULL;
    }
    int pol;
    if (strcmp(policy, "lru") == 0) pol = POLICY_LRU;
    else if (strcmp(policy, "fifo") == 0) pol = POLICY_FIFO;
    else if (strcmp(policy, "lfu") == 0) pol = POLICY_LFU;
    else if (strcmp(policy, "ttl") == 0) pol = POLICY_TTL;
    else {
        PyErr_Format(PyExc_ValueError, "unknown policy '%s'", policy);
        return NULL;
    }
    int bounded;
    Py_ssize_t maxsize = 0;
    PyObject *reported = NULL;   /* maxsize as cache_info reports it (as given, >= 0) */
    if (maxsize_obj == Py_None) {
        bounded = 0;
    }
    else if (PyIndex_Check(maxsize_obj)) {
        bounded = 1;
        maxsize = PyNumber_AsSsize_t(maxsize_obj, NULL);   /* clamps on overflow */
        if (maxsize == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (maxsize < 0) {
            maxsize = 0;
        }
        if (maxsize > FC_MAX_ENTRIES) {
            maxsize = FC_MAX_ENTRIES;   /* evict from there on (cache_info still says maxsize) */
        }
    }
    else {
        PyErr_SetString(PyExc_TypeError, "maxsize should be integer or None");
        return NULL;
    }
    double ttl = 0.0;
    if (pol == POLICY_TTL) {
        if (ttl_obj == Py_None || timer == Py_None) {
            PyErr_SetString(PyExc_TypeError, "the ttl policy needs ttl and timer");
            return NULL;
        }
        ttl = PyFloat_AsDouble(ttl_obj);
        if (ttl == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (!(ttl > 0)) {
            PyErr_SetString(PyExc_ValueError, "ttl must be positive");
            return NULL;
        }
        if (!PyCallable_Check(timer)) {
            PyErr_SetString(PyExc_TypeError, "timer must be callable");
            return NULL;
        }
    }
    if (bounded) {
        /* as given, as an int (functools' C wrapper: True reports 1) */
        reported = maxsize > 0 ? PyNumber_Index(maxsize_obj) : PyLong_FromLong(0);
        if (reported == NULL) {
            return NULL;
        }
    }
    fc_state *st = fc_state_of_type(type);
    wrapper_t *w = st == NULL ? NULL : (wrapper_t *)type->tp_alloc(type, 0);
    if (w == NULL) {
        Py_XDECREF(reported);
        return NULL;
    }
    w->st = st;
    w->vectorcall = wrapper_vectorcall;
    Py_INCREF(func);
    w->func = func;
    Py_INCREF(cache_info_type);
    w->cache_info_type = cache_info_type;
    if (bounded) {
        w->maxsize_obj = reported;   /* steals */
        reported = NULL;
    }
    else {
        Py_INCREF(Py_None);
        w->maxsize_obj = Py_None;
    }
    if (pol == POLICY_TTL) {
        Py_INCREF(timer);
        w->timer = timer;
        w->fast_monotonic = FC_NATIVE_CLOCKS && timer == st->time_monotonic;
    }
    w->maxsize = maxsize;
    w->bounded = bounded;
    w->typed = typed;
    w->policy = pol;
    w->ttl = ttl;
    w->single_flight = single_flight && (!bounded || maxsize > 0);
    init_table(w);
    return (PyObject *)w;
}

static int
wrapper_traverse(wrapper_t *w, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(w));
    Py_VISIT(w->func);
    Py_VISIT(w->cache_info_type);
    Py_VISIT(w->maxsize_obj);
    Py_VISIT(w->timer);
    Py_VISIT(w->dict);
    Py_VISIT(w->cache);
    Py_VISIT(w->owner);
    Py_VISIT(w->cache_attr);
    Py_VISIT(w->key);
    Py_VISIT(w->lock);
    for (Py_ssize_t i = 0; i < w->t.top; i++) {
        Py_VISIT(w->t.entries[i].key);
        Py_VISIT(w->t.entries[i].value);
    }
    for (flight_t *f = w->flights; f != NULL; f = f->next) {
        Py_VISIT(f->key);
        Py_VISIT(f->event);
    }
    return 0;
}

static int
wrapper_clear(wrapper_t *w)
{
    clear_table(w);
    Py_CLEAR(w->func);
    Py_CLEAR(w->cache_info_type);
    Py_CLEAR(w->maxsize_obj);
    Py_CLEAR(w->timer);
    Py_CLEAR(w->dict);
    Py_CLEAR(w->cache);
    Py_CLEAR(w->owner);
    Py_CLEAR(w->cache_attr);
    Py_CLEAR(w->key);
    Py_CLEAR(w->lock);
    return 0;
}

static void
wrapper_dealloc(wrapper_t *w)
{
    PyObject_GC_UnTrack(w);
    if (w->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)w);
    }
    wrapper_clear(w);
    fc_free_object((PyObject *)w);
}

static PyObject *
wrapper_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == Py_None || obj == NULL) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static PyObject *
wrapper_cache_info(wrapper_t *w, PyObject *unused)
{
    if (w->policy == POLICY_TTL) {
        double now;
        fc_pending d;
        fc_pending_init(&d);
        if (get_now(w, &now) < 0) {
            return NULL;
        }
        expire(w, now, &d);
        fc_pending_finish(&d, NULL);
    }
    return PyObject_CallFunction(w->cache_info_type, "nnOn", w->hits, w->misses,
                                 w->maxsize_obj, w->t.len);
}

static PyObject *
wrapper_cache_clear(wrapper_t *w, PyObject *unused)
{
    w->hits = w->misses = 0;
    clear_table(w);
    Py_RETURN_NONE;
}

static PyObject *
wrapper_reduce(PyObject *self, PyObject *unused)
{
    return PyObject_GetAttrString(self, "__qualname__");
}

static PyObject *
wrapper_copy(PyObject *self, PyObject *unused)
{
    Py_INCREF(self);
    return self;
}

static PyObject *
wrapper_deepcopy(PyObject *self, PyObject *memo)
{
    Py_INCREF(self);
    return self;
}

static PyMethodDef wrapper_methods[] = {
    {"cache_info", (PyCFunction)wrapper_cache_info, METH_NOARGS,
     "Report cache statistics: CacheInfo(hits, misses, maxsize, currsize)."},
    {"cache_clear", (PyCFunction)wrapper_cache_clear, METH_NOARGS,
     "Clear the cache and cache statistics."},
    {"__reduce__", (PyCFunction)wrapper_reduce, METH_NOARGS, NULL},
    {"__copy__", (PyCFunction)wrapper_copy, METH_NOARGS, NULL},
    {"__deepcopy__", (PyCFunction)wrapper_deepcopy, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef wrapper_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef wrapper_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(wrapper_t, dict), READONLY, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(wrapper_t, weakreflist), READONLY, NULL},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(wrapper_t, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}
};

PyDoc_STRVAR(wrapper_doc,
"_lru_cache_wrapper(user_function, maxsize, typed, cache_info_type, *, policy='lru',\n"
"                   ttl=None, timer=None, single_flight=False)\n\n"
"Compiled call wrapper of fastcache's memoizing decorators.");

/* what the two types (_lru_cache_wrapper, _cached_wrapper) share */
#define WRAPPER_COMMON_SLOTS                        \
    {Py_tp_dealloc, wrapper_dealloc},               \
    {Py_tp_call, PyVectorcall_Call},                \
    {Py_tp_traverse, wrapper_traverse},             \
    {Py_tp_clear, wrapper_clear},                   \
    {Py_tp_members, wrapper_members},               \
    {Py_tp_descr_get, wrapper_descr_get}

#define WRAPPER_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL \
                       | Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_IMMUTABLETYPE)

static PyType_Slot wrapper_slots[] = {
    WRAPPER_COMMON_SLOTS,
    {Py_tp_doc, (void *)wrapper_doc},
    {Py_tp_methods, wrapper_methods},
    {Py_tp_getset, wrapper_getset},
    {Py_tp_new, wrapper_new},
    {0, NULL},
};

static PyType_Spec wrapper_spec = {
    .name = "fastcache._core._lru_cache_wrapper",
    .basicsize = sizeof(wrapper_t),
    .flags = WRAPPER_FLAGS,
    .slots = wrapper_slots,
};

/* --- the mapping-mode type: cached(cache, key, lock, info) ----------------------- */

static PyObject *
mapping_cache_info_call(PyObject *self, PyObject *unused)
{
    wrapper_t *w = (wrapper_t *)self;
    if (lock_enter(w) < 0) {
        return NULL;
    }
    PyObject *cache = current_cache(w);
    PyObject *r = cache == NULL ? NULL : PyObject_CallFunction(w->cache_info_type, "Onn",
                                                               cache, w->hits, w->misses);
    Py_XDECREF(cache);
    if (lock_exit(w) < 0) {
        Py_XDECREF(r);
        return NULL;
    }
    return r;
}

static PyMethodDef mapping_cache_info_def = {
    "cache_info", mapping_cache_info_call, METH_NOARGS,
    "Report cache statistics: CacheInfo(hits, misses, maxsize, currsize)."
};

/* cache_info exists only when the wrapper was made with info=True (as cachetools) */
static PyObject *
mapping_get_cache_info(PyObject *self, void *closure)
{
    wrapper_t *w = (wrapper_t *)self;
    if (w->cache_info_type == Py_None) {
        PyErr_SetString(PyExc_AttributeError, "cache_info (decorate with info=True)");
        return NULL;
    }
    return PyCFunction_New(&mapping_cache_info_def, self);
}

static PyObject *
mapping_cache_clear(PyObject *self, PyObject *unused)
{
    wrapper_t *w = (wrapper_t *)self;
    if (lock_enter(w) < 0) {
        return NULL;
    }
    PyObject *cache = current_cache(w);
    PyObject *r = cache == NULL ? NULL : PyObject_CallMethodNoArgs(cache, w->st->str_clear);
    Py_XDECREF(cache);
    if (r != NULL) {
        w->hits = w->misses = 0;
    }
    if (lock_exit(w) < 0) {
        Py_XDECREF(r);
        return NULL;
    }
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyMethodDef mapping_methods[] = {
    {"cache_clear", mapping_cache_clear, METH_NOARGS, "Clear the cache and statistics."},
    {"__reduce__", (PyCFunction)wrapper_reduce, METH_NOARGS, NULL},
    {"__copy__", (PyCFunction)wrapper_copy, METH_NOARGS, NULL},
    {"__deepcopy__", (PyCFunction)wrapper_deepcopy, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};

static PyObject *
mapping_get_cache(PyObject *self, void *closure)
{
    return current_cache((wrapper_t *)self);
}

static PyGetSetDef mapping_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"cache_info", mapping_get_cache_info, NULL, NULL, NULL},
    {"cache", mapping_get_cache, NULL, "The mapping results are kept in.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

PyDoc_STRVAR(mapping_doc,
"_cached_wrapper(user_function, cache, key, make_info, *, lock=None, single_flight=False,\n"
"                fast_hashkey=False, owner=None, cache_attr=None)\n\n"
"Compiled call wrapper of fastcache.cached(): memoizes in any mapping, as cachetools.\n"
"With owner (cachedmethod, per instance), cache is a function: the mapping is\n"
"cache(owner), asked once per call; cache_attr: cache is `lambda self: self.<cache_attr>`,\n"
"read as that attribute (the same lookup, without a Python frame).");

static PyObject *
mapping_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"user_function", "cache", "key", "make_info", "lock",
                             "single_flight", "fast_hashkey", "owner", "cache_attr", NULL};
    PyObject *func, *cache, *key, *make_info, *lock = Py_None, *owner = NULL;
    PyObject *cache_attr = NULL;
    int single_flight = 0, fast_hashkey = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO|$OppOO:_cached_wrapper", kwlist,
                                     &func, &cache, &key, &make_info, &lock,
                                     &single_flight, &fast_hashkey, &owner, &cache_attr)) {
        return NULL;
    }
    if (cache_attr == Py_None) {
        cache_attr = NULL;
    }
    if (cache_attr != NULL && (!PyUnicode_Check(cache_attr) || owner == NULL
                               || owner == Py_None)) {
        PyErr_SetString(PyExc_TypeError, "cache_attr must be a str, with an owner");
        return NULL;
    }
    if (owner == Py_None) {
        owner = NULL;
    }
    if (owner != NULL && !PyCallable_Check(cache)) {
        PyErr_SetString(PyExc_TypeError, "with an owner, cache must be callable");
        return NULL;
    }
    if (!PyCallable_Check(func) || !PyCallable_Check(key)) {
        PyErr_SetString(PyExc_TypeError, "user_function and key must be callable");
        return NULL;
    }
    fc_state *st = fc_state_of_type(type);
    wrapper_t *w = st == NULL ? NULL : (wrapper_t *)type->tp_alloc(type, 0);
    if (w == NULL) {
        return NULL;
    }
    w->st = st;
    w->vectorcall = mapping_vectorcall;
    Py_INCREF(func);
    w->func = func;
    Py_INCREF(cache);
    w->cache = cache;
    Py_INCREF(key);
    w->key = key;
    Py_INCREF(make_info);
    w->cache_info_type = make_info;
    if (lock != Py_None) {
        Py_INCREF(lock);
        w->lock = lock;
    }
    Py_XINCREF(owner);
    w->owner = owner;
    Py_XINCREF(cache_attr);
    w->cache_attr = cache_attr;
    w->single_flight = single_flight;
    w->fast_hashkey = fast_hashkey;
    init_table(w);
    return (PyObject *)w;
}

/* cachetools 8's reprs: <cached <function f ...>>, and for a bound cachedmethod
   <cachedmethod <function C.m ...> of <C object at ...>> */
static PyObject *
mapping_repr(PyObject *self)
{
    wrapper_t *w = (wrapper_t *)self;
    PyObject *wrapped = PyObject_GetAttrString(self, "__wrapped__");
    if (wrapped == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        wrapped = Py_NewRef(w->func);
    }
    PyObject *r;
    if (w->owner == NULL) {
        r = PyUnicode_FromFormat("<cached %R>", wrapped);
    }
    else {
        PyObject *owner = Py_NewRef(w->owner);
        PyObject *of = PyBaseObject_Type.tp_repr(owner);
        r = of == NULL ? NULL : PyUnicode_FromFormat("<cachedmethod %R of %U>", wrapped, of);
        Py_XDECREF(of);
        Py_DECREF(owner);
    }
    Py_DECREF(wrapped);
    return r;
}

static PyType_Slot mapping_slots[] = {
    WRAPPER_COMMON_SLOTS,
    {Py_tp_doc, (void *)mapping_doc},
    {Py_tp_methods, mapping_methods},
    {Py_tp_getset, mapping_getset},
    {Py_tp_new, mapping_new},
    {Py_tp_repr, mapping_repr},
    {0, NULL},
};

static PyType_Spec mapping_spec = {
    .name = "fastcache._core._cached_wrapper",
    .basicsize = sizeof(wrapper_t),
    .flags = WRAPPER_FLAGS,
    .slots = mapping_slots,
};

/* Adds _lru_cache_wrapper and _cached_wrapper to fastcache._core (module.c), their types
   and the objects this file uses in its state. */
int
fc_wrapper_add(PyObject *m, fc_state *st)
{
    if ((st->WrapperType = fc_new_type(m, &wrapper_spec, NULL)) == NULL ||
        (st->MappingType = fc_new_type(m, &mapping_spec, NULL)) == NULL ||
        (st->kwd_mark = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type)) == NULL ||
        (st->event_type = fc_import_attr("threading", "Event")) == NULL ||
        (st->str_enter = PyUnicode_InternFromString("__enter__")) == NULL ||
        (st->str_exit = PyUnicode_InternFromString("__exit__")) == NULL ||
        (st->str_setdefault = PyUnicode_InternFromString("setdefault")) == NULL ||
        (st->str_clear = PyUnicode_InternFromString("clear")) == NULL)
        return -1;
    if (PyModule_AddObjectRef(m, "_lru_cache_wrapper", (PyObject *)st->WrapperType) < 0 ||
        PyModule_AddObjectRef(m, "_cached_wrapper", (PyObject *)st->MappingType) < 0) {
        return -1;
    }
    return 0;
}
