/*
 * table.h: the storage of one cache, an open-addressing hash table whose slots are
 * indices into a dense array of entries carrying their own list links.
 *
 * Layout (per entry, beyond the key and value objects):
 *   Entry  {hash, key, value, prev, next}   32 bytes  (links are 32-bit entry indices)
 *   index  int32 per slot, >= 2 slots per entry capacity   8-16 bytes
 *          (the decorators' wrapper.c keeps >= 3: fc_index_build)
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
 * Reentrancy: comparing keys may run Python code (__eq__) that changes this very table.
 * Every structural change bumps `version`; a lookup that sees the version change during a
 * comparison starts again, and gives up with RuntimeError after FC_MAX_RESTARTS.
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

/* Each includer (_core.c, wrapper.c) uses a different part of this header. */
#if defined(__GNUC__)
#define FC_MAYBE_UNUSED __attribute__((unused))
#else
#define FC_MAYBE_UNUSED
#endif

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
    uint64_t version;       /* bumped on insert, delete, clear, resize */
} fc_table;

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
                uint64_t version = t->version;
                Py_INCREF(start);
                cmp = eq(ctx, start);
                Py_DECREF(start);
                if (cmp < 0)
                    return FC_ERROR;
                if (version != t->version) {  /* every change of a key bumps it */
                    if (fc_restart(&restarts) < 0)
                        return FC_ERROR;
                    goto restart;
                }
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
static FC_MAYBE_UNUSED fc_idx
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

static void
fc_index_put(fc_table *t, fc_idx ix)
{
    size_t i = fc_home(t, t->entries[ix].hash);
    while (t->index[i] != FC_NIL)
        i = (i + 1) & t->mask;
    t->index[i] = ix;
}

/* Remove entry `ix` from the index, shifting later members of its probe run back. */
static void
fc_index_remove(fc_table *t, fc_idx ix)
{
    size_t i = fc_slot_of(t, ix), j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        fc_idx jx = t->index[j];
        if (jx == FC_NIL)
            break;
        size_t k = fc_home(t, t->entries[jx].hash);
        /* keep jx where it is if its home k lies cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        t->index[i] = jx;
        i = j;
    }
    t->index[i] = FC_NIL;
}

/* Rebuild the index with `nslots` slots (a power of two >= 8 and > t->len). */
static int
fc_index_build(fc_table *t, size_t nslots)
{
    int bits = 0;
    while (((size_t)1 << bits) < nslots)
        bits++;
    fc_idx *index = PyMem_Malloc(nslots * sizeof(fc_idx));
    if (index == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(index, 0xff, nslots * sizeof(fc_idx));
    PyMem_Free(t->index);
    t->index = index;
    t->mask = nslots - 1;
    t->shift = 64 - bits;
    for (Py_ssize_t ix = 0; ix < t->top; ix++)
        if (t->entries[ix].key != NULL)
            fc_index_put(t, (fc_idx)ix);
    t->version++;
    return 0;
}

/* Rebuild the index for capacity `cap` entries (load factor <= 1/2). */
static FC_MAYBE_UNUSED int
fc_index_resize(fc_table *t, Py_ssize_t cap)
{
    size_t size = 8;
    while (size < (size_t)cap * 2)
        size <<= 1;
    return fc_index_build(t, size);
}

#endif /* FC_TABLE_H */
