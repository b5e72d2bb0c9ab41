/*
 * cache.c: the compiled cache classes (module fastcache._core; core.h lists its files).
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
#include "core.h"
#include <time.h>

const char *
fc_type_name(PyTypeObject *tp)
{
    const char *dot = strrchr(tp->tp_name, '.');
    return dot ? dot + 1 : tp->tp_name;
}

int
fc_check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi)
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
/* ------------------------------------------------------------------ storage growth */

/* The arrays parallel to the entries (table.h's fc_resize_fn). */
int
fc_cache_resize(void *owner, Py_ssize_t cap)
{
    CacheObject *c = owner;
    if (c->sized) {
        Py_ssize_t *sizes = PyMem_Realloc(c->sizes, (size_t)cap * sizeof(Py_ssize_t));
        if (sizes == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        c->sizes = sizes;
    }
    if (c->policy == P_LFU && fc_lfu_resize(&c->lfu, cap) < 0)
        return -1;
    if (HAS_MARKS(c)) {
        uint8_t *marks = PyMem_Realloc(c->marks, (size_t)cap);
        if (marks == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        c->marks = marks;
    }
    if (c->policy == P_WTLFU && fc_wtlfu_resize(c, cap) < 0)
        return -1;
    if (IS_TIMED(c) && fc_timed_resize(c, cap) < 0)
        return -1;
    return 0;
}

/* Link a new entry (its key/value/hash already set) into the policy's structures; `now`
 * starts the wheel of a timed cache if a clear() reset it meanwhile. `freq`: LFU's
 * frequency, SIEVE's and S3-FIFO's mark (sieve.h, s3fifo.h). */
void
fc_entry_link(CacheObject *c, fc_idx ix, Py_ssize_t size, uint64_t freq, double deadline,
              double now)
{
    fc_index_put(&c->t, ix);
    c->t.len++;
    fc_table_changed(&c->t);
    if (c->sized)
        c->sizes[ix] = size;
    c->currsize += size;
    if (c->policy == P_LFU)
        fc_lfu_enter(&c->lfu, c->t.entries, &c->order, ix, freq);
    else if (c->policy == P_SIEVE)
        fc_sieve_enter(c, ix, freq);
    else if (c->policy == P_S3FIFO)
        fc_s3_enter(c, ix, freq, size);
    else if (c->policy == P_WTLFU)
        fc_wtlfu_enter(c, ix);
    else
        fc_list_append(c->t.entries, &c->order, ix);
    if (IS_TIMED(c)) {
        fc_tnode *n = &c->tnodes[ix];
        n->deadline = deadline;
        n->seq = c->seq++;
        n->bucket = FC_UNSCHEDULED;
        fc_wheel_start(c->wheel, now, deadline - now);
        fc_wheel_schedule(c->wheel, c->tnodes, ix);
    }
}

/* Remove entry ix; its key and value go to the pending list (reported with `cause`). */
void
fc_entry_remove(CacheObject *c, fc_idx ix, fc_pending *p, PyObject *cause)
{
    fc_table *t = &c->t;
    fc_entry *e = &t->entries[ix];
    double deadline = 0;
    uint64_t seq = 0;
    if (c->policy == P_LFU)
        fc_lfu_leave(&c->lfu, t->entries, ix);
    else if (c->policy == P_SIEVE)
        fc_sieve_leave(c, ix);
    else if (c->policy == P_S3FIFO)
        fc_s3_leave(c, ix);
    else if (c->policy == P_WTLFU)
        fc_wtlfu_leave(c, ix);
    fc_list_unlink(t->entries, &c->order, ix);
    for (fc_pin *pin = c->pins; pin != NULL; pin = pin->outer)
        if (pin->ix == ix)
            pin->ix = FC_NIL;  /* removed meanwhile (an overridden popitem): nothing to protect */
    if (IS_TIMED(c)) {
        fc_wheel_unlink(c->wheel, c->tnodes, ix);
        deadline = c->tnodes[ix].deadline;
        seq = c->tnodes[ix].seq;
    }
    fc_index_remove(t, ix);
    c->currsize -= fc_entry_size(c, ix);
    PyObject *key = e->key, *value = e->value;
    fc_entry_free(t, ix);
    fc_pending_push(p, key, value, cause, deadline, seq);
}

static inline uint64_t
rng_next(CacheObject *c)
{
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The entry the policy evicts next, other than `skip`; FC_NIL if none. Every policy but RR,
 * SIEVE and S3-FIFO evicts the head of the order list (LFU: the oldest of the lowest
 * frequency, lfu.h); SIEVE and S3-FIFO move their hand or queues on the way (the caller
 * removes the entry returned). */
static fc_idx
victim(CacheObject *c, fc_idx skip)
{
    fc_entry *e = c->t.entries;
    fc_idx head = c->order.head;
    if (c->t.len == 0 || (c->t.len == 1 && skip != FC_NIL))
        return FC_NIL;
    if (c->policy == P_SIEVE)
        return fc_sieve_victim(c, skip);
    if (c->policy == P_S3FIFO)
        return fc_s3_victim(c, skip);
    if (c->policy == P_WTLFU)
        return fc_wtlfu_victim(c, skip);
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
        for (fc_idx ix = head; ix != FC_NIL; ix = e[ix].next)
            if (ix != skip && k-- == 0)
                return ix;
    }
    return head != skip ? head : e[head].next;
}

/* (inlined into the write path; fc_make_room is the same for pickle.c) */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void
make_room(CacheObject *c, Py_ssize_t need, fc_idx skip, fc_pending *p)
{
    while (!c->unbounded && need > c->maxsize - c->currsize) {
        fc_idx v = victim(c, skip);
        if (v == FC_NIL)
            break;
        fc_entry_remove(c, v, p, c->st->str_evicted);
        if (c->stats)
            c->evictions++;
    }
}

void
fc_make_room(CacheObject *c, Py_ssize_t need, fc_idx skip, fc_pending *p)
{
    make_room(c, need, skip, p);
}

/* Policy bookkeeping for an access (a hit). */
static inline void
touch(CacheObject *c, fc_idx ix)
{
    switch (c->policy) {
    case P_LRU:
    case P_TTL:
    case P_TLRU:
        fc_list_move_to_tail(c->t.entries, &c->order, ix);
        break;
    case P_LFU:
        fc_lfu_touch(&c->lfu, c->t.entries, &c->order, ix);
        break;
    case P_SIEVE:
        fc_sieve_touch(c->marks, ix);
        break;
    case P_S3FIFO:
        fc_s3_touch(c->marks, ix);
        break;
    case P_WTLFU:
        fc_wtlfu_access(c, ix);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ sizes */

static Py_ssize_t
value_size(CacheObject *c, PyObject *value)
{
    PyObject *r;
    if (c->flags & F_SIZEOF)
        r = PyObject_CallMethodOneArg((PyObject *)c, c->st->str_getsizeof, value);
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
    if (overflow > 0 || (!c->unbounded && v > c->maxsize)) {
        PyErr_SetString(PyExc_ValueError, "value too large");
        return -1;
    }
    return (Py_ssize_t)v;
}

/* ------------------------------------------------------------------ errors */

void
fc_set_key_error(PyObject *key)
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
        return PyObject_CallMethodOneArg((PyObject *)c, c->st->str_missing, key);
    fc_set_key_error(key);
    return NULL;
}
/* ------------------------------------------------------------------ the write path */

static PyObject *popitem_impl(CacheObject *c, int report);

/* Take a write's pin off the list: the first, unless another thread's write pinned since (the
 * GIL released during popitem()); its writes unpin in their own order. */
static void
unpin(CacheObject *c, fc_pin *pin)
{
    fc_pin **link = &c->pins;
    while (*link != pin)
        link = &(*link)->outer;
    *link = pin->outer;
}

/* The entry popitem() must not evict: the innermost write's, or FC_NIL. */
static inline fc_idx
pinned(CacheObject *c)
{
    return c->pins != NULL ? c->pins->ix : FC_NIL;
}

/* c[key] = value (key's hash given), with an optional per-item ttl (TTLCache). 0 ok, -1 error. */
static int
cache_set_hashed(CacheObject *c, PyObject *key, Py_hash_t hash, PyObject *value,
                 PyObject *ttl_arg)
{
    int restarts = 0;
again:;
    Py_ssize_t size = 1;
    if (c->sized) {
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
    fc_pending_init(&p);
    if (IS_TIMED(c)) {
        if (fc_timed_deadline(c, key, value, ttl_arg, &now, &deadline) < 0)
            return -1;
        fc_expire_until(c, now, &p);
        if (!(now < deadline)) {
            /* already expired: drop any existing entry and store nothing */
            fc_idx ix = fc_lookup(&c->t, key, hash);
            if (ix == FC_ERROR) {
                fc_pending_finish(&p, c->on_evict);
                return -1;
            }
            if (ix >= 0)
                fc_entry_remove(c, ix, &p, c->st->str_replaced);
            FC_ASSERT_CONSISTENT(c);
            return fc_pending_finish(&p, c->on_evict);
        }
    }
    /* __init__ (or clear()) called from here on, by a popitem() override or a key's __eq__,
     * makes the write start again under the new configuration, as the twin's does; what
     * getsizeof and ttu computed before stands (checked against the configuration below) */
    uint64_t generation = c->generation;
    if (c->policy == P_S3FIFO) {
        fc_ghost_prefetch(&c->s3.ghost, hash);  /* fc_s3_admit's lookup */
    }
    else if (c->policy == P_WTLFU) {
        fc_wtlfu_prefetch_write(c->wt, c->t.entries);
        if (restarts == 0)
            fc_wtlfu_record(c, hash);  /* a write is a request: the sketch counts it first */
    }
    if (c->flags & (F_PY_EVICT | F_CHOICE)) {
        /* cachetools' protocol: self.popitem() until the value fits */
        for (;;) {
            fc_idx ix = fc_lookup(&c->t, key, hash);
            if (ix == FC_ERROR)
                goto error;
            Py_ssize_t need = ix >= 0 ? size - fc_entry_size(c, ix) : size;
            if (c->unbounded || need <= c->maxsize - c->currsize || c->t.len == 0)
                break;
            Py_ssize_t before = c->currsize, before_len = c->t.len;
            /* never evict the key being written; a write nested in the call protects its own
             * entry, then this one's again (the twin's `_pinned` saved and restored) */
            fc_pin pin = {ix >= 0 ? ix : FC_NIL, c->pins};
            c->pins = &pin;
            PyObject *pair = PyObject_CallMethodNoArgs((PyObject *)c, c->st->str_popitem);
            unpin(c, &pin);
            if (pair == NULL)
                goto error;
            if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2) {
                PyObject *k = PyTuple_GET_ITEM(pair, 0), *v = PyTuple_GET_ITEM(pair, 1);
                Py_INCREF(k);
                Py_INCREF(v);
                fc_pending_push(&p, k, v, c->st->str_evicted, 0, 0);
                if (c->stats)
                    c->evictions++;
            }
            Py_DECREF(pair);
            if (c->currsize >= before && c->t.len >= before_len) {
                PyErr_Format(PyExc_RuntimeError,
                             "%.200s.popitem() did not remove anything from the cache",
                             fc_type_name(Py_TYPE(c)));
                goto error;
            }
        }
    }
    fc_idx ix = fc_lookup(&c->t, key, hash);
    if (ix == FC_ERROR)
        goto error;
    /* From here on no Python code runs until fc_pending_finish. */
    if (c->generation != generation) {
        if (fc_pending_finish(&p, c->on_evict) < 0 || fc_restart(&restarts) < 0)
            return -1;
        goto again;
    }
    if (!c->sized)
        size = 1;  /* getsizeof's answer, given before __init__ made the cache unsized */
    if (!c->unbounded && size > c->maxsize) {
        PyErr_SetString(PyExc_ValueError, "value too large");
        goto error;
    }
    if (c->unbounded && size - (ix >= 0 ? fc_entry_size(c, ix) : 0) > PY_SSIZE_T_MAX - c->currsize) {
        PyErr_SetString(PyExc_OverflowError, "cache size overflow");
        goto error;
    }
    if (ix >= 0) {
        /* evictions come first (as cachetools' popitem() loop), never of the key written */
        make_room(c, size - fc_entry_size(c, ix), ix, &p);
        fc_entry *e = &c->t.entries[ix];
        PyObject *old = e->value;
        Py_INCREF(value);
        e->value = value;
        Py_INCREF(e->key);
        fc_pending_push(&p, e->key, old, c->st->str_replaced, 0, 0);
        Py_ssize_t old_size = fc_entry_size(c, ix);
        if (c->sized) {
            if (c->policy == P_S3FIFO)
                fc_s3_resized(c, ix, size - c->sizes[ix]);
            c->currsize += size - c->sizes[ix];
            c->sizes[ix] = size;
        }
        switch (c->policy) {
        case P_LRU:
        case P_FIFO:
            fc_list_move_to_tail(c->t.entries, &c->order, ix);
            break;
        case P_LFU:
        case P_SIEVE:
        case P_S3FIFO:
            touch(c, ix);  /* a write over a present key is an access */
            break;
        case P_TTL:
        case P_TLRU:
            fc_list_move_to_tail(c->t.entries, &c->order, ix);
            fc_wheel_unlink(c->wheel, c->tnodes, ix);
            c->tnodes[ix].deadline = deadline;
            c->tnodes[ix].seq = c->seq++;
            fc_wheel_start(c->wheel, now, deadline - now);
            fc_wheel_schedule(c->wheel, c->tnodes, ix);
            break;
        case P_WTLFU:
            fc_wtlfu_reorder(c, ix, old_size);
            break;
        default:
            break;
        }
    }
    else {
        /* S3-FIFO: the ghost is consulted before evicting (which may drop the key's hash) */
        uint64_t admit = c->policy == P_S3FIFO ? fc_s3_admit(c, hash) : 0;
        make_room(c, size, FC_NIL, &p);
        fc_idx nix = fc_entry_alloc(c);
        if (nix == FC_ERROR)
            goto error;
        fc_entry *e = &c->t.entries[nix];
        Py_INCREF(key);
        Py_INCREF(value);
        e->hash = hash;
        e->key = key;
        e->value = value;
        fc_entry_link(c, nix, size, c->policy == P_S3FIFO ? admit : c->policy == P_LFU,
                      deadline, now);
        if (c->policy == P_WTLFU)
            fc_wtlfu_inserted(c, hash);
    }
    FC_ASSERT_CONSISTENT(c);
    return fc_pending_finish(&p, c->on_evict);
error:
    FC_ASSERT_CONSISTENT(c);
    fc_pending_finish(&p, c->on_evict);  /* keeps the exception */
    return -1;
}

int
fc_cache_set(CacheObject *c, PyObject *key, PyObject *value, PyObject *ttl_arg)
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
    if (IS_TIMED(c) && fc_read_time(c, &now) < 0)
        return -1;
    fc_idx ix = fc_lookup(&c->t, key, hash);
    if (ix == FC_ERROR)
        return -1;
    if (ix == FC_NOT_FOUND)
        return 0;
    int live = !IS_TIMED(c) || (now < c->tnodes[ix].deadline);
    if (!live && !remove_expired)
        return 0;
    fc_pending p;
    fc_pending_init(&p);
    if (out != NULL && live) {
        *out = c->t.entries[ix].value;
        Py_INCREF(*out);
    }
    fc_entry_remove(c, ix, &p, live ? c->st->str_deleted : c->st->str_expired);
    if (!live && c->stats)
        c->expirations++;
    FC_ASSERT_CONSISTENT(c);
    if (fc_pending_finish(&p, c->on_evict) < 0) {
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
    if (IS_TIMED(c) && fc_time_read_first(c) && fc_read_time(c, &now) < 0)
        return FC_ERROR;
    *now_out = now;
    if (c->policy == P_WTLFU)
        fc_wtlfu_prefetch_lookup(c->wt, *hash);
    fc_idx ix = fc_lookup(&c->t, key, *hash);
    if (ix >= 0 && IS_TIMED(c) && !fc_entry_live(c, ix, now)) {
        *expired = ix;
        return FC_NOT_FOUND;
    }
    return ix;
}

fc_idx
fc_find_live(CacheObject *c, PyObject *key, Py_hash_t *hash, fc_idx *expired, double *now_out)
{
    return find_live_at(c, key, hash, expired, now_out);
}

static inline fc_idx
find_live_(CacheObject *c, PyObject *key, Py_hash_t *hash, fc_idx *expired)
{
    double now;
    return find_live_at(c, key, hash, expired, &now);
}

PyObject *
fc_cache_subscript(CacheObject *c, PyObject *key)
{
    Py_hash_t hash;
    fc_idx expired, ix = find_live_(c, key, &hash, &expired);
    if (ix >= 0) {
        touch(c, ix);
        if (c->stats)
            c->hits++;
        return Py_NewRef(c->t.entries[ix].value);
    }
    if (ix == FC_ERROR)
        return NULL;
    if (expired != FC_NIL)
        fc_list_move_to_tail(c->t.entries, &c->order, expired);  /* an expired entry still counts as accessed */
    if (c->stats)
        c->misses++;
    return call_missing(c, key);
}

int
fc_cache_ass_subscript(CacheObject *c, PyObject *key, PyObject *value)
{
    if (value != NULL)
        return fc_cache_set(c, key, value, NULL);
    int r = cache_remove(c, key, NULL, 1);
    if (r == 0)
        fc_set_key_error(key);
    return r > 0 ? 0 : -1;
}

/* Membership without an access: 1, 0 or -1. */
int
fc_cache_contains(CacheObject *c, PyObject *key)
{
    Py_hash_t hash;
    fc_idx expired, ix = find_live_(c, key, &hash, &expired);
    return ix == FC_ERROR ? -1 : ix >= 0;
}


Py_ssize_t
fc_cache_length(CacheObject *c)
{
    if (fc_expire_now(c) < 0)
        return -1;
    return c->t.len;
}
/* ------------------------------------------------------------------ snapshots */

/* The keys (or (key, value) pairs) in eviction order, skipping expired entries. */
PyObject *
fc_snapshot(CacheObject *c, int pairs, fc_idx skip)
{
    double now = 0;
    if (IS_TIMED(c) && fc_read_time(c, &now) < 0)
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
    FC_FOR_EACH_IN_ORDER(c, ix) {
        if (ix == skip || (IS_TIMED(c) && !(now < c->tnodes[ix].deadline)))
            continue;
        if (n == len)
            break;  /* `skip` was not live after all */
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

PyObject *
fc_cache_iter(CacheObject *c)
{
    PyObject *keys = fc_snapshot(c, 0, FC_NIL);
    if (keys == NULL)
        return NULL;
    KeyIterObject *it = PyObject_GC_New(KeyIterObject, c->st->KeyIterType);
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
        int r = fc_cache_contains((CacheObject *)it->cache, k);
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
    Py_VISIT(Py_TYPE(it));
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
    fc_free_object((PyObject *)it);
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

static PyType_Slot keyiter_slots[] = {
    {Py_tp_dealloc, keyiter_dealloc},
    {Py_tp_traverse, keyiter_traverse},
    {Py_tp_clear, keyiter_clear},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, keyiter_next},
    {Py_tp_methods, keyiter_methods},
    {0, NULL},
};

PyType_Spec fc_KeyIterSpec = {
    .name = "fastcache._core.key_iterator",
    .basicsize = sizeof(KeyIterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE
             | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = keyiter_slots,
};
/* ------------------------------------------------------------------ clearing */

/* Empty the cache; releases every key and value after the structure is reset. */
/* Reset the structure to empty (the wheel to `tick` timer units, or its own if < 0) without
 * releasing anything: returns the old entries for fc_entries_release() once the caller is
 * done changing the cache (releasing may run Python code). */
static fc_entry *
detach_all(CacheObject *c, Py_ssize_t *top, double tick)
{
    fc_entry *entries = fc_table_detach(&c->t, top);
    fc_list_init(&c->order);
    for (fc_pin *pin = c->pins; pin != NULL; pin = pin->outer)
        pin->ix = FC_NIL;  /* the writes in progress have nothing left to protect */
    c->currsize = 0;
    PyMem_Free(c->sizes);   /* the parallel arrays go with the entries (table.c grows them) */
    c->sizes = NULL;
    fc_lfu_free(&c->lfu);
    PyMem_Free(c->marks);
    c->marks = NULL;
    c->sieve.hand = FC_NIL;
    if (c->policy == P_S3FIFO)
        fc_s3_reset(c);
    fc_wtlfu_detach(c);
    PyMem_Free(c->tnodes);
    c->tnodes = NULL;
    if (c->wheel != NULL) {
        PyMem_Free(c->wheel->heap);
        c->wheel->heap = NULL;
        fc_wheel_init(c->wheel, tick >= 0 ? tick : c->wheel->tick);
    }
    return entries;
}

void
fc_clear_all(CacheObject *c)
{
    Py_ssize_t top;
    fc_entry *entries = detach_all(c, &top, -1);
    fc_entries_release(entries, top);
}
/* ------------------------------------------------------------------ construction */

PyObject *
fc_cache_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    fc_state *st = fc_state_of_type(type);
    if (st == NULL)
        return NULL;
    CacheObject *c = (CacheObject *)type->tp_alloc(type, 0);
    if (c == NULL)
        return NULL;
    c->st = st;
    fc_table_init(&c->t, 2);
    fc_list_init(&c->order);
    fc_lfu_init(&c->lfu);
    c->pins = NULL;
    c->unbounded = 1;
    c->ttl = INFINITY;
    c->timer_kind = TK_MONOTONIC;
    if (PyType_IsSubtype(type, st->TLRUCacheType)) c->policy = P_TLRU;
    else if (PyType_IsSubtype(type, st->TTLCacheType)) c->policy = P_TTL;
    else if (PyType_IsSubtype(type, st->LRUCacheType)) c->policy = P_LRU;
    else if (PyType_IsSubtype(type, st->LFUCacheType)) c->policy = P_LFU;
    else if (PyType_IsSubtype(type, st->FIFOCacheType)) c->policy = P_FIFO;
    else if (PyType_IsSubtype(type, st->RRCacheType)) c->policy = P_RR;
    else if (PyType_IsSubtype(type, st->SIEVECacheType)) c->policy = P_SIEVE;
    else if (PyType_IsSubtype(type, st->S3FIFOCacheType)) c->policy = P_S3FIFO;
    else if (PyType_IsSubtype(type, st->WTinyLFUCacheType)) c->policy = P_WTLFU;
    else c->policy = P_CACHE;
    c->sieve.hand = FC_NIL;
    if (c->policy == P_S3FIFO)
        fc_s3_reset(c);  /* the default fractions, an empty ghost */
    if (IS_TIMED(c)) {
        c->wheel = PyMem_Malloc(sizeof(fc_wheel));
        if (c->wheel == NULL) {
            Py_DECREF(c);
            return PyErr_NoMemory();
        }
        c->wheel->heap = NULL;
        fc_wheel_init(c->wheel, 0);
        c->timer = Py_NewRef(st->time_monotonic);
    }
    if (c->policy == P_WTLFU && fc_wtlfu_new(c) < 0) {
        Py_DECREF(c);
        return NULL;
    }
    c->rng = (uint64_t)(uintptr_t)c ^ ((uint64_t)time(NULL) << 32) ^ 0x2545F4914F6CDD1DULL;
    /* subclass overrides, found once per instance */
    PyObject *m;
    if ((m = PyObject_GetAttr((PyObject *)type, c->st->str_popitem)) == NULL) goto fail;
    if (m != c->st->base_popitem) c->flags |= F_PY_EVICT;
    Py_DECREF(m);
    if ((m = PyObject_GetAttr((PyObject *)type, c->st->str_missing)) == NULL) goto fail;
    if (m != c->st->base_missing) c->flags |= F_MISSING;
    Py_DECREF(m);
    if ((m = PyObject_GetAttr((PyObject *)type, c->st->str_getsizeof)) == NULL) goto fail;
    if (m != c->st->base_getsizeof) c->flags |= F_SIZEOF;
    Py_DECREF(m);
    c->sized = (c->flags & F_SIZEOF) != 0;
    return (PyObject *)c;
fail:
    Py_DECREF(c);
    return NULL;
}

static int
parse_maxsize(PyObject *maxsize, Py_ssize_t *out, int *unbounded)
{
    if (PyBool_Check(maxsize) || (!PyLong_Check(maxsize) && !PyFloat_Check(maxsize))) {
        PyErr_Format(PyExc_TypeError, "maxsize must be an int or math.inf, not %.200s",
                     fc_type_name(Py_TYPE(maxsize)));
        return -1;
    }
    if (PyFloat_Check(maxsize)) {
        double d = PyFloat_AS_DOUBLE(maxsize);
        if (isinf(d) && d > 0) {
            *unbounded = 1;
            *out = PY_SSIZE_T_MAX;
            return 0;
        }
        if (!(d >= 0)) {
            PyErr_SetString(PyExc_ValueError, "maxsize must be non-negative");
            return -1;
        }
        PyErr_Format(PyExc_TypeError, "maxsize must be an int or math.inf, not %.200s",
                     fc_type_name(Py_TYPE(maxsize)));
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
    *unbounded = 0;
    *out = overflow > 0 ? PY_SSIZE_T_MAX : (Py_ssize_t)v;
    return 0;
}

int
fc_set_callable(PyObject **slot, PyObject *obj, const char *name, int allow_none)
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
check_callable(PyObject *obj, const char *name)
{
    if (obj != NULL && !PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be callable, not %.200s", name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

/* (Re)initialise: every argument is checked first (a failure changes nothing), then the
 * cache is emptied and configured in one step with no Python code in between, and only
 * then are the old entries and callables released. `tick`: the wheel's tick (timed
 * caches), or < 0. */
int
fc_configure(CacheObject *c, PyObject *maxsize, PyObject *getsizeof, PyObject *on_evict,
             int stats, double tick)
{
    Py_ssize_t ms;
    int unbounded;
    if (parse_maxsize(maxsize, &ms, &unbounded) < 0)
        return -1;
    if (getsizeof == Py_None)
        getsizeof = NULL;
    if (on_evict == Py_None)
        on_evict = NULL;
    if (check_callable(getsizeof, "getsizeof") < 0 || check_callable(on_evict, "on_evict") < 0)
        return -1;
    /* as cachetools: the argument shadows the static method on the instance */
    PyObject *dict = PyObject_GenericGetDict((PyObject *)c, NULL);
    if (dict == NULL) {
        PyErr_Clear();  /* no instance __dict__ (the bare compiled type) */
    }
    else {
        int r = getsizeof != NULL ? PyDict_SetItem(dict, c->st->str_getsizeof, getsizeof)
                                  : (PyDict_Contains(dict, c->st->str_getsizeof) == 1
                                     ? PyDict_DelItem(dict, c->st->str_getsizeof) : 0);
        Py_DECREF(dict);
        if (r < 0)
            return -1;
    }
    Py_ssize_t top;
    fc_entry *entries = detach_all(c, &top, tick);
    PyObject *old_getsizeof = c->getsizeof, *old_on_evict = c->on_evict;
    c->getsizeof = Py_XNewRef(getsizeof);
    c->on_evict = Py_XNewRef(on_evict);
    c->maxsize = ms;
    c->unbounded = unbounded;
    c->generation++;
    c->sized = getsizeof != NULL || (c->flags & F_SIZEOF);
    c->stats = stats;
    c->hits = c->misses = c->evictions = c->expirations = 0;
    Py_XDECREF(old_getsizeof);
    Py_XDECREF(old_on_evict);
    fc_entries_release(entries, top);
    return 0;
}


/* Parse the arguments of `defname` (as "TTLCache.__init__"): `npos` positional-or-keyword
 * parameters, the first `nrequired` required, then keyword-only ones up to the NULL in
 * `names`. `out` holds the defaults and receives the arguments (borrowed). The errors are
 * word for word those of a Python function, as the twin's __init__ raises them. */
int
fc_parse_args(const char *defname, PyObject *args, PyObject *kwds, const char *const *names,
              int npos, int nrequired, PyObject **out)
{
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    int nnames = 0;
    while (names[nnames] != NULL)
        nnames++;
    if (nargs > npos) {
        if (nrequired == npos)
            PyErr_Format(PyExc_TypeError, "%s() takes %d positional arguments but %zd were given",
                         defname, npos + 1, nargs + 1);
        else
            PyErr_Format(PyExc_TypeError,
                         "%s() takes from %d to %d positional arguments but %zd were given",
                         defname, nrequired + 1, npos + 1, nargs + 1);
        return -1;
    }
    int given[16] = {0};
    for (Py_ssize_t i = 0; i < nargs; i++) {
        out[i] = PyTuple_GET_ITEM(args, i);
        given[i] = 1;
    }
    if (kwds != NULL) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(kwds, &pos, &key, &value)) {
            int k = 0;
            while (k < nnames && !(PyUnicode_Check(key) &&
                                   PyUnicode_CompareWithASCIIString(key, names[k]) == 0))
                k++;
            if (k == nnames) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'",
                             defname, key);
                return -1;
            }
            if (given[k]) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
                             defname, names[k]);
                return -1;
            }
            out[k] = value;
            given[k] = 1;
        }
    }
    int missing = 0;
    for (int k = 0; k < nrequired; k++)
        missing += !given[k];
    if (missing) {
        char list[200] = "";
        size_t len = 0;
        int seen = 0;
        for (int k = 0; k < nrequired; k++) {
            if (given[k])
                continue;
            seen++;
            const char *sep = seen == 1 ? "" : (seen == missing ? (missing > 2 ? ", and " : " and ") : ", ");
            len += (size_t)PyOS_snprintf(list + len, sizeof list - len, "%s'%s'", sep, names[k]);
            if (len >= sizeof list)
                break;
        }
        PyErr_Format(PyExc_TypeError, "%s() missing %d required positional argument%s: %s",
                     defname, missing, missing == 1 ? "" : "s", list);
        return -1;
    }
    return 0;
}

int
fc_cache_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static const char *const names[] = {"maxsize", "getsizeof", "on_evict", "stats", NULL};
    PyObject *a[4] = {NULL, Py_None, Py_None, Py_False};
    if (fc_parse_args("Cache.__init__", args, kwds, names, 2, 1, a) < 0)
        return -1;
    int stats = PyObject_IsTrue(a[3]);
    if (stats < 0)
        return -1;
    return fc_configure(c, a[0], a[1], a[2], stats, -1);
}

int
fc_rr_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    static const char *const names[] = {"maxsize", "choice", "getsizeof", "on_evict", "stats",
                                        NULL};
    PyObject *a[5] = {NULL, c->st->random_choice, Py_None, Py_None, Py_False};
    if (fc_parse_args("RRCache.__init__", args, kwds, names, 3, 1, a) < 0)
        return -1;
    int stats = PyObject_IsTrue(a[4]);
    if (stats < 0 || check_callable(a[1], "choice") < 0)
        return -1;
    if (fc_configure(c, a[0], a[2], a[3], stats, -1) < 0)
        return -1;
    return fc_rr_set_choice(c, a[1]);
}

int
fc_rr_set_choice(CacheObject *c, PyObject *choice)
{
    if (fc_set_callable(&c->choice, choice, "choice", 0) < 0)
        return -1;
    if (choice != c->st->random_choice)
        c->flags |= F_CHOICE;
    else
        c->flags &= ~F_CHOICE;
    return 0;
}

/* ------------------------------------------------------------------ GC and deallocation */

int
fc_cache_traverse(CacheObject *c, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < c->t.top; i++) {
        Py_VISIT(c->t.entries[i].key);
        Py_VISIT(c->t.entries[i].value);
    }
    Py_VISIT(c->getsizeof);
    Py_VISIT(c->on_evict);
    Py_VISIT(c->timer);
    Py_VISIT(c->tobj);
    Py_VISIT(c->ttu);
    Py_VISIT(c->choice);
    Py_VISIT(c->ttl_obj);
    Py_VISIT(c->time_origin);
    Py_VISIT(Py_TYPE(c));   /* a heap type (the instance holds it) */
    return 0;
}

int
fc_cache_gc_clear(CacheObject *c)
{
    fc_clear_all(c);
    Py_CLEAR(c->getsizeof);
    Py_CLEAR(c->on_evict);
    Py_CLEAR(c->timer);
    Py_CLEAR(c->tobj);
    Py_CLEAR(c->ttu);
    Py_CLEAR(c->choice);
    Py_CLEAR(c->ttl_obj);
    Py_CLEAR(c->time_origin);
    return 0;
}

void
fc_cache_dealloc(CacheObject *c)
{
    PyObject_GC_UnTrack(c);
    Py_TRASHCAN_BEGIN(c, fc_cache_dealloc)
    fc_cache_gc_clear(c);
    PyMem_Free(c->sizes);
    c->sizes = NULL;
    PyMem_Free(c->wheel);
    c->wheel = NULL;
    fc_wtlfu_free(c);
    fc_free_object((PyObject *)c);
    Py_TRASHCAN_END
}
/* ------------------------------------------------------------------ methods */

static PyObject *
m_get(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!fc_check_nargs("get", nargs, 1, 2))
        return NULL;
    Py_hash_t hash;
    fc_idx expired, ix = find_live_(c, args[0], &hash, &expired);
    if (ix == FC_ERROR)
        return NULL;
    if (ix < 0) {
        if (expired != FC_NIL)
            fc_list_move_to_tail(c->t.entries, &c->order, expired);  /* an expired entry still counts as accessed */
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
    if (!fc_check_nargs("peek", nargs, 1, 2))
        return NULL;
    Py_hash_t hash;
    fc_idx expired, ix = find_live_(c, args[0], &hash, &expired);
    if (ix == FC_ERROR)
        return NULL;
    return Py_NewRef(ix >= 0 ? c->t.entries[ix].value : nargs > 1 ? args[1] : Py_None);
}

static PyObject *
m_pop(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!fc_check_nargs("pop", nargs, 1, 2))
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
    fc_set_key_error(args[0]);
    return NULL;
}

static PyObject *
m_setdefault(CacheObject *c, PyObject *const *args, Py_ssize_t nargs)
{
    if (!fc_check_nargs("setdefault", nargs, 1, 2))
        return NULL;
    PyObject *key = args[0], *deflt = nargs > 1 ? args[1] : Py_None;
    Py_hash_t hash;
    fc_idx expired, ix = find_live_(c, key, &hash, &expired);
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
popitem_impl(CacheObject *c, int report)
{
    fc_pending p;
    fc_pending_init(&p);
    if (IS_TIMED(c) && c->t.len > 0) {
        double now;
        if (fc_read_time(c, &now) < 0)
            return NULL;
        fc_expire_until(c, now, &p);
    }
    fc_idx ix, skip = pinned(c);
    /* choice() is offered the keys but the one being written; none: empty, as victim() */
    if (c->t.len > (skip != FC_NIL) && c->policy == P_RR && (c->flags & F_CHOICE)) {
        PyObject *keys = fc_snapshot(c, 0, skip);
        if (keys == NULL)
            goto error;
        PyObject *key = PyObject_CallOneArg(c->choice, keys);
        Py_DECREF(keys);
        if (key == NULL)
            goto error;
        Py_hash_t hash = PyObject_Hash(key);
        ix = hash == -1 ? FC_ERROR : fc_lookup(&c->t, key, hash);
        if (ix == FC_NOT_FOUND)
            fc_set_key_error(key);
        Py_DECREF(key);
        if (ix < 0)
            goto error;
    }
    else {
        ix = victim(c, skip);
    }
    if (ix == FC_NIL) {
        if (fc_pending_finish(&p, c->on_evict) < 0)
            return NULL;
        /* KeyError("<Name> is empty") from None, as cachetools: the context is suppressed */
        PyObject *msg = PyUnicode_FromFormat("%s is empty", fc_type_name(Py_TYPE(c)));
        PyObject *exc = msg ? PyObject_CallOneArg(PyExc_KeyError, msg) : NULL;
        Py_XDECREF(msg);
        if (exc != NULL) {
            ((PyBaseExceptionObject *)exc)->suppress_context = 1;
            PyErr_SetObject(PyExc_KeyError, exc);
            Py_DECREF(exc);
        }
        return NULL;
    }
    PyObject *key = Py_NewRef(c->t.entries[ix].key);
    PyObject *value = Py_NewRef(c->t.entries[ix].value);
    fc_entry_remove(c, ix, &p, report ? c->st->str_evicted : NULL);
    FC_ASSERT_CONSISTENT(c);
    PyObject *pair = NULL;
    if (fc_pending_finish(&p, c->on_evict) == 0)
        pair = PyTuple_Pack(2, key, value);
    Py_DECREF(key);
    Py_DECREF(value);
    return pair;
error:
    {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (fc_pending_finish(&p, c->on_evict) < 0)
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
    fc_clear_all(c);
    Py_RETURN_NONE;
}

static PyObject *
m_missing(CacheObject *c, PyObject *key)
{
    fc_set_key_error(key);
    return NULL;
}

static PyObject *
m_getsizeof(PyObject *unused, PyObject *value)
{
    return PyLong_FromLong(1);
}

static PyObject *
m_stats(CacheObject *c, PyObject *unused)
{
    if (!c->stats) {
        PyErr_SetString(PyExc_RuntimeError, "stats not enabled");
        return NULL;
    }
    return PyObject_CallFunction(c->st->CacheStatsType, "KKKK", c->hits, c->misses, c->evictions,
                                 c->expirations);
}

static PyObject *
m_reset_stats(CacheObject *c, PyObject *unused)
{
    c->hits = c->misses = c->evictions = c->expirations = 0;
    Py_RETURN_NONE;
}

PyObject *
fc_maxsize_obj(CacheObject *c)
{
    if (c->unbounded)
        return PyFloat_FromDouble(INFINITY);
    return PyLong_FromSsize_t(c->maxsize);
}

PyObject *
fc_cache_repr(CacheObject *c)
{
    if (fc_expire_now(c) < 0)
        return NULL;
    int rc = Py_ReprEnter((PyObject *)c);
    if (rc != 0)
        return rc > 0 ? PyUnicode_FromFormat("%s(...)", fc_type_name(Py_TYPE(c))) : NULL;
    PyObject *result = NULL, *dict = NULL, *items = fc_snapshot(c, 1, FC_NIL), *ms = NULL;
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
    ms = fc_maxsize_obj(c);
    if (ms == NULL)
        goto done;
    result = PyUnicode_FromFormat("%s(%R, maxsize=%R, currsize=%zd)", fc_type_name(Py_TYPE(c)),
                                  dict, ms, c->currsize);
done:
    Py_ReprLeave((PyObject *)c);
    Py_XDECREF(items);
    Py_XDECREF(dict);
    Py_XDECREF(ms);
    return result;
}
/* ------------------------------------------------------------------ properties */

static PyObject *
g_maxsize(CacheObject *c, void *closure)
{
    return fc_maxsize_obj(c);
}

static PyObject *
g_currsize(CacheObject *c, void *closure)
{
    if (fc_expire_now(c) < 0)
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

static PyObject *
g_choice(CacheObject *c, void *x)
{
    return g_opt(c->choice, "choice");
}

static PyObject *
g_on_evict(CacheObject *c, void *closure)
{
    return Py_NewRef(c->on_evict ? c->on_evict : Py_None);
}

static int
s_on_evict(CacheObject *c, PyObject *v, void *closure)
{
    if (v == NULL) v = Py_None;
    return fc_set_callable(&c->on_evict, v, "on_evict", 1);
}

PyGetSetDef fc_cache_getset[] = {
    {"maxsize", (getter)g_maxsize, NULL, "The maximum size of the cache.", NULL},
    {"currsize", (getter)g_currsize, NULL, "The current size of the cache.", NULL},
    {"on_evict", (getter)g_on_evict, (setter)s_on_evict,
     "Listener called with (key, value, cause) after an entry leaves the cache.", NULL},
    {NULL},
};

PyGetSetDef fc_rr_getset[] = {
    {"choice", (getter)g_choice, NULL, "The choice function used by the cache.", NULL},
    {NULL},
};

static PyObject *
m_frequency(CacheObject *c, PyObject *key)
{
    Py_hash_t hash;
    fc_idx expired, ix = find_live_(c, key, &hash, &expired);
    if (ix == FC_ERROR)
        return NULL;
    if (ix < 0) {
        fc_set_key_error(key);
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(fc_lfu_freq(&c->lfu, ix));
}

PyMethodDef fc_cache_methods[] = {
    {"get", (PyCFunction)(void (*)(void))m_get, METH_FASTCALL,
     "get($self, key, default=None, /)\n--\n\n"
     "The value of key (counts as an access), or default."},
    {"peek", (PyCFunction)(void (*)(void))m_peek, METH_FASTCALL,
     "peek($self, key, default=None, /)\n--\n\n"
     "The value of key without counting an access, or default."},
    {"pop", (PyCFunction)(void (*)(void))m_pop, METH_FASTCALL,
     "pop($self, key, default=..., /)\n--\n\n"
     "Remove key and return its value; default (if given) when absent, else KeyError."},
    {"setdefault", (PyCFunction)(void (*)(void))m_setdefault, METH_FASTCALL,
     "setdefault($self, key, default=None, /)\n--\n\n"
     "The value of key; if absent, store default and return it."},
    {"popitem", (PyCFunction)m_popitem, METH_NOARGS,
     "popitem($self, /)\n--\n\n"
     "Remove and return the (key, value) pair the policy evicts next."},
    {"clear", (PyCFunction)m_clear, METH_NOARGS,
     "clear($self, /)\n--\n\nRemove every entry."},
    {"__missing__", (PyCFunction)m_missing, METH_O,
     "__missing__($self, key, /)\n--\n\nCalled for a missing key; raises KeyError."},
    {"getsizeof", (PyCFunction)m_getsizeof, METH_O | METH_STATIC,
     "getsizeof(value, /)\n--\n\n"
     "Return the size of a cache element's value (1; a getsizeof argument replaces it)."},
    {"stats", (PyCFunction)m_stats, METH_NOARGS,
     "stats($self, /)\n--\n\nCacheStats(hits, misses, evictions, expirations)."},
    {"reset_stats", (PyCFunction)m_reset_stats, METH_NOARGS,
     "reset_stats($self, /)\n--\n\nZero the counters."},
    {"_check", (PyCFunction)fc_cache_check_method, METH_NOARGS,
     "_check($self, /)\n--\n\nVerify internal invariants (tests)."},
    {"__reduce__", (PyCFunction)fc_cache_reduce, METH_NOARGS, NULL},
    {"__setstate__", (PyCFunction)fc_cache_setstate, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

PyMethodDef fc_lfu_methods[] = {
    {"frequency", (PyCFunction)m_frequency, METH_O,
     "frequency($self, key, /)\n--\n\n"
     "How often key was accessed (its insertion counts one); KeyError if absent."},
    {NULL, NULL, 0, NULL},
};
