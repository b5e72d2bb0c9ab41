/*
 * pickle.c: pickling of the cache classes. __reduce__ gives
 *     (_restore, (type, config), (entries, instance __dict__ or None))
 * where config is a dict of the constructor's arguments, the counters and the wheel's
 * clock (S3-FIFO: also its ghost and whether it evicted yet), and entries the (key, value,
 * size, extra) tuples in eviction order, extra being the LFU frequency, the SIEVE or
 * S3-FIFO mark (sieve.h, s3fifo.h: visited bit and hand; frequency and queue) or, for a
 * timed entry, (deadline, scheduling order): entries due at the
 * same time expire in the order they were scheduled, which the eviction order does not tell
 * (a bare deadline, from pickles of earlier versions, is scheduled in eviction order). The entries are state, restored by
 * __setstate__ once the (empty) cache exists, so that pickle's and deepcopy's memo holds it
 * first: a cache that contains itself, or a value referring back to it, comes back as one
 * cache. (_restore still takes entries as a third argument: pickles of earlier versions.) The twin pickles through
 * __getstate__/__setstate__ (fastcache/_py/caches.py); the two pickles are not
 * interchangeable.
 *
 * _restore validates everything it is given (a pickle may be crafted): the type, every
 * config value, each entry's size against maxsize and the running total, frequencies and
 * deadlines, duplicates. Whatever it accepts passes _check().
 *
 * A restore runs user code: each key's __hash__ and, in its lookup, the __eq__ of keys it
 * collides with. What that code does to the cache stands, and the cache stays within
 * maxsize whatever it wrote: an entry's room is checked after its lookup (the running total
 * above checks the state alone) and made, with no Python code in between, by evicting the
 * policy's own victims (victim(): never RR's choice or a popitem() override), reported to the
 * listener once all entries are in. An __init__ meanwhile stops the restore (RuntimeError;
 * the entries restored before it went with the __init__). The twin's __setstate__ does the
 * same (fastcache/_py/caches.py, whose removals run the victims' __hash__/__eq__: point 7
 * of its opening note).
 *
 * A timed cache whose times are datetimes pickles its deadlines as they are held
 * (microseconds from the origin, timed.c) with the origin itself (config "origin",
 * "time_mode").
 */
#include "core.h"

PyObject *
fc_cache_reduce(CacheObject *c, PyObject *unused)
{
    /* Take strong references to everything first (no Python code runs), then build. */
    Py_ssize_t n = c->t.len, k = 0;
    fc_removed *items = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(fc_removed));
    uint64_t *sched = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    if (items == NULL || sched == NULL) {
        PyMem_Free(items);
        PyMem_Free(sched);
        return PyErr_NoMemory();
    }
    FC_FOR_EACH_IN_ORDER(c, ix) {
        fc_removed *r = &items[k++];
        r->key = Py_NewRef(c->t.entries[ix].key);
        r->value = Py_NewRef(c->t.entries[ix].value);
        r->seq = (uint64_t)fc_entry_size(c, ix);
        r->deadline = c->policy == P_LFU ? (double)fc_lfu_freq(&c->lfu, ix)
                    : c->policy == P_SIEVE ? (double)fc_sieve_pickled_mark(c, ix)
                    : c->policy == P_S3FIFO ? (double)c->marks[ix]
                    : IS_TIMED(c) ? c->tnodes[ix].deadline : 0.0;
        sched[k - 1] = IS_TIMED(c) ? c->tnodes[ix].seq
                     : c->policy == P_WTLFU ? (uint64_t)fc_wtlfu_segment(c, ix) : 0;
    }
    PyObject *entries = PyList_New(n), *result = NULL;
    for (Py_ssize_t i = 0; entries != NULL && i < n; i++) {
        fc_removed *r = &items[i];
        PyObject *item;
        if (c->policy == P_LFU || HAS_MARKS(c))
            item = Py_BuildValue("(OOnK)", r->key, r->value, (Py_ssize_t)r->seq,
                                 (unsigned long long)r->deadline);
        else if (IS_TIMED(c))
            item = Py_BuildValue("(OOn(dK))", r->key, r->value, (Py_ssize_t)r->seq,
                                 r->deadline, (unsigned long long)sched[i]);
        else if (c->policy == P_WTLFU)  /* the entry's segment */
            item = Py_BuildValue("(OOnK)", r->key, r->value, (Py_ssize_t)r->seq,
                                 (unsigned long long)sched[i]);
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
    PyMem_Free(sched);
    if (entries == NULL)
        return NULL;
    PyObject *ms = fc_maxsize_obj(c), *config = NULL, *dict = NULL;
    if (ms == NULL)
        goto done;
    config = Py_BuildValue(
        "{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:i,s:(KKKK),s:d,s:L,s:i,s:i,s:O}",
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
        "started", c->wheel ? c->wheel->started : 0,
        "time_mode", c->time_mode,
        "origin", c->time_origin ? c->time_origin : Py_None);
    if (config == NULL)
        goto done;
    if (c->policy == P_S3FIFO) {
        PyObject *more = fc_s3_config(c);
        int r = more == NULL ? -1 : PyDict_Update(config, more);
        Py_XDECREF(more);
        if (r < 0)
            goto done;
    }
    if (c->policy == P_WTLFU) {  /* the sketch, the window, the climber, the random stream */
        PyObject *st = fc_wtlfu_state(c);
        if (st == NULL || PyDict_SetItemString(config, "wtinylfu", st) < 0) {
            Py_XDECREF(st);
            goto done;
        }
        Py_DECREF(st);
    }
    dict = PyObject_GenericGetDict((PyObject *)c, NULL);
    if (dict == NULL) {
        PyErr_Clear();
        dict = Py_NewRef(Py_None);
    }
    else if (PyDict_GET_SIZE(dict) == 0) {
        Py_SETREF(dict, Py_NewRef(Py_None));
    }
    result = Py_BuildValue("O(OO)(OO)", c->st->restore_func, (PyObject *)Py_TYPE(c), config,
                           entries, dict);
done:
    Py_XDECREF(ms);
    Py_XDECREF(config);
    Py_XDECREF(dict);
    Py_DECREF(entries);
    return result;
}

static int
bad_state(const char *what)
{
    PyErr_Format(PyExc_ValueError, "invalid cache state: %s", what);
    return -1;
}

/* config[name] (borrowed; None when absent). */
static PyObject *
cfg_get(PyObject *config, const char *name)
{
    PyObject *o = PyDict_GetItemString(config, name);
    return o != NULL ? o : Py_None;
}

static int
restore_config(CacheObject *c, PyObject *config)
{
#define CFG(name) cfg_get(config, name)
    int stats = PyObject_IsTrue(CFG("stats"));
    if (stats < 0)
        return -1;
    double tick = 0;
    if (IS_TIMED(c)) {
        if (!PyFloat_Check(CFG("tick")))
            return bad_state("tick");
        tick = PyFloat_AS_DOUBLE(CFG("tick"));
        if (!(tick >= 0) || !isfinite(tick))
            return bad_state("tick");
    }
    if (fc_configure(c, CFG("maxsize"), CFG("getsizeof"), CFG("on_evict"), stats,
                     IS_TIMED(c) ? tick : -1) < 0)
        return -1;
    if (c->policy == P_RR) {
        PyObject *choice = CFG("choice") != Py_None ? CFG("choice") : c->st->random_choice;
        if (fc_rr_set_choice(c, choice) < 0)
            return -1;
    }
    if (c->policy == P_TLRU && fc_set_callable(&c->ttu, CFG("ttu"), "ttu", 0) < 0)
        return -1;
    if (c->policy == P_S3FIFO && fc_s3_restore_config(c, config) < 0)
        return -1;
    if (IS_TIMED(c)) {
        /* the times' kind: a TTLCache's ttl says it; a TLRUCache's is pickled (absent from
           earlier versions' pickles: numbers), with the datetime origin */
        int mode = TM_NUMBER;
        if (c->policy == P_TTL) {
            if (fc_parse_cache_ttl(CFG("ttl"), &c->ttl, &mode) < 0)
                return -1;
            Py_XSETREF(c->ttl_obj, Py_NewRef(CFG("ttl")));
        }
        else if (CFG("time_mode") != Py_None) {
            if (!PyLong_Check(CFG("time_mode")))
                return bad_state("time_mode");
            long m = PyLong_AsLong(CFG("time_mode"));
            if (m != TM_NUMBER && m != TM_UNDECIDED && m != TM_DATETIME)
                return PyErr_Occurred() ? -1 : bad_state("time_mode");
            mode = (int)m;
        }
        if (!fc_check_time_origin(mode, CFG("origin")))
            return PyErr_Occurred() ? -1 : bad_state("time origin");
        c->time_mode = mode;
        Py_XSETREF(c->time_origin, CFG("origin") == Py_None ? NULL : Py_NewRef(CFG("origin")));
        if (fc_set_timer(c, CFG("timer")) < 0)
            return -1;
        if (!PyLong_Check(CFG("now")))
            return bad_state("now");
        long long now = PyLong_AsLongLong(CFG("now"));
        if (now == -1 && PyErr_Occurred())
            return -1;
        int started = PyObject_IsTrue(CFG("started"));
        if (started < 0)
            return -1;
        if (started && !(tick > 0))
            return bad_state("tick");
        fc_wheel_set_clock(c->wheel, now, started);
    }
    if (c->policy == P_WTLFU && fc_wtlfu_restore_config(c, CFG("wtinylfu")) < 0)
        return -1;
    PyObject *counters = CFG("counters");
    if (!PyTuple_Check(counters) ||
        !PyArg_ParseTuple(counters, "KKKK", &c->hits, &c->misses, &c->evictions,
                          &c->expirations))
        return PyErr_Occurred() ? -1 : bad_state("counters");
#undef CFG
    return 0;
}

/* One (key, value, size, extra) entry, appended in order. `total`: the sizes of the state's
 * entries so far (checked apart from what nested writes add); `generation`: the cache's when
 * the restore began; evictions go to `p`. */
static int
restore_entry(CacheObject *c, PyObject *item, Py_ssize_t *total, uint64_t generation,
              fc_pending *p)
{
    PyObject *key, *value, *extra;
    Py_ssize_t size;
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 4)
        return bad_state("an entry is not a (key, value, size, extra) tuple");
    if (!PyArg_ParseTuple(item, "OOnO", &key, &value, &size, &extra))
        return -1;
    if (size < 0 || (!c->sized && size != 1))
        return bad_state("entry size");
    if (!c->unbounded && size > c->maxsize - *total)
        return bad_state("entries larger than maxsize");
    if (c->unbounded && size > PY_SSIZE_T_MAX - *total)
        return bad_state("entry sizes overflow");
    *total += size;
    uint64_t freq = 1, seq = 0;
    int has_seq = 0;
    double deadline = INFINITY;
    if (c->policy == P_LFU) {
        if (!PyLong_Check(extra))
            return bad_state("LFU frequency");
        freq = PyLong_AsUnsignedLongLong(extra);
        if (PyErr_Occurred())
            return -1;
        if (freq < 1)
            return bad_state("LFU frequency");
    }
    else if (HAS_MARKS(c)) {
        uint64_t valid = c->policy == P_SIEVE ? FC_SIEVE_VISITED | FC_SIEVE_HAND
                                              : FC_S3_FREQ | FC_S3_MAIN;
        if (!PyLong_Check(extra))
            return bad_state("entry mark");
        freq = PyLong_AsUnsignedLongLong(extra);
        if (PyErr_Occurred())
            return -1;
        if (freq & ~valid)
            return bad_state("entry mark");
        if (c->policy == P_SIEVE && (freq & FC_SIEVE_HAND) && c->sieve.hand != FC_NIL)
            return bad_state("two SIEVE hands");
        if (c->policy == P_S3FIFO)
            freq |= FC_S3_PLACED;
    }
    else if (IS_TIMED(c)) {
        PyObject *d = extra;
        if (PyTuple_Check(extra)) {  /* (deadline, scheduling order) */
            if (PyTuple_GET_SIZE(extra) != 2 || !PyLong_Check(PyTuple_GET_ITEM(extra, 1)))
                return bad_state("deadline");
            d = PyTuple_GET_ITEM(extra, 0);
            seq = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(extra, 1));
            if (PyErr_Occurred())
                return -1;
            if (seq >= UINT64_MAX / 2)
                return bad_state("deadline");
            has_seq = 1;
        }
        if (!PyFloat_Check(d) || isnan(PyFloat_AS_DOUBLE(d)))
            return bad_state("deadline");
        deadline = PyFloat_AS_DOUBLE(d);
    }
    else if (c->policy == P_WTLFU) {
        if (!PyLong_Check(extra))
            return bad_state("W-TinyLFU segment");
    }
    else if (extra != Py_None) {
        return bad_state("entry extra");
    }
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1)
        return -1;
    fc_idx ix = fc_lookup(&c->t, key, hash);
    if (ix == FC_ERROR)
        return -1;
    /* From here on no Python code runs. What the key's __eq__ did meanwhile stands: the room
     * is checked now, and made by evicting the policy's own victims. */
    if (c->generation != generation) {
        PyErr_SetString(PyExc_RuntimeError, "cache re-initialised during __setstate__");
        return -1;
    }
    if (ix >= 0)
        return bad_state("duplicate key");
    if (c->unbounded && size > PY_SSIZE_T_MAX - c->currsize) {
        PyErr_SetString(PyExc_OverflowError, "cache size overflow");
        return -1;
    }
    fc_make_room(c, size, FC_NIL, p);
    ix = fc_entry_alloc(c);
    if (ix == FC_ERROR)
        return -1;
    fc_entry *e = &c->t.entries[ix];
    e->hash = hash;
    e->key = Py_NewRef(key);
    e->value = Py_NewRef(value);
    /* a wheel not started (a crafted state, or emptied by __setstate__) starts at the first
       deadline, at 0 for an entry that never expires (a wheel started at an infinite time
       has no epoch: its tick numbers overflow) */
    fc_entry_link(c, ix, size, freq, deadline, isfinite(deadline) ? deadline : 0.0);
    if (c->policy == P_WTLFU && fc_wtlfu_place(c, ix, extra) < 0)
        return -1;
    if (has_seq) {  /* scheduled again in its pickled order (ties of equal deadlines) */
        fc_wheel_unlink(c->wheel, c->tnodes, ix);
        c->tnodes[ix].seq = seq;
        fc_wheel_schedule(c->wheel, c->tnodes, ix);
        if (c->seq <= seq)
            c->seq = seq + 1;
    }
    return 0;
}

/* Load (key, value, size, extra) entries into c, each validated. */
static int
restore_entries(CacheObject *c, PyObject *entries)
{
    if (!PyList_Check(entries))
        return bad_state("entries must be a list");
    Py_INCREF(entries);
    fc_pending p;
    fc_pending_init(&p);
    uint64_t generation = c->generation;
    Py_ssize_t total = 0;
    int r = 0;
    /* each entry is read anew: a key's __eq__ or __hash__ may change the list */
    for (Py_ssize_t i = 0; r == 0 && i < PyList_GET_SIZE(entries); i++) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(entries, i));
        r = restore_entry(c, item, &total, generation, &p);
        Py_DECREF(item);
    }
    Py_DECREF(entries);
    /* the listener hears the evictions (an error of the restore's own wins) */
    if (fc_pending_finish(&p, c->on_evict) < 0)
        r = -1;
    return r;
}

/* __setstate__((entries, instance dict or None)), or the instance dict alone (pickles of
 * earlier versions): the cache is emptied first, every entry validated. */
PyObject *
fc_cache_setstate(CacheObject *c, PyObject *state)
{
    PyObject *entries = NULL, *dict = state;
    if (PyTuple_Check(state)) {
        if (PyTuple_GET_SIZE(state) != 2) {
            bad_state("state must be (entries, dict)");
            return NULL;
        }
        entries = PyTuple_GET_ITEM(state, 0);
        dict = PyTuple_GET_ITEM(state, 1);
    }
    if (dict != Py_None && !PyDict_Check(dict)) {
        bad_state("the instance dict");
        return NULL;
    }
    Py_INCREF(state);
    int r = 0;
    if (dict != Py_None && PyDict_GET_SIZE(dict) > 0) {
        PyObject *own = PyObject_GenericGetDict((PyObject *)c, NULL);
        r = own == NULL ? -1 : PyDict_Update(own, dict);
        Py_XDECREF(own);
    }
    if (r == 0 && entries != NULL) {
        /* the wheel's clock, as _restore's config set it, outlives the emptying */
        int64_t now = c->wheel ? c->wheel->now : 0;
        int started = c->wheel ? c->wheel->started : 0;
        /* so does S3-FIFO's history (its ghost) */
        fc_ghost ghost;
        int has_evicted = c->s3.has_evicted;
        fc_s3_ghost_move(&ghost, &c->s3.ghost);
        fc_clear_all(c);
        if (c->wheel != NULL)
            fc_wheel_set_clock(c->wheel, now, started);
        if (c->policy == P_S3FIFO) {
            fc_s3_ghost_move(&c->s3.ghost, &ghost);
            c->s3.has_evicted = has_evicted;
        }
        r = restore_entries(c, entries);
    }
    Py_DECREF(state);
    if (r < 0)
        return NULL;
    if (fc_cache_check(c) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *
fc_restore(PyObject *module, PyObject *args)
{
    PyTypeObject *type;
    PyObject *config, *entries = NULL;
    if (!PyArg_ParseTuple(args, "O!O!|O!:_restore", &PyType_Type, &type, &PyDict_Type, &config,
                          &PyList_Type, &entries))
        return NULL;
    fc_state *st = PyModule_GetState(module);
    if (!PyType_IsSubtype(type, st->CacheType)) {
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
    Py_INCREF(config);
    int r = restore_config(c, config);
    Py_DECREF(config);
    if (r < 0 || (entries != NULL && restore_entries(c, entries) < 0) || fc_cache_check(c) < 0) {
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
}
