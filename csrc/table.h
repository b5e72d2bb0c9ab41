/*
 * table.h: the storage of one cache, an open-addressing hash table whose slots are
 * indices into a dense array of entries carrying their own list links.
 *
 * Layout (per entry, beyond the key and value objects):
 *   Entry  {hash, key, value, prev, next}   32 bytes  (links are 32-bit entry indices)
 *   index  int32 per slot, >= 2 slots per entry capacity   8-16 bytes
 * A dict of link nodes (functools, lru-dict) costs ~100 bytes; this costs ~40-48.
 *
 * Probing is linear over a power-of-two index, the home slot taken from the top bits of
 * hash * 2^64/phi (Fibonacci hashing), so that Python's identity hash of small ints and
 * hashes sharing low bits spread out. Deletion shifts later members of the probe run back
 * (no tombstones), so a cache with constant churn never degrades.
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

/* Find `key`; returns its entry index, FC_NOT_FOUND, or FC_ERROR with an exception set. */
static fc_idx
fc_lookup(fc_table *t, PyObject *key, Py_hash_t hash)
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
        if (e->key == key)
            return ix;
        if (e->hash == hash) {
            int cmp = fc_fast_eq(e->key, key);
            if (cmp == -2) {
                PyObject *start = e->key;
                uint64_t version = t->version;
                Py_INCREF(start);
                cmp = PyObject_RichCompareBool(start, key, Py_EQ);
                Py_DECREF(start);
                if (cmp < 0)
                    return FC_ERROR;
                if (version != t->version || t->entries[ix].key != start) {
                    if (++restarts > FC_MAX_RESTARTS) {
                        PyErr_SetString(PyExc_RuntimeError, "cache changed during lookup");
                        return FC_ERROR;
                    }
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

/* Rebuild the index for capacity `cap` entries (load factor <= 1/2). */
static int
fc_index_resize(fc_table *t, Py_ssize_t cap)
{
    size_t size = 8;
    int bits = 3;
    while (size < (size_t)cap * 2) {
        size <<= 1;
        bits++;
    }
    fc_idx *index = PyMem_Malloc(size * sizeof(fc_idx));
    if (index == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(index, 0xff, size * sizeof(fc_idx));
    PyMem_Free(t->index);
    t->index = index;
    t->mask = size - 1;
    t->shift = 64 - bits;
    for (Py_ssize_t ix = 0; ix < t->top; ix++)
        if (t->entries[ix].key != NULL)
            fc_index_put(t, (fc_idx)ix);
    t->version++;
    return 0;
}

#endif /* FC_TABLE_H */
