/*
 * core.h: what the files of fastcache._core share: the cache object, the module's shared
 * objects, and the functions one file offers the others. Hot-path helpers are static inline
 * here (or in table.h, list.h, clock.h) so that the split into files costs nothing.
 *
 * The files, by structure (as CPython's Objects/):
 *   table.h/.c    the open-addressing table, its one growth mechanism
 *   list.h        the intrusive list operations
 *   pending.h/.c  the deferred-release list
 *   lfu.h/.c      the one LFU policy (cache classes and decorators)
 *   sieve.h/.c    SIEVECache's policy (one FIFO, visited bits, a hand)
 *   s3fifo.h/.c   S3FIFOCache's policy (small and main FIFOs, a ghost of hashes)
 *   wtinylfu.h/.c WTinyLFUCache's policy (W-TinyLFU, the simulator's, on sketch.h)
 *   clock.h/.c    the C clocks (POSIX, Windows)
 *   wheel.h/.c    the hierarchical timer wheel
 *   cache.c       the cache classes: mapping protocol, write path, the untimed policies
 *   timed.c       TTLCache and TLRUCache: timers, expiry, set/expire/remaining_ttl
 *   pickle.c      __reduce__ and _restore
 *   check.c       the consistency check (_check(), and after every operation under FC_DEBUG)
 *   wrapper.c     the decorators' call wrappers
 *   sketch.h, sim.c  the trace simulator: replacement policies run over a whole trace
 *                 in one call (fastcache.simulate), with their twin in _py/sim.py
 *   mini.h        the miniature simulations (shadows in sim.c) that configure W-TinyLFU:
 *                 the simulator's auto and WTinyLFUCache(adaptive=True)
 *   module.c      the module: multi-phase init, the types
 * Their twins in fastcache/_py/: caches.py (cache.c), lfu.py (lfu.c), sieve.py (sieve.c),
 * s3fifo.py (s3fifo.c), timed.py (timed.c, wheel.c), wrapper.py (wrapper.c).
 */
#ifndef FC_CORE_H
#define FC_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>

#include "table.h"
#include "list.h"
#include "lfu.h"
#include "sieve.h"
#include "s3fifo.h"
#include "wtinylfu.h"
#include "pending.h"
#include "clock.h"
#include "wheel.h"

#ifdef FC_DEBUG
#define FC_ASSERT_CONSISTENT(c) assert(fc_cache_check(c) == 0)
#else
#define FC_ASSERT_CONSISTENT(c) ((void)0)
#endif

enum { P_CACHE, P_FIFO, P_LRU, P_LFU, P_RR, P_TTL, P_TLRU, P_SIEVE, P_S3FIFO, P_WTLFU };

#define F_PY_EVICT   0x01  /* evict through self.popitem() (overridden, or RR with a custom choice) */
#define F_MISSING    0x02  /* __missing__ overridden */
#define F_SIZEOF     0x04  /* getsizeof overridden in a subclass */
#define F_CHOICE     0x08  /* RRCache with a choice other than random.choice: through popitem() */

#define TK_PYTHON    0
#define TK_MONOTONIC 1
#define TK_REALTIME  2

/* What a timed cache's times are (timed.c): real numbers, used as they are; or datetimes
 * (a TTLCache whose ttl is a timedelta, a TLRUCache whose timer returned one first), held as
 * microseconds from the first time the cache read (time_origin) so that the wheel and the
 * deadlines stay doubles. A TLRUCache with a Python timer is undecided until its first time. */
#define TM_NUMBER    0
#define TM_UNDECIDED 1
#define TM_DATETIME  2

/* The entry a write keeps from eviction while its popitem() call makes room (cache.c): one
 * per write in that call, on the write's C stack, the innermost first. A write nested in the
 * popitem() call protects its own entry; the outer write's is protected again after it. */
typedef struct fc_pin {
    fc_idx ix;                /* FC_NIL: none, or removed meanwhile */
    struct fc_pin *outer;
} fc_pin;

typedef struct {
    PyObject_HEAD
    fc_table t;
    struct fc_state *st;      /* its module's state (fc_state_of_type, once in tp_new) */
    int policy;
    unsigned flags;
    fc_list order;            /* eviction order: head goes first (LFU: lfu.h's groups) */
    fc_pin *pins;             /* the entries being replaced while popitem() makes room */
    uint64_t generation;      /* bumped by each (re)initialisation */
    Py_ssize_t maxsize;
    int unbounded;
    Py_ssize_t currsize;
    Py_ssize_t *sizes;        /* per entry, only when a getsizeof is in use */
    int sized;                /* a getsizeof is in use (sizes is allocated with the entries) */
    PyObject *getsizeof;      /* constructor argument, or NULL */
    PyObject *on_evict;
    PyObject *timer;
    PyObject *ttu;
    PyObject *choice;
    PyObject *ttl_obj;
    double ttl;
    int timer_kind;
    int time_mode;            /* TM_NUMBER, TM_UNDECIDED, TM_DATETIME */
    PyObject *time_origin;    /* TM_DATETIME: the first time read (times are microseconds
                                 from it), or NULL until then */
    fc_lfu lfu;               /* LFU */
    uint8_t *marks;           /* per entry (SIEVE: visited bit; S3-FIFO: frequency, queue) */
    fc_sieve sieve;           /* SIEVE */
    fc_s3 s3;                 /* S3-FIFO */
    fc_wtlfu *wt;             /* WTinyLFUCache (wtinylfu.c), else NULL */
    /* TTL, TLRU */
    fc_tnode *tnodes;
    fc_wheel *wheel;
    uint64_t seq;
    /* counters */
    int stats;
    unsigned long long hits, misses, evictions, expirations;
    uint64_t rng;
    struct fc_timer_obj *tobj;  /* cache.timer (timed.c), made at its first read, or NULL */
} CacheObject;

/* cachetools' _TimedCache._Timer (timed.c): calls `timer`, or inside `with t:` (nested)
   returns the time read on entering; a cache reads its time through it. */
typedef struct fc_timer_obj {
    PyObject_HEAD
    PyObject *timer;
    PyObject *time;           /* the frozen time while nesting > 0 */
    Py_ssize_t nesting;
} fc_TimerObject;
extern PyType_Spec fc_TimerSpec;

#define IS_TIMED(c) ((c)->policy == P_TTL || (c)->policy == P_TLRU)

/* The module's state (module.c, PEP 573): its types and the objects its code shares, one
 * per module object (so per interpreter). Listed once here: the struct, the module's
 * traverse and clear, and the types' creation all expand these lists. */
#define FC_STATE_CACHE_TYPES(X) \
    X(LRUCacheType) X(LFUCacheType) X(FIFOCacheType) X(RRCacheType) X(TTLCacheType) \
    X(TLRUCacheType) X(SIEVECacheType) X(S3FIFOCacheType) X(WTinyLFUCacheType)
#define FC_STATE_TYPES(X) \
    X(CacheType) FC_STATE_CACHE_TYPES(X) X(KeyIterType) X(TimerType) X(WrapperType) \
    X(MappingType)
#define FC_STATE_OBJECTS(X) \
    X(str_evicted) X(str_expired) X(str_replaced) X(str_deleted) X(str_missing) \
    X(str_popitem) X(str_getsizeof) X(time_monotonic) X(time_time) X(random_choice) \
    X(CacheStatsType) X(base_popitem) X(base_missing) X(base_getsizeof) X(restore_func) \
    /* wrapper.c */ \
    X(kwd_mark) X(event_type) X(str_enter) X(str_exit) X(str_setdefault) X(str_clear)

typedef struct fc_state {
#define FC_TYPE_FIELD(name) PyTypeObject *name;
#define FC_OBJECT_FIELD(name) PyObject *name;
    FC_STATE_TYPES(FC_TYPE_FIELD)
    FC_STATE_OBJECTS(FC_OBJECT_FIELD)
#undef FC_TYPE_FIELD
#undef FC_OBJECT_FIELD
} fc_state;

/* The state of the module that made `type` (or one of its bases); NULL with an exception set
 * if none did. Once per object (tp_new): an object keeps the pointer, valid as long as the
 * object lives (it holds its type, which holds the module). */
fc_state *fc_state_of_type(PyTypeObject *type);

/* The last step of the dealloc of an object of this module's types (heap types; a Python
 * subclass's base is one too): free the object, then release the type it held. */
static inline void
fc_free_object(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    tp->tp_free(o);
    Py_DECREF(tp);
}

/* module.c: module.name (a new reference, or NULL with the import's exception set), and a
 * heap type of this module from spec (base may be NULL). */
PyObject *fc_import_attr(const char *module, const char *name);
PyTypeObject *fc_new_type(PyObject *m, PyType_Spec *spec, PyTypeObject *base);

#define HAS_MARKS(c) ((c)->policy == P_SIEVE || (c)->policy == P_S3FIFO)

/* cache.c */
const char *fc_type_name(PyTypeObject *tp);
int fc_check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi);
void fc_set_key_error(PyObject *key);
int fc_set_callable(PyObject **slot, PyObject *obj, const char *name, int allow_none);
int fc_configure(CacheObject *c, PyObject *maxsize, PyObject *getsizeof, PyObject *on_evict,
                 int stats, double tick);
int fc_parse_args(const char *defname, PyObject *args, PyObject *kwds, const char *const *names,
                  int npos, int nrequired, PyObject **out);
int fc_rr_set_choice(CacheObject *c, PyObject *choice);
void fc_clear_all(CacheObject *c);
int fc_cache_resize(void *owner, Py_ssize_t cap);  /* the entries' parallel arrays */
/* A free entry for a new key (grown if needed: up to maxsize for a bounded cache without
 * getsizeof); FC_ERROR with an exception set. Inline: it is on every insert's path. */
static inline fc_idx
fc_entry_alloc(CacheObject *c)
{
    Py_ssize_t limit = (!c->unbounded && !c->sized) ? c->maxsize : FC_MAX_ENTRIES;
    if (fc_table_reserve(&c->t, limit, fc_cache_resize, c) < 0)
        return FC_ERROR;
    return fc_entry_take(&c->t);
}
void fc_entry_link(CacheObject *c, fc_idx ix, Py_ssize_t size, uint64_t freq, double deadline,
                   double now);
void fc_entry_remove(CacheObject *c, fc_idx ix, fc_pending *p, PyObject *cause);
/* Evict the policy's own victims (never user code: RR's own PRNG, whatever its choice), never
 * `skip`, until `need` more fits or nothing else is left; they go to `p` (reported evicted). */
void fc_make_room(CacheObject *c, Py_ssize_t need, fc_idx skip, fc_pending *p);
int fc_cache_set(CacheObject *c, PyObject *key, PyObject *value, PyObject *ttl_arg);
fc_idx fc_find_live(CacheObject *c, PyObject *key, Py_hash_t *hash, fc_idx *expired,
                    double *now_out);
PyObject *fc_snapshot(CacheObject *c, int pairs, fc_idx skip);
PyObject *fc_maxsize_obj(CacheObject *c);
extern PyMethodDef fc_cache_methods[];
extern PyGetSetDef fc_cache_getset[];
extern PyMethodDef fc_lfu_methods[];
PyObject *fc_cache_new(PyTypeObject *type, PyObject *args, PyObject *kwds);
int fc_cache_init(CacheObject *c, PyObject *args, PyObject *kwds);
int fc_rr_init(CacheObject *c, PyObject *args, PyObject *kwds);
int fc_cache_traverse(CacheObject *c, visitproc visit, void *arg);
int fc_cache_gc_clear(CacheObject *c);
void fc_cache_dealloc(CacheObject *c);
PyObject *fc_cache_repr(CacheObject *c);
Py_ssize_t fc_cache_length(CacheObject *c);
PyObject *fc_cache_subscript(CacheObject *c, PyObject *key);
int fc_cache_ass_subscript(CacheObject *c, PyObject *key, PyObject *value);
int fc_cache_contains(CacheObject *c, PyObject *key);
PyObject *fc_cache_iter(CacheObject *c);
extern PyType_Spec fc_KeyIterSpec;
extern PyGetSetDef fc_rr_getset[];

/* timed.c */
int fc_read_time(CacheObject *c, double *out);
int fc_call_timer(PyObject *timer, double *out);
int fc_parse_ttl(PyObject *obj, double *out, const char *what);
int fc_parse_cache_ttl(PyObject *obj, double *out, int *mode);
int fc_check_time_origin(int mode, PyObject *origin);
int fc_set_timer(CacheObject *c, PyObject *timer);
int fc_timed_start(CacheObject *c);
int fc_timed_resize(CacheObject *c, Py_ssize_t cap);
void fc_expire_due(CacheObject *c, double now, fc_pending *p);
int fc_expire_now(CacheObject *c);
int fc_ttl_init(CacheObject *c, PyObject *args, PyObject *kwds);
int fc_tlru_init(CacheObject *c, PyObject *args, PyObject *kwds);
int fc_timed_deadline_call(CacheObject *c, PyObject *key, PyObject *value, PyObject *ttl_arg,
                           double *now, double *deadline);
extern PyMethodDef fc_ttl_methods[], fc_tlru_methods[];
extern PyGetSetDef fc_ttl_getset[], fc_tlru_getset[];

/* Whether entry ix is live. With time.monotonic as the timer the coarse clock settles entries
 * far from their deadline (clock.h); only a Python timer (which may run code) or a handed-out
 * cache.timer must be read before the lookup (fc_time_read_first), and then `now` holds that
 * reading. */
static inline int
fc_time_read_first(CacheObject *c)
{
    /* a Python timer, or a cache.timer handed out (it may freeze the time: `with t:`) */
    return c->timer_kind == TK_PYTHON || c->tobj != NULL;
}

/* Reclaim every entry due by `now`; they join `p` in (deadline, scheduling) order. Inline,
 * as it runs on every write and most reads: nothing due costs two comparisons. */
static inline void
fc_expire_until(CacheObject *c, double now, fc_pending *p)
{
    if (c->t.len == 0 || fc_wheel_idle(c->wheel, c->tnodes, now))
        return;
    fc_expire_due(c, now, p);
}

/* The time now and the deadline of (key, value) being written (cache.c's write path):
 * inline for a TTLCache on a C clock with its own ttl (nothing to call, nothing to parse),
 * fc_timed_deadline_call (timed.c) for the rest: a Python timer or cache.timer, a per-item
 * ttl, datetimes, TLRUCache's ttu. Runs Python code only there. */
static inline int
fc_timed_deadline(CacheObject *c, PyObject *key, PyObject *value, PyObject *ttl_arg,
                  double *now, double *deadline)
{
    if (c->policy == P_TTL && c->timer_kind != TK_PYTHON && c->tobj == NULL
            && c->time_mode == TM_NUMBER && (ttl_arg == NULL || ttl_arg == Py_None)) {
        *now = c->timer_kind == TK_MONOTONIC ? fc_clock_monotonic() : fc_clock_realtime();
        *deadline = *now + c->ttl;
        return 0;
    }
    return fc_timed_deadline_call(c, key, value, ttl_arg, now, deadline);
}

static inline int
fc_entry_live(CacheObject *c, fc_idx ix, double now)
{
    double d = c->tnodes[ix].deadline;
    if (fc_time_read_first(c))
        return now < d;
    if (c->timer_kind == TK_MONOTONIC)
        return fc_monotonic_before(d);
    return fc_clock_realtime() < d;
}

/* sieve.c */
void fc_sieve_enter(CacheObject *c, fc_idx ix, uint64_t mark);
void fc_sieve_leave(CacheObject *c, fc_idx ix);
fc_idx fc_sieve_victim(CacheObject *c, fc_idx skip);
uint64_t fc_sieve_pickled_mark(CacheObject *c, fc_idx ix);
int fc_sieve_check(CacheObject *c, const char **what);

/* s3fifo.c */
int fc_s3_init(CacheObject *c, PyObject *args, PyObject *kwds);
int fc_s3_set_fractions(CacheObject *c, PyObject *small, PyObject *ghost);
void fc_s3_reset(CacheObject *c);
uint64_t fc_s3_admit(CacheObject *c, Py_hash_t hash);
void fc_s3_enter(CacheObject *c, fc_idx ix, uint64_t mark, Py_ssize_t size);
void fc_s3_leave(CacheObject *c, fc_idx ix);
void fc_s3_resized(CacheObject *c, fc_idx ix, Py_ssize_t delta);
fc_idx fc_s3_victim(CacheObject *c, fc_idx skip);
int fc_s3_check(CacheObject *c, const char **what);
PyObject *fc_s3_config(CacheObject *c);
int fc_s3_restore_config(CacheObject *c, PyObject *config);
void fc_s3_ghost_move(fc_ghost *to, fc_ghost *from);
extern PyGetSetDef fc_s3_getset[];
/* wtinylfu.c */
int fc_wtlfu_new(CacheObject *c);
int fc_wtlfu_init(CacheObject *c, PyObject *args, PyObject *kwds);
int fc_wtlfu_resize(CacheObject *c, Py_ssize_t cap);
void fc_wtlfu_detach(CacheObject *c);
void fc_wtlfu_free(CacheObject *c);
void fc_wtlfu_enter(CacheObject *c, fc_idx ix);
void fc_wtlfu_leave(CacheObject *c, fc_idx ix);
void fc_wtlfu_record(CacheObject *c, Py_hash_t hash);
void fc_wtlfu_inserted(CacheObject *c, Py_hash_t hash);
void fc_wtlfu_reorder(CacheObject *c, fc_idx ix, Py_ssize_t old_size);
void fc_wtlfu_access(CacheObject *c, fc_idx ix);
fc_idx fc_wtlfu_victim(CacheObject *c, fc_idx skip);
PyObject *fc_wtlfu_state(CacheObject *c);
int fc_wtlfu_restore_config(CacheObject *c, PyObject *state);
int fc_wtlfu_place(CacheObject *c, fc_idx ix, PyObject *extra);
int fc_wtlfu_segment(CacheObject *c, fc_idx ix);
int fc_wtlfu_check(CacheObject *c, const char **what);

/* pickle.c */
PyObject *fc_cache_reduce(CacheObject *c, PyObject *unused);
PyObject *fc_restore(PyObject *module, PyObject *args);
PyObject *fc_cache_setstate(CacheObject *c, PyObject *state);

/* check.c */
int fc_cache_check(CacheObject *c);
PyObject *fc_cache_check_method(CacheObject *c, PyObject *unused);

/* wrapper.c: adds _lru_cache_wrapper and _cached_wrapper to the module (their types and
   objects in its state) */
int fc_wrapper_add(PyObject *module, fc_state *st);

/* sim.c: adds the trace simulator (sim_run, SIM_POLICIES) to the module */
int fc_sim_add(PyObject *module);

/* Visit live entries in eviction order (every policy, LFU included, keeps one list). */
#define FC_FOR_EACH_IN_ORDER(c, ix) \
    for (fc_idx ix = (c)->order.head; ix != FC_NIL; ix = (c)->t.entries[ix].next)

static inline Py_ssize_t
fc_entry_size(CacheObject *c, fc_idx ix)
{
    return c->sized ? c->sizes[ix] : 1;
}

#endif /* FC_CORE_H */
