/*
 * table.h: the storage of one cache, an open-addressing hash table whose slots are
 * indices into a dense array of entries carrying their own list links.
 *
 * Layout (per entry, beyond the key and value objects):
 *   Entry  {hash, key, value, prev, next}   32 bytes  (links are 32-bit entry indices)
 *   index  int32 per slot, `load` (2 or 3) slots per entry of capacity   8-24 bytes
 *          (the cache classes keep 2; the decorators' wrapper.c keeps 3: every miss into a
 *          full cache deletes and inserts, and at load 1/2 that costs ~13% more instructions
 *          for 4 more bytes per entry)
 * A dict of link nodes (functools, lru-dict) costs ~100 bytes; this costs ~40-48.
 *
 * Probing is linear over a power-of-two index, the home slot taken from the top bits of
 * hash * 2^64/phi (Fibonacci hashing), so that Python's identity hash of small ints and
 * hashes sharing low bits spread out. Deletion shifts later members of the probe run back
 * (no tombstones), so a cache with constant churn never degrades.
 *
 * Lookups: fc_lookup(key object), or fc_lookup_with() whose caller compares a stored key with
 * a key never built as an object (wrapper.c: a call's arguments).
 *
 * Reentrancy: comparing keys may run Python code (__eq__) that changes this very table,
 * and may release the GIL, letting other threads change it. Every structural change bumps
 * `version` (fc_table_changed); a lookup that sees the version change during a comparison
 * keeps a match whose entry still holds the key it compared (nothing it needs moved), and
 * otherwise starts again. The restart bound (RuntimeError "cache changed during lookup"
 * after FC_MAX_RESTARTS) counts only changes made by the comparison itself, on this thread
 * (a key whose __eq__ mutates the cache); changes by other threads restart it freely, as
 * dict's lookups: a busy cache never makes a lookup fail.
 */
#ifndef FC_TABLE_H
#define FC_TABLE_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef int32_t fc_idx;
#define FC_NIL ((fc_idx)-1)
#define FC_NOT_FOUND ((fc_idx)-1)
#define FC_ERROR ((fc_idx)-2)
#define FC_MAX_RESTARTS 100
#define FC_MAX_ENTRIES ((Py_ssize_t)0x3FFFFFFF)

/* Start loading the cache line at p (rw 1: to be written) while other work goes on: where a
 * path knows early an address it will read late (the policies' prefetches, cache.c). A helper
 * that only prefetches is declared FC_PREFETCH_HELPER: GCC takes a function whose one effect
 * is a prefetch for a pure one and deletes its calls, unless it is inlined first. */
#if defined(__GNUC__)
#define FC_PREFETCH(p, rw) __builtin_prefetch((p), (rw), 3)
#define FC_PREFETCH_HELPER static inline __attribute__((always_inline)) void
#else
#define FC_PREFETCH(p, rw) ((void)(p))
#define FC_PREFETCH_HELPER static inline void
#endif

/* Growth: fc_table_reserve() (inline check, table.c's fc_table_grow()) is the one growth
 * mechanism: capacity grows by half plus 8 up to a limit (maxsize for a bounded cache without getsizeof), every array parallel
 * to the entries grows in the owner's callback before the index, and nothing is raised
 * until all of them fit (the larger arrays are kept on failure). */

typedef struct {
    Py_hash_t hash;
    PyObject *key;   /* NULL marks a free entry (then `next` links the free list) */
    PyObject *value;
    fc_idx prev, next;
} fc_entry;

typedef struct {
    fc_entry *entries;
    fc_idx *index;          /* FC_NIL = empty slot */
    Py_ssize_t cap;         /* entries allocated */
    Py_ssize_t top;         /* entries[0:top] have been used at least once */
    Py_ssize_t len;         /* live entries */
    fc_idx free_head;       /* free list through entries[i].next */
    size_t mask;            /* index size - 1 */
    int shift;              /* 64 - log2(index size) */
    uint64_t version;       /* bumped on insert, delete, clear, resize (fc_table_changed) */
    uint64_t own_changes;   /* changes made while this thread compared keys of this table */
    Py_ssize_t comparing;   /* comparisons running for this table, on any thread (zeroed
                               with the owner, never reset: fc_table_init keeps it) */
    int load;               /* index slots per entry of capacity (2 or 3) */
} fc_table;

/* The table a comparison on this thread is running for (nested comparisons save and
 * restore it): changes to that table count as made by the comparison. */
#if defined(_MSC_VER)
extern __declspec(thread) void *fc_comparing;
#else
extern _Thread_local void *fc_comparing;
#endif

/* A structural change: insert, delete, clear, resize. The thread-local is read only while
 * a comparison runs for this table (reading it costs a call in a shared library). */
static inline void
fc_table_changed(fc_table *t)
{
    t->version++;
    if (t->comparing != 0 && fc_comparing == (void *)t)
        t->own_changes++;
}

/* Around a comparison that may run Python code: fc_compare_begin returns the table the
 * thread compared for before (restore it with fc_compare_end). */
static inline void *
fc_compare_begin(fc_table *t)
{
    void *outer = fc_comparing;
    fc_comparing = t;
    t->comparing++;
    return outer;
}

static inline void
fc_compare_end(fc_table *t, void *outer)
{
    t->comparing--;
    fc_comparing = outer;
}

/* An empty table (nothing allocated until the first insert). */
static inline void
fc_table_init(fc_table *t, int load)
{
    t->entries = NULL;
    t->index = NULL;        /* lookups find nothing without reading it */
    t->cap = t->top = t->len = 0;
    t->free_head = FC_NIL;
    t->mask = 0;
    t->shift = 63;
    fc_table_changed(t);
    t->load = load;
}

static inline size_t
fc_home(const fc_table *t, Py_hash_t hash)
{
    return (size_t)(((uint64_t)hash * 0x9E3779B97F4A7C15ULL) >> t->shift);
}

/* Compare a stored key with a probe key without running Python code when both are exact
 * str or int; returns 1/0, or -2 when the caller must use the generic comparison. */
static inline int
fc_fast_eq(PyObject *a, PyObject *b)
{
    if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(a);
        if (n != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
            return 0;
        return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b),
                      (size_t)n * PyUnicode_KIND(a)) == 0;
    }
    if (PyLong_CheckExact(a) && PyLong_CheckExact(b))
        return PyObject_RichCompareBool(a, b, Py_EQ);  /* int == int runs no Python code */
    return -2;
}

/* A lookup found the table changed by a key's __eq__: may it start again? 0 yes, -1 no
 * (RuntimeError set). */
static inline int
fc_restart(int *restarts)
{
    if (++*restarts > FC_MAX_RESTARTS) {
        PyErr_SetString(PyExc_RuntimeError, "cache changed during lookup");
        return -1;
    }
    return 0;
}

/* Compares a stored key with the key being looked up (which `ctx` describes): 1 equal,
 * 0 not, -1 error. May run Python code. */
typedef int (*fc_eq_fn)(const void *ctx, PyObject *stored);

/* Find the key hashing to `hash`; returns its entry index, FC_NOT_FOUND, or FC_ERROR with an
 * exception set. `probe`, when not NULL, is the key as an object: a stored key identical to
 * it matches, and exact str/int pairs are compared without Python code (fc_fast_eq).
 * Otherwise eq(ctx, stored) decides, and the lookup restarts if the table changed meanwhile.
 * Inlined so that a constant `eq` is called directly. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline fc_idx
fc_lookup_with(fc_table *t, Py_hash_t hash, PyObject *probe, fc_eq_fn eq, const void *ctx)
{
    int restarts = 0;
restart:
    if (t->index == NULL)
        return FC_NOT_FOUND;
    size_t i = fc_home(t, hash);
    for (;;) {
        fc_idx ix = t->index[i];
        if (ix == FC_NIL)
            return FC_NOT_FOUND;
        fc_entry *e = &t->entries[ix];
        if (e->key == probe)  /* indexed keys are never NULL: a NULL probe never matches */
            return ix;
        if (e->hash == hash) {
            int cmp = probe != NULL ? fc_fast_eq(e->key, probe) : -2;
            if (cmp == -2) {
                PyObject *start = e->key;
                uint64_t version = t->version, own = t->own_changes;
                Py_INCREF(start);
                void *outer = fc_compare_begin(t);
                cmp = eq(ctx, start);
                fc_compare_end(t, outer);
                if (cmp < 0) {
                    Py_DECREF(start);
                    return FC_ERROR;
                }
                if (version != t->version) {  /* every change of a key bumps it */
                    /* a match stands if its entry still holds the key compared */
                    int kept = cmp > 0 && ix < t->top && t->entries[ix].key == start;
                    Py_DECREF(start);
                    if (kept)
                        return ix;
                    if (own != t->own_changes && fc_restart(&restarts) < 0)
                        return FC_ERROR;
                    goto restart;
                }
                Py_DECREF(start);
            }
            else if (cmp < 0) {
                return FC_ERROR;
            }
            if (cmp)
                return ix;
        }
        i = (i + 1) & t->mask;
    }
}

static inline int
fc_eq_object(const void *key, PyObject *stored)
{
    return PyObject_RichCompareBool(stored, (PyObject *)key, Py_EQ);
}

/* Find `key`; returns its entry index, FC_NOT_FOUND, or FC_ERROR with an exception set. */
static inline fc_idx
fc_lookup(fc_table *t, PyObject *key, Py_hash_t hash)
{
    return fc_lookup_with(t, hash, key, fc_eq_object, key);
}

/* The index slot that holds entry `ix` (which must be present). */
static inline size_t
fc_slot_of(const fc_table *t, fc_idx ix)
{
    size_t i = fc_home(t, t->entries[ix].hash);
    while (t->index[i] != ix)
        i = (i + 1) & t->mask;
    return i;
}

/* Take a free entry (the table must have room: fc_table_reserve). */
static inline fc_idx
fc_entry_take(fc_table *t)
{
    if (t->free_head != FC_NIL) {
        fc_idx ix = t->free_head;
        t->free_head = t->entries[ix].next;
        return ix;
    }
    return (fc_idx)t->top++;
}

/* Give entry ix (already out of the index and the lists) back to the free list. */
static inline void
fc_entry_free(fc_table *t, fc_idx ix)
{
    fc_entry *e = &t->entries[ix];
    e->key = e->value = NULL;
    e->next = t->free_head;
    t->free_head = ix;
    t->len--;
    fc_table_changed(t);
}

/* Put entry `ix` into the index (its hash set; the index has a free slot). */
static inline void
fc_index_put(fc_table *t, fc_idx ix)
{
    size_t i = fc_home(t, t->entries[ix].hash);
    while (t->index[i] != FC_NIL)
        i = (i + 1) & t->mask;
    t->index[i] = ix;
}

/* Backward-shift deletion in linear probing (this index's, the S3-FIFO ghost's, the
 * simulator's table): slot i has emptied; the member at slot j (later in the same run),
 * whose home slot is k, stays where it is if k lies cyclically in (i, j]; otherwise it moves
 * back to i. */
static inline int
fc_probe_stays(size_t i, size_t j, size_t k)
{
    return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/* Remove entry `ix` from the index, shifting later members of its probe run back. */
static inline void
fc_index_remove(fc_table *t, fc_idx ix)
{
    size_t i = fc_slot_of(t, ix), j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        fc_idx jx = t->index[j];
        if (jx == FC_NIL)
            break;
        if (fc_probe_stays(i, j, fc_home(t, t->entries[jx].hash)))
            continue;
        t->index[i] = jx;
        i = j;
    }
    t->index[i] = FC_NIL;
}

/* Grows the arrays parallel to the entries to `cap` (the old contents kept); 0 or -1 with
 * MemoryError set. */
typedef int (*fc_resize_fn)(void *owner, Py_ssize_t cap);

/* Room for one more entry: fc_table_reserve() grows the entries, the owner's parallel arrays
 * (resize, may be NULL) and the index (fc_table_grow(), table.c) when the free list is empty
 * and every entry is in use. `limit` caps the capacity (it is exceeded by one only when the
 * table is full at the limit). 0, or -1 with OverflowError/MemoryError set and the table
 * unchanged. */
int fc_table_grow(fc_table *t, Py_ssize_t limit, fc_resize_fn resize, void *owner);

/* A free entry, or room below the capacity: the common case, taken without growing. */
static inline int
fc_table_has_room(const fc_table *t)
{
    return t->free_head != FC_NIL || t->top < t->cap;
}

static inline int
fc_table_reserve(fc_table *t, Py_ssize_t limit, fc_resize_fn resize, void *owner)
{
    return fc_table_has_room(t) ? 0 : fc_table_grow(t, limit, resize, owner);
}

/* Detach everything: the table is empty and consistent afterwards; returns the old entries
 * array (and its `top`) for the caller to release once its own structures are reset. */
fc_entry *fc_table_detach(fc_table *t, Py_ssize_t *top);
/* Release the keys and values of a detached entries array, then the array. */
void fc_entries_release(fc_entry *entries, Py_ssize_t top);

#endif /* FC_TABLE_H */
